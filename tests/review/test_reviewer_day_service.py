"""The reviewer's day below the browser: the audit read as sessions, quoted replies folded, the
picker's instance paths accepted and checked against the case's slots, the queue ordered by need,
stalled drafts for admins, and email notices to staff who opted in (reference only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from intake.app import App
from review import auditview
from review.auth import AuthService
from review.model import AccessRefused, ActionRefused, Actor, QueueFilter
from review.service import ReviewService
from review.thread import fold
from review.web import create_app
from tests.review.conftest import make_case
from tests.review.test_web import csrf_of, login
from tests.support import FixedClock, reply

SECOND = {"perp_kind": "person", "perp_name": "Omar Haddad", "perp_dob": {"date": "1980"}, "perp_role": ["direct"],
          "perp_role_detail": "Seen giving orders"}


async def with_two_perpetrators(app: App, ref: str) -> None:
    """Add a second alleged perpetrator to a submitted case's answers."""
    async with app.store.write() as uow:
        case = await uow.cases.by_reference(ref, lock=True)
        assert case is not None
        answers = dict(case.draft["answers"])
        answers["perpetrators"] = [*answers["perpetrators"], SECOND]
        case.draft = {**case.draft, "answers": answers}
        await uow.cases.save(case, now=app.clock())


def _events(start: datetime, n: int, step: timedelta) -> list[dict[str, Any]]:
    return [{"at": (start + i * step).isoformat(), "action": "draft.answered", "actor_kind": "submitter", "actor": "s1", "detail": None,
             "remote": None} for i in range(n)]


def test_answering_collapses_into_one_line_per_session() -> None:
    start = datetime(2026, 11, 2, 10, 2, tzinfo=UTC)
    events = _events(start, 42, timedelta(seconds=43))  # 10:02:00 … 10:31:23
    events.append({"at": (start + timedelta(minutes=30)).isoformat(), "action": "case.submitted", "actor_kind": "submitter",
                   "actor": "s1", "detail": None, "remote": None})
    events += _events(start + timedelta(hours=3), 2, timedelta(minutes=1))
    events.append({"at": (start + timedelta(hours=4)).isoformat(), "action": "case.claimed", "actor_kind": "staff", "actor": "alice@example.org",
                   "detail": {"from": "submitted", "to": "in_review"}, "remote": "127.0.0.1"})
    lines = auditview.lines(events, channel="telegram")
    assert [line["text"] for line in lines] == [
        "42 answers by Telegram, 2026-11-02 10:02–10:31", "case.submitted", "2 answers by Telegram, 2026-11-02 13:02–13:03", "case.claimed",
    ]
    assert [line["text"] for line in auditview.lines(events, channel="telegram", kind="staff")] == ["case.claimed"]
    assert len(auditview.lines(events, channel="telegram", kind="submitter")) == 3


def test_an_email_reply_shows_the_new_words_and_folds_the_quote() -> None:
    body = ("Yes, the supervisor is called Karim.\n\nOn Tue, 3 Nov 2026 at 09:00, Intake <intake@example.org> wrote:\n"
            "> What is their full name?\n> What is their date of birth?\n")
    parts = fold(body, email=True)
    assert parts.new == "Yes, the supervisor is called Karim."
    assert "What is their date of birth?" in parts.folded and parts.folded_lines == 3


def test_a_copy_of_our_own_form_is_folded_on_any_channel() -> None:
    ours = "Please answer these questions:\n1. Name\n2. Date of birth\n3. Nationality"
    parts = fold(f"Here you go\n{ours}\nthanks", ours=[ours], email=False)
    assert parts.new == "Here you go\n\nthanks" and parts.folded == ours


async def test_reopen_takes_instance_paths_checked_against_the_slots(app: App, review: ReviewService, alice: Actor) -> None:
    ref = await make_case(app, "telegram")
    await with_two_perpetrators(app, ref)
    view = await review.show(ref, alice)
    perps = next(s for s in view.picker if s["id"] == "perpetrators")
    second = next(g for g in perps["groups"] if g["instance"] == "Alleged perpetrator 2")
    assert "perpetrators.1.perp_dob" in [q["path"] for q in second["questions"]]
    with pytest.raises(ActionRefused, match="perpetrators.5.perp_dob"):
        await review.request_info(alice, ref, "Date of birth?", reopen=["perpetrators.5.perp_dob"])
    result = await review.request_info(alice, ref, "Date of birth?", reopen=["perpetrators.1.perp_dob", "evidence.0"])
    async with app.store.read() as uow:
        row = next(r for r in await uow.outbox.list(case_id=(await uow.cases.by_reference(ref)).id) if r.id == result.outbox_id)  # type: ignore[union-attr]
    assert row.channel == "telegram" and row.payload["reopen"] == ["perpetrators.1.perp_dob", "evidence.0"]
    assert (await review.show(ref, alice)).reopened == ["perpetrators.1.perp_dob", "evidence.0"]


async def test_evidence_files_sit_beside_their_item_numbered_from_one(app: App, review: ReviewService, alice: Actor) -> None:
    ref = await make_case(app, "terminal", who="ev", answers={"evidence.0.ev_url": "https://example.org/report"})
    await with_two_perpetrators(app, ref)
    async with app.store.write() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        for name in ("a.pdf", "b.pdf"):
            await uow.attachments.add(case_id=case.id, filename=name, data=b"%PDF-1.4 x", now=app.clock(), source="terminal",
                                      question_path="evidence.0.ev_file")
        await uow.attachments.add(case_id=case.id, filename="c.txt", data=b"x", now=app.clock(), source="terminal")
    view = await review.show(ref, alice)
    assert [f["label"] for f in view.evidence[0]["files"]] == ["Evidence item 1 · file 1", "Evidence item 1 · file 2"]
    assert view.evidence[0]["url"] == "https://example.org/report"
    assert [f["label"] for f in view.extra_files] == ["Extra file 1"]
    assert [c["name"] for c in view.perpetrators][1] == "Omar Haddad"


async def test_queue_puts_danger_then_new_replies_then_the_longest_waiting(app: App, review: ReviewService, alice: Actor,
                                                                         clock: FixedClock) -> None:
    old = await make_case(app, "terminal", who="old", answers={"immediate_danger": "no"})
    clock.advance(hours=1)
    replied = await make_case(app, "telegram", who="tg-1", answers={"immediate_danger": "no"})
    await review.request_info(alice, replied, "More?")
    clock.advance(hours=1)
    await reply(app, "telegram", "tg-1", "Here is more")
    clock.advance(hours=1)
    danger = await make_case(app, "terminal", who="danger", answers={"immediate_danger": "yes"})
    clock.advance(hours=1)
    newest = await make_case(app, "terminal", who="new", answers={"immediate_danger": "no"})
    page = await review.queue(QueueFilter(order="needs"), actor=alice)
    assert [i.reference for i in page.items] == [danger, replied, old, newest]
    first, second = page.items[0], page.items[1]
    assert first.danger is True and not first.new_reply and second.new_reply and second.danger is False
    assert page.items[2].age == "4 h" and second.last_activity == "2 h"
    assert [i.reference for i in (await review.queue(QueueFilter(), actor=alice)).items][0] == newest


async def test_stalled_drafts_are_for_admins_with_language_and_age(app: App, review: ReviewService, alice: Actor, admin: Actor,
                                                                 clock: FixedClock) -> None:
    await app.cases.resume("email", "arabic@example.org")  # a first contact: a draft, nothing answered
    clock.advance(hours=30)
    stalled = await review.stalled(admin)
    assert [(s["channel"], s["stage"], s["age"]) for s in stalled] == [("email", "first contact", "30 h")]
    assert stalled[0]["lang"]
    assert await review.stalled(admin, idle=timedelta(hours=31)) == []
    with pytest.raises(AccessRefused):
        await review.stalled(alice)


async def _notices(app: App) -> list[dict[str, Any]]:
    async with app.store.read() as uow:
        return [r.payload for r in await uow.outbox.list() if r.channel == "staff_email" and r.kind == "staff_notice"]


async def test_staff_who_opted_in_get_a_notice_with_the_reference_only(app: App, review: ReviewService, auth: AuthService,
                                                                      alice: Actor, bob: Actor, admin: Actor) -> None:
    ref = await make_case(app, "telegram", who="tg-n")
    await review.assign(admin, ref, bob.email)  # bob did not opt in
    assert await _notices(app) == []
    await review.unassign(admin, ref)
    await auth.set_notify_email(alice, True)
    await review.assign(admin, ref, alice.email)
    await review.request_info(alice, ref, "Which boat?")
    await reply(app, "telegram", "tg-n", "The Sea Star, registered in Panama")
    notices = sorted(await _notices(app), key=lambda n: n["kind"])
    assert notices == [{"to": "alice@example.org", "kind": "assigned", "reference": ref},
                       {"to": "alice@example.org", "kind": "reply", "reference": ref}]
    await auth.set_notify_email(alice, False)
    await reply(app, "telegram", "tg-n", "And the captain is Ivan")
    assert len(await _notices(app)) == 2


async def test_console_pages_for_stalled_drafts_notices_and_the_audit_filter(app: App, auth: AuthService, review: ReviewService,
                                                                             alice: Actor, admin: Actor, clock: FixedClock) -> None:
    ref = await make_case(app, "telegram", who="tg-web", answers={"case_title": "Boats off Zanzibar"})
    await app.cases.resume("email", "first@example.org")
    clock.advance(hours=25)
    web = create_app(app, review=review, auth=auth)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://testserver") as client:
        await login(client, "alice@example.org")
        assert (await client.get("/admin/stalled")).status_code == 403
        page = await client.get(f"/cases/{ref}?audit=staff")
        assert page.status_code == 200 and "case.viewed" in page.text and " by Telegram, " not in page.text
        assert " by Telegram, " in (await client.get(f"/cases/{ref}?audit=submitter")).text
        token = await csrf_of(client, "/account")
        done = await client.post("/account/notify", data={"csrf": token, "notify": "on"})
        assert done.status_code == 303
        assert 'name="notify" value="on" checked' in (await client.get("/account")).text
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://testserver") as client:
        await login(client, "root@example.org")
        page = await client.get("/admin/stalled")
        assert page.status_code == 200 and "first contact" in page.text and "25 h" in page.text
    async with app.store.read() as uow:
        staff = await uow.staff.by_email("alice@example.org")
        assert staff is not None and staff.notify_email
