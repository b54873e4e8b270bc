"""Who may act on which case: a claimed case is acted on only by its assignee or an admin; other
reviewers read it (and add notes only when INTAKE_REVIEWERS_MAY_NOTE_OTHERS is on); drafts are for
admins only. Every refusal is a 403 (a page in the console, JSON under /api) and an
`access.refused` audit event — through the service, the real ASGI app and the CLI, on each database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from typer.testing import CliRunner

from intake import app as core
from intake.app import App
from intake.cli import cli
from intake.settings import Settings
from review.auth import AuthService
from review.model import AccessRefused, Conflict, QueueFilter
from review.service import Actor, ReviewService
from review.web import create_app
from storage.models import AuditEvent
from tests.review.conftest import add_staff, make_case
from tests.review.test_web import csrf_of, login

FORMS = {  # action path → form fields
    "assign": {"staff": "bob@example.org"}, "unassign": {}, "note": {"text": "mine now"},
    "request-info": {"text": "Which port?"}, "decide": {"outcome": "accepted", "reason": "strong"},
    "status": {"status": "submitted"}, "close": {"message": "bye"},
}
BODIES = {"assign": {"staff": "bob@example.org"}, "unassign": None, "note": {"text": "mine now"}, "request-info": {"text": "Which port?"},
          "decide": {"outcome": "accepted", "reason": "strong"}, "status": {"status": "submitted"}, "close": {"message": "bye"}}


async def refusals(app: App, ref: str) -> list[tuple[str | None, dict[str, object]]]:
    """(actor id, detail) of the case's `access.refused` events."""
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        events = await uow.audit.for_case(case.id)
    return [(e.actor_id, e.detail) for e in events if e.action == "access.refused"]


async def state(app: App, ref: str) -> tuple[str, str | None, int, int]:
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        return case.status, case.assigned_to, len(await uow.messages.for_case(case.id)), len(await uow.outbox.list(case_id=case.id))


async def test_second_reviewer_refused_every_action(app: App, review: ReviewService, alice: Actor, bob: Actor, admin: Actor) -> None:
    ref = await make_case(app)
    await review.claim(alice, ref)
    before = await state(app, ref)
    calls = {
        "assign": lambda: review.assign(bob, ref, "bob@example.org"),
        "unassign": lambda: review.unassign(bob, ref),
        "note": lambda: review.note(bob, ref, "mine now"),
        "request_info": lambda: review.request_info(bob, ref, "Which port?"),
        "status": lambda: review.set_status(bob, ref, "submitted"),
        "decide": lambda: review.decide(bob, ref, "accepted", "strong"),
        "close": lambda: review.close(bob, ref, message="bye"),
    }
    for name, call in calls.items():
        with pytest.raises(AccessRefused, match="assigned to another staff member"):
            await call()
        assert await state(app, ref) == before, name
    with pytest.raises(Conflict):  # claiming a held case stays a conflict (409), as before
        await review.claim(bob, ref)
    events = await refusals(app, ref)
    assert sorted(d["action"] for _, d in events) == sorted(calls)  # type: ignore[type-var]
    assert all(actor == bob.staff_id and set(d) == {"action"} for actor, d in events)  # ids only, no content
    view = await review.show(ref, bob)  # reading is allowed, and offers nothing to do but nothing
    assert view.reference == ref and view.allowed == []
    assert "decide" not in view.allowed and (await review.show(ref, alice)).allowed
    # the assignee and an admin may act
    assert (await review.note(alice, ref, "mine")).status == "in_review"
    assert (await review.decide(admin, ref, "declined", "weak")).status == "declined"
    assert (await review.close(alice, ref)).status == "closed"


async def test_notes_by_others_follow_the_setting(app: App, review: ReviewService, alice: Actor, bob: Actor) -> None:
    ref = await make_case(app)
    await review.claim(alice, ref)
    with pytest.raises(AccessRefused):
        await review.note(bob, ref, "a second opinion")
    open_review = ReviewService(app.store, app.questionnaire, clock=app.clock, reviewers_may_note_others=True)
    await open_review.note(bob, ref, "a second opinion")
    assert "note" in (await open_review.show(ref, bob)).allowed
    with pytest.raises(AccessRefused):  # the setting opens notes only
        await open_review.request_info(bob, ref, "Which port?")
    assert [n["body"] for n in (await review.show(ref, alice)).notes] == ["a second opinion"]


async def test_drafts_are_for_admins(app: App, review: ReviewService, alice: Actor, admin: Actor) -> None:
    draft = (await app.cases.resume("terminal", "drafting-1")).reference
    assert draft
    submitted = await make_case(app)
    with pytest.raises(AccessRefused, match="only admins see drafts"):
        await review.show(draft, alice)
    with pytest.raises(AccessRefused):
        await review.queue(QueueFilter(statuses=["draft"]), actor=alice)
    with pytest.raises(AccessRefused):
        await review.note(alice, draft, "peek")
    page = await review.queue(actor=alice)
    assert [i.reference for i in page.items] == [submitted] and "draft" not in page.counts
    assert (await review.queue(QueueFilter(search=draft), actor=alice)).items == []  # search never finds a draft
    admin_page = await review.queue(QueueFilter(statuses=["draft"]), actor=admin)
    assert [i.reference for i in admin_page.items] == [draft] and admin_page.counts["draft"] == 1
    assert (await review.show(draft, admin)).status == "draft"
    assert sorted(str(d["action"]) for _, d in await refusals(app, draft)) == ["note", "view"]


@pytest.fixture
def web(app: App, auth: AuthService, review: ReviewService) -> FastAPI:
    return create_app(app, review=review, auth=auth)


@pytest.fixture
async def client(web: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://testserver") as c:
        yield c


async def test_console_and_api_refuse_with_403(app: App, client: httpx.AsyncClient, review: ReviewService, alice: Actor, bob: Actor,
                                               admin: Actor) -> None:
    ref = await make_case(app)
    await review.claim(alice, ref)
    before = await state(app, ref)
    await login(client, "bob@example.org")
    page = await client.get(f"/cases/{ref}")
    assert page.status_code == 200 and ref in page.text  # bob may read
    token = await csrf_of(client, f"/cases/{ref}")
    for action, fields in FORMS.items():
        r = await client.post(f"/cases/{ref}/{action}", data={"csrf": token, **fields})
        assert r.status_code == 403 and r.headers["content-type"].startswith("text/html"), action
        assert "assigned to another staff member" in r.text and "<html" in r.text
    headers = {"x-csrf-token": (await client.get("/api/session")).json()["csrf"]}
    for action, body in BODIES.items():
        r = await client.post(f"/api/cases/{ref}/{action}", headers=headers, json=body)
        assert r.status_code == 403 and "assigned to another staff member" in r.json()["detail"], action
    assert await state(app, ref) == before
    assert len(await refusals(app, ref)) == len(FORMS) + len(BODIES)
    # drafts: queue, search, API and case page
    draft = (await app.cases.resume("terminal", "drafting-2")).reference
    assert (await client.get("/api/queue", params={"status": "draft"})).status_code == 403
    r = await client.get("/", params={"status": "draft"})
    assert r.status_code == 403 and "only admins see drafts" in r.text
    assert (await client.get(f"/api/cases/{draft}")).status_code == 403
    r = await client.get(f"/cases/{draft}")
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html") and "only admins see drafts" in r.text
    assert "Unsubmitted drafts" not in (await client.get("/")).text
    assert (await client.get("/admin/failed")).status_code == 403
    async with app.store.read() as uow:
        details = (await uow.session.execute(select(AuditEvent.detail, AuditEvent.actor_id).where(AuditEvent.action == "access.refused",
                                                                                               AuditEvent.case_id.is_(None)))).all()
    assert sorted(str(d[0]["action"]) for d in details) == ["GET /admin/failed", "queue.drafts", "queue.drafts"]
    assert {d[1] for d in details} == {bob.staff_id}
    assert "draft" not in (await client.get("/api/queue")).json()["counts"]
    # an admin sees the count and may act
    await client.post("/logout", data={"csrf": token})
    await login(client, "root@example.org")
    home = await client.get("/")
    assert "Unsubmitted drafts: <span class=\"n\">1</span>" in home.text
    token = await csrf_of(client, f"/cases/{ref}")
    assert (await client.post(f"/cases/{ref}/note", data={"csrf": token, "text": "admin note"})).status_code == 303


def test_cli_follows_the_same_rules(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert settings.secret_keys is not None
    for key, value in {"INTAKE_ENV": "test", "INTAKE_DATA_DIR": str(settings.data_dir), "INTAKE_DATABASE_URL": settings.sqlalchemy_url,
                       "INTAKE_SECRET_KEYS": settings.secret_keys.get_secret_value()}.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, list(args))
        assert result.exit_code == code, (args, result.output)
        return result.output

    async def seed() -> tuple[str, str]:
        application = core.build(settings)
        await application.store.prepare(now=application.clock())
        try:
            auth = AuthService(application.store, clock=application.clock)
            for email, role in (("alice@example.org", "reviewer"), ("bob@example.org", "reviewer"), ("root@example.org", "admin")):
                await add_staff(auth, email, role)
            draft = (await application.cases.resume("terminal", "cli-drafter")).reference
            assert draft
            return await make_case(application, "terminal", who="cli-submitter"), draft
        finally:
            await application.store.close()

    ref, draft = asyncio.run(seed())
    run("review", "claim", ref, "--as", "alice@example.org")
    for args in (("note", ref, "mine"), ("decide", ref, "accepted", "--reason", "x"), ("unassign", ref), ("close", ref)):
        out = run("review", *args, "--as", "bob@example.org", code=1)
        assert "assigned to another staff member" in out.replace("\n", " "), args
    assert "Not done" in run("review", "list", "--status", "draft", "--as", "bob@example.org", code=1)
    assert "Not done" in run("review", "list", "--status", "draft", code=1)  # the unnamed operator is no admin
    assert "Not done" in run("review", "show", draft, "--as", "bob@example.org", code=1)
    listed = json.loads(run("review", "list", "--status", "draft", "--json", "--no-answers", "--as", "root@example.org"))
    assert [i["reference"] for i in listed] == [draft]
    assert "in_review" in run("review", "note", ref, "admin says", "--as", "root@example.org")
