"""The case service on a real database: drafts, resume, submit, withdraw, concurrency."""

from __future__ import annotations

import re

from intake import engine, lifecycle
from intake.app import App
from intake.cases import REF_PATTERN, CaseService
from tests.support import answer_for, fill_form


async def drive_to_review(cases: CaseService, channel: str, who: str) -> None:
    turn = await cases.resume(channel, who)
    while turn.prompt.kind != "review":
        turn = await cases.act(channel, who, answer_for(turn.prompt))
        assert turn.ok, turn.error


async def test_full_case_submitted(app: App) -> None:
    app.cases.alert_channels = ["staff_telegram", "staff_email"]  # as with a staff chat and INTAKE_STAFF_ALERT_EMAIL set
    await drive_to_review(app.cases, "terminal", "alice")
    turn = await app.cases.act("terminal", "alice", engine.Command("submit"))
    assert turn.submitted and turn.status == lifecycle.SUBMITTED
    assert turn.reference and re.fullmatch(REF_PATTERN, turn.reference)
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(turn.reference)
        assert case is not None and case.status == "submitted" and case.submitted_at is not None
        audit = [e.action for e in await uow.audit.for_case(case.id)]
        alerts = await uow.outbox.list(case_id=case.id)
    assert "case.submitted" in audit
    assert sorted((a.kind, a.channel) for a in alerts) == [("staff_alert", "staff_email"), ("staff_alert", "staff_telegram")]
    assert alerts[0].payload["reference"] == turn.reference
    assert "org_name" not in str(alerts[0].payload)
    # a new /start after submitting begins a fresh draft
    again = await app.cases.resume("terminal", "alice")
    assert again.reference != turn.reference and again.status == "draft"


async def test_no_alert_destination_queues_nothing(app: App) -> None:
    assert app.cases.alert_channels == []
    await drive_to_review(app.cases, "terminal", "bob")
    turn = await app.cases.act("terminal", "bob", engine.Command("submit"))
    async with app.store.read() as uow:
        assert [r.kind for r in await uow.outbox.list()] == []
    assert turn.submitted


async def test_bulk_answers_follow_conditions_and_instances(app: App) -> None:
    result = await fill_form(
        app, "email", "ngo@example.org",
        {
            "perpetrators.1.perp_dob": "1970",  # applies only once perpetrator 2 is a person
            "perpetrators.1.perp_kind": "1",
            "perpetrators.0.perp_name": "First",
            "perpetrators.1.perp_name": "Second",
            "org_country": "Narnia",
            "no_such.question": "x",
        },
    )
    answers = (await app.cases.current("email", "ngo@example.org"))
    assert answers is not None
    results = result.results
    assert results["perpetrators.1.perp_dob"] is None and results["perpetrators.0.perp_name"] is None
    assert results["org_country"] and "Narnia" in results["org_country"]
    assert results["no_such.question"] == "That question does not apply to this case."
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(result.reference or "")
    assert case is not None
    perps = case.draft["answers"]["perpetrators"]
    assert perps[1] == {"perp_kind": "person", "perp_name": "Second", "perp_dob": {"date": "1970", "approx": False}}
