"""A dossier is made to be sent on to governments: refused when the submitter did not allow that,
unless an admin overrides it with a reason (kept as an internal note, audited)."""

from __future__ import annotations

import pytest

from casework import dossier
from intake.app import App
from review.auth import AuthService
from tests.review.conftest import PASSWORD, make_case


async def test_a_refused_consent_blocks_the_export_until_an_admin_overrides(app: App, auth: AuthService) -> None:
    ref = await make_case(app, "terminal", who="no-consent", answers={"consent_status": "No"})
    reviewer = await auth.add_staff("rev@example.org", PASSWORD, "reviewer")
    admin = await auth.add_staff("root@example.org", PASSWORD, "admin")
    with pytest.raises(dossier.DossierError, match="did not agree"):
        await dossier.export(app, ref, fmt="ftm", actor_kind="staff", actor_id=reviewer.id, actor_name=reviewer.email)
    with pytest.raises(dossier.DossierError, match="Only an admin"):
        await dossier.export(app, ref, fmt="ftm", actor_kind="staff", actor_id=reviewer.id, actor_name=reviewer.email,
                             override_reason="the survivor agreed by phone")
    data = await dossier.export(app, ref, fmt="ftm", actor_kind="staff", actor_id=admin.id, actor_name=admin.email,
                                override_reason="the survivor agreed by phone on 3 May")
    assert data
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        events = [(e.action, e.actor_id) for e in await uow.audit.for_case(case.id)]
        notes = [m.body for m in await uow.messages.for_case(case.id) if m.direction == "note"]
    assert ("consent.overridden", admin.id) in events and ("case.exported", admin.id) in events
    assert ("case.exported", reviewer.id) not in events  # a refused export leaves no export event
    assert any("agreed by phone on 3 May" in n for n in notes)


async def test_consent_given_exports_without_override(app: App, auth: AuthService) -> None:
    ref = await make_case(app, "terminal", who="consent-ok", answers={"consent_status": "Yes, in writing"})
    reviewer = await auth.add_staff("rev2@example.org", PASSWORD, "reviewer")
    assert await dossier.export(app, ref, fmt="md", actor_kind="staff", actor_id=reviewer.id, actor_name=reviewer.email)
