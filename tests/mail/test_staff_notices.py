"""Issue 15: a reviewer who opted in is told by email of a case assigned to them — through the
real sender and a capturing relay — with the reference and a console link, never case content."""

from __future__ import annotations

from intake.app import App
from review.auth import AuthService
from review.service import Actor, ReviewService
from tests.mail.conftest import Harness
from tests.review.conftest import PASSWORD, cheap_hasher, make_case


async def test_an_assignment_notice_reaches_the_reviewer_without_content(mail: Harness, app: App) -> None:
    auth = AuthService(app.store, clock=app.clock, hasher=cheap_hasher())
    admin = await auth.add_staff("lead@example.org", PASSWORD, "admin")
    reviewer = await auth.add_staff("rev@example.org", PASSWORD, "reviewer")
    review = ReviewService(app.store, app.questionnaire, clock=app.clock)
    await auth.set_notify_email(Actor(reviewer.id, reviewer.email, reviewer.role, "127.0.0.1"), True)
    ref = await make_case(app, "terminal", who="notice-case", answers={"org_name": "Secret Shelter Quokka"})
    await review.assign(Actor(admin.id, admin.email, admin.role, "127.0.0.1"), ref, reviewer.id)
    await mail.pump()
    notices = [m for m in mail.relay.messages if str(m["To"]) == "rev@example.org"]
    assert len(notices) == 1
    body = notices[0].get_content()
    assert ref in str(notices[0]["Subject"]) and "assigned to you" in str(notices[0]["Subject"])
    assert f"/cases/{ref}" in body and "Quokka" not in notices[0].as_string()
