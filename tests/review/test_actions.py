"""Every staff action in every lifecycle status, allowed and refused, on each database; the
audit trail; follow-ups into the case's own channel; concurrent claims."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from intake import lifecycle
from intake.app import App
from review.service import ActionRefused, Actor, Conflict, ReviewError, ReviewService
from tests.review.conftest import make_case
from tests.support import reply

STATES = ["draft", "submitted", "in_review", "needs_info", "accepted", "declined", "escalated", "closed", "withdrawn"]


async def case_in(app: App, review: ReviewService, alice: Actor, state: str) -> str:
    """A case brought to `state` through the real services (in_review: assigned to alice)."""
    who = f"state-{state}-{id(app)}"
    if state == "draft":
        turn = await app.cases.resume("terminal", who)
        assert turn.reference
        return turn.reference
    ref = await make_case(app, "terminal", who=who)
    if state in ("in_review", "accepted", "declined", "escalated", "closed"):
        await review.set_status(alice, ref, "in_review")
    if state == "needs_info":
        await review.request_info(alice, ref, "Which city?")
    if state in ("accepted", "declined", "escalated"):
        await review.decide(alice, ref, state, "because")
    if state == "closed":
        await review.decide(alice, ref, "accepted", "because")
        await review.close(alice, ref)
    if state == "withdrawn":
        assert await app.cases.withdraw("terminal", who, ref)
    return ref


async def snapshot(app: App, ref: str) -> tuple[str, str | None, list[str], int]:
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        actions = [e.action for e in await uow.audit.for_case(case.id)]
        outbox = await uow.outbox.list(case_id=case.id)
    return case.status, case.assigned_to, actions, len(outbox)


Act = Callable[[ReviewService, Actor, str], Awaitable[Any]]

ACTIONS: dict[str, tuple[Act, str, dict[str, str | Exception]]] = {
    # name: (call, audit action, {state: resulting status | exception type})
    "claim": (lambda r, a, ref: r.claim(a, ref), "case.claimed",
              {"submitted": "in_review", "needs_info": "needs_info", "in_review": Conflict("")}),
    "assign": (lambda r, a, ref: r.assign(a, ref, "alice@example.org"), "case.assigned",
               {"submitted": "in_review", "in_review": "in_review", "needs_info": "needs_info"}),
    "unassign": (lambda r, a, ref: r.unassign(a, ref), "case.unassigned", {"in_review": "submitted"}),
    "note": (lambda r, a, ref: r.note(a, ref, "internal"), "note.added",
             {s: s for s in STATES if s not in ("draft", "withdrawn")}),
    "request_info": (lambda r, a, ref: r.request_info(a, ref, "More please", reopen=["case_summary"]), "case.info_requested",
                     {"submitted": "needs_info", "in_review": "needs_info"}),
    "decide_accepted": (lambda r, a, ref: r.decide(a, ref, "accepted", "strong"), "case.decided", {"in_review": "accepted"}),
    "decide_declined": (lambda r, a, ref: r.decide(a, ref, "declined", "weak"), "case.decided", {"in_review": "declined"}),
    "decide_escalated": (lambda r, a, ref: r.decide(a, ref, "escalated", "recommend"), "case.decided", {"in_review": "escalated"}),
    "start_review": (lambda r, a, ref: r.set_status(a, ref, "in_review"), "case.status_changed",
                     {"submitted": "in_review", "needs_info": "in_review"}),
    "return_to_queue": (lambda r, a, ref: r.set_status(a, ref, "submitted"), "case.status_changed",
                        {"in_review": "submitted", "needs_info": "submitted"}),
    "close": (lambda r, a, ref: r.close(a, ref, message="Thank you, we decided."), "case.closed",
              {"accepted": "closed", "declined": "closed", "escalated": "closed"}),
}


@pytest.mark.parametrize("name", list(ACTIONS))
async def test_action_in_every_state(app: App, review: ReviewService, alice: Actor, admin: Actor, name: str) -> None:
    """An admin may act on any case (alice holds the ones in review); the lifecycle alone decides.
    Reviewers acting on each other's cases: tests/review/test_permissions.py."""
    call, audit_action, allowed = ACTIONS[name]
    for state in STATES:
        ref = await case_in(app, review, alice, state)
        before = await snapshot(app, ref)
        expected = allowed.get(state, ActionRefused(""))
        if isinstance(expected, Exception):
            with pytest.raises(type(expected)):
                await call(review, admin, ref)
            assert await snapshot(app, ref) == before, f"{name} in {state} changed something"
            continue
        result = await call(review, admin, ref)
        status, assigned, actions, outbox = await snapshot(app, ref)
        assert status == expected == result.status, (name, state)
        assert len(actions) == len(before[2]) + 1 and actions.count(audit_action) == before[2].count(audit_action) + 1, (name, state)
        async with app.store.read() as uow:
            case = await uow.cases.by_reference(ref)
            assert case is not None
            events = [e for e in await uow.audit.for_case(case.id) if e.action == audit_action and e.actor_id == admin.staff_id]
        assert len(events) == 1 and events[0].actor_kind == "staff" and events[0].remote == "127.0.0.1"
        if name == "claim":
            assert assigned == admin.staff_id
        if name == "unassign":
            assert assigned is None


async def test_refusals_leave_reasons(app: App, review: ReviewService, alice: Actor) -> None:
    ref = await make_case(app)
    await review.set_status(alice, ref, "in_review")
    with pytest.raises(ActionRefused, match="decision is one of"):
        await review.decide(alice, ref, "closed", "x")
    with pytest.raises(ActionRefused, match="reason is required"):
        await review.decide(alice, ref, "accepted", "  ")
    with pytest.raises(ActionRefused, match="unknown questions to reopen: nope"):
        await review.request_info(alice, ref, "More", reopen=["nope"])
    with pytest.raises(ActionRefused, match=r"unknown questions to reopen: perpetrators\.7\.perp_dob"):
        await review.request_info(alice, ref, "More", reopen=["perpetrators.7.perp_dob"])
    with pytest.raises(ActionRefused, match="dedicated action"):
        await review.set_status(alice, ref, "accepted")
    with pytest.raises(ActionRefused, match="no active staff"):
        await review.assign(alice, ref, "ghost@example.org")
    with pytest.raises(ReviewError, match="no case"):
        await review.claim(alice, "HT-0000-0000")


@pytest.mark.parametrize("channel", ["telegram", "email", "terminal"])
async def test_request_info_writes_outbox_for_the_case_channel(app: App, review: ReviewService, alice: Actor, channel: str) -> None:
    who = {"telegram": "4242", "email": "ngo@example.org", "terminal": "term"}[channel]
    ref = await make_case(app, channel, who=who)
    await review.claim(alice, ref)
    result = await review.request_info(alice, ref, "Please name the recruiter's agency.", reopen=["perp_name", "case_summary"])
    assert result.status == lifecycle.NEEDS_INFO and result.outbox_id
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        rows = [r for r in await uow.outbox.list(case_id=case.id) if r.kind == "followup"]
        thread = await uow.messages.for_case(case.id)
        audit = next(e for e in await uow.audit.for_case(case.id) if e.action == "case.info_requested")
    assert len(rows) == 1
    row = rows[0]
    assert (row.id, row.channel, row.submitter_id, row.status) == (result.outbox_id, channel, case.submitter_id, "pending")
    assert row.payload == {"text": "Please name the recruiter's agency.", "reference": ref, "reopen": ["perp_name", "case_summary"]}
    assert case.reopened == ["perp_name", "case_summary"]
    assert [(m.direction, m.kind, m.outbox_id, m.author_staff_id) for m in thread] == [("out", "followup", row.id, alice.staff_id)]
    assert "agency" not in str(audit.detail)
    # the submitter answers in their channel: the case returns to the queue
    back = await reply(app, channel, who, "It is called Acme Recruiting.")
    assert back.requeued and back.status == lifecycle.SUBMITTED


async def test_close_with_message_tells_the_submitter(app: App, review: ReviewService, alice: Actor) -> None:
    ref = await make_case(app, "email", who="ngo2@example.org")
    await review.claim(alice, ref)
    await review.decide(alice, ref, "escalated", "meets every element")
    result = await review.close(alice, ref, message="Your case is now part of a recommendation.")
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        rows = [r for r in await uow.outbox.list(case_id=case.id) if r.kind == "decision"]
    assert result.status == "closed" and case.decision == "escalated" and case.decision_reason == "meets every element"
    assert [(r.channel, r.payload["outcome"]) for r in rows] == [("email", "escalated")]


async def test_concurrent_claims_exactly_one_wins(app: App, review: ReviewService, alice: Actor, bob: Actor) -> None:
    refs = [await make_case(app) for _ in range(4)]
    for ref in refs:
        outcomes = await asyncio.gather(review.claim(alice, ref), review.claim(bob, ref), return_exceptions=True)
        wins = [o for o in outcomes if not isinstance(o, BaseException)]
        losses = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(wins) == 1 and len(losses) == 1, outcomes
        assert isinstance(losses[0], Conflict)
        status, assigned, actions, _ = await snapshot(app, ref)
        assert status == "in_review" and assigned == wins[0].assigned_to
        assert actions.count("case.claimed") == 1


async def test_views_and_downloads_are_audited(app: App, review: ReviewService, alice: Actor) -> None:
    who = "files-person"
    ref = await make_case(app, "terminal", who=who)
    async with app.store.write() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        att = await uow.attachments.add(case_id=case.id, filename="contract.pdf", data=b"%PDF-1.4 test", now=app.clock(), source="terminal")
    view = await review.show(ref, alice)
    assert view.attachments[0]["filename"] == "contract.pdf"
    record, data = await review.download(ref, att.id, alice)
    assert data == b"%PDF-1.4 test" and record.filename == "contract.pdf"
    await review.record_export(ref, alice, fmt="md")
    with pytest.raises(ReviewError):
        await review.download(ref, "0" * 32, alice)
    async with app.store.read() as uow:
        events = [(e.action, e.actor_id, e.remote, e.detail) for e in await uow.audit.for_case(att.case_id)]
    assert ("case.viewed", alice.staff_id, "127.0.0.1", {}) in events
    assert ("attachment.downloaded", alice.staff_id, "127.0.0.1", {"attachment": att.id, "copy": "original"}) in events
    assert ("case.exported", alice.staff_id, "127.0.0.1", {"format": "md"}) in events


async def test_case_view_has_triage_first_and_notes_apart(app: App, review: ReviewService, alice: Actor) -> None:
    ref = await make_case(app, answers={"victims_minors": "yes"})
    await review.note(alice, ref, "check the ILO indicators")
    view = await review.show(ref, alice)
    titles = [b["title"] for b in view.triage]
    assert titles[0] == "Abuse" and "Perpetrators" in titles and titles[-1].startswith("Go / no-go")
    labels = [a["path"] for b in view.triage for a in b["answers"]]
    assert "abuse_forms" in labels and "perpetrators.0.perp_name" in labels and "consent_status" in labels
    assert "Victims include minors." in view.warnings
    assert view.notes[0]["body"] == "check the ILO indicators" and view.notes[0]["author"] == "alice@example.org"
    assert view.thread == []
    assert "claim" in view.allowed and "decide" not in view.allowed
