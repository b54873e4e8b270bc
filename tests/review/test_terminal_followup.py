"""A follow-up asked of a terminal submitter is shown at their next `intake chat` and answered there."""

from __future__ import annotations

from intake.app import App
from intake.chat import run_chat
from review.service import Actor, ReviewService
from tests.review.conftest import make_case


async def test_terminal_followup_shown_answered_and_requeued(app: App, review: ReviewService, alice: Actor) -> None:
    ref = await make_case(app, "terminal", who="maria")
    await review.set_status(alice, ref, "in_review")
    await review.request_info(alice, ref, "Which port did the vessel leave from?")
    typed = iter(["It left from Port Example.", ".", "/quit"])
    shown: list[str] = []
    await run_chat(app, "maria", lambda _prompt: next(typed), shown.append)
    text = "\n".join(shown)
    assert "Which port did the vessel leave from?" in text and ref in text
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None and case.status == "submitted"
        thread = await uow.messages.for_case(case.id)
        sent = await uow.outbox.list(case_id=case.id)
    assert [m.body for m in thread if m.direction == "in"] == ["It left from Port Example."]
    assert [r.status for r in sent if r.kind == "followup"] == ["sent"]
    # answered: not asked again
    again: list[str] = []
    await run_chat(app, "maria", lambda _prompt: "/quit", again.append)
    assert "Which port" not in "\n".join(again)
