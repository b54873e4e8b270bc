"""Casework in the queue and the case page: "closest to ready" orders by the designation
checklist, and the missing and weak elements become a follow-up request in one click."""

from __future__ import annotations

import httpx

from intake.app import App
from review.auth import AuthService
from review.service import QueueFilter, ReviewService
from review.web import create_app
from tests.casework.answers import STRONG, THIN
from tests.casework.conftest import add_case
from tests.review.conftest import PASSWORD


async def test_closest_to_ready_first(app: App, review: ReviewService) -> None:
    thin = await add_case(app, dict(THIN))
    strong = await add_case(app, dict(STRONG))
    ordered = [i.reference for i in (await review.queue(QueueFilter(order="ready"))).items]
    assert ordered.index(strong) < ordered.index(thin)


async def test_ask_for_the_missing_elements_in_one_click(app: App, auth: AuthService) -> None:
    ref = await add_case(app, dict(THIN), status="in_review")
    staff = await auth.add_staff("admin@example.org", PASSWORD, "admin")
    login = await auth.login(staff.email, PASSWORD, remote="127.0.0.1")
    web = create_app(app, auth=auth)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://testserver") as client:
        client.cookies.set("intake_session", login.token)
        page = (await client.get(f"/cases/{ref}")).text
        assert "Ask for the missing elements" in page and 'name="reopen" value="abuse_forms"' in page
        r = await client.post(f"/cases/{ref}/request-info", data={"csrf": login.csrf, "text": "Could you add these?", "reopen": ["abuse_forms", "means_used"]})
        assert r.status_code == 303, r.text[:500]
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None and case.status == "needs_info" and case.reopened == ["abuse_forms", "means_used"]
