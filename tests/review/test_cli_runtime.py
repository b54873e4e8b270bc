"""`intake review …` / `intake staff …` through the real Typer app, and the console component
as `intake run` starts it (first admin, console URL, /healthz, clean stop)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from intake import app as core
from intake.app import App
from intake.cli import cli
from intake.seeding import seed_cases
from intake.settings import Settings
from review.passwords import verify_password
from review.runtime import Console, components
from storage.models import Case, CaseTerm
from tests.review.conftest import make_case


async def test_console_component_first_admin_and_stop(app: App, capsys: pytest.CaptureFixture[str]) -> None:
    local = dataclasses.replace(app, settings=app.settings.model_copy(update={"http_port": 0}))
    [console] = await components(local)
    assert isinstance(console, Console) and console.name == "console"
    await console.start()
    try:
        out = capsys.readouterr().out
        assert "Staff console: http://127.0.0.1:8000" in out
        # output is not a terminal here (as under journald or docker logs): the password is in a 0600 file
        secret = local.settings.data_dir / "first-admin-password.txt"
        assert "First admin created: admin@localhost" in out and str(secret) in out
        email, password = secret.read_text().split()
        assert email == "admin@localhost" and password not in out and (secret.stat().st_mode & 0o777) == 0o600
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{console.port}") as client:
            assert (await client.get("/healthz")).status_code == 200
            page = await client.get("/login")
            assert page.status_code == 200 and "content-security-policy" in page.headers
        staff = await console.auth.by_email("admin@localhost")
        assert staff is not None and staff.role == "admin" and staff.must_change_password
        assert await verify_password(console.auth.hasher, staff.password_hash, password)  # the printed password works
    finally:
        await console.stop()
    again = Console(local)
    await again.start()
    await again.stop()
    assert "First admin created" not in capsys.readouterr().out


@pytest.fixture
def env(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)  # no stray .env
    assert settings.secret_keys is not None
    for key, value in {
        "INTAKE_ENV": "test", "INTAKE_DATA_DIR": str(settings.data_dir), "INTAKE_DATABASE_URL": settings.sqlalchemy_url,
        "INTAKE_SECRET_KEYS": settings.secret_keys.get_secret_value(),
    }.items():
        monkeypatch.setenv(key, value)
    return settings


def test_cli_staff_and_review_commands(env: Settings) -> None:
    runner = CliRunner()

    def run(*args: str, input: str | None = None, code: int = 0) -> str:
        result = runner.invoke(cli, list(args), input=input)
        assert result.exit_code == code, (args, result.output)
        return result.output

    run("staff", "add", "Alice@Example.org", "--role", "reviewer", "--password-stdin", input="correct horse battery\n")
    run("staff", "add", "alice@example.org", "--password-stdin", input="correct horse battery\n", code=1)
    run("staff", "add", "short@example.org", "--password-stdin", input="short\n", code=1)
    assert [s["email"] for s in json.loads(run("staff", "list", "--json"))] == ["alice@example.org"]

    async def seed() -> str:
        application = core.build(env)
        await application.store.prepare(now=application.clock())
        try:
            return await make_case(application, "telegram", who="99")
        finally:
            await application.store.close()

    ref = asyncio.run(seed())
    queue = json.loads(run("review", "list", "--json", "--channel", "telegram"))
    assert [i["reference"] for i in queue] == [ref]
    as_alice = ("--as", "alice@example.org")
    assert "in_review" in run("review", "claim", ref, *as_alice)
    assert "Not done" in run("review", "claim", ref, *as_alice, code=1)
    assert "needs_info" in run("review", "request-info", ref, "Which vessel?", "--reopen", "case_summary", *as_alice)
    run("review", "note", ref, "called the partner", *as_alice)
    run("review", "status", ref, "in_review", *as_alice)
    run("review", "decide", ref, "escalated", "--reason", "all elements", *as_alice)
    run("review", "close", ref, "--message", "Thank you", *as_alice)
    view = json.loads(run("review", "show", ref, "--json", *as_alice))
    assert view["status"] == "closed" and view["decision"] == "escalated"
    assert [m["kind"] for m in view["thread"]] == ["followup", "notice"]
    assert [n["body"] for n in view["notes"]] == ["called the partner"]
    actions = [e["action"] for e in view["audit"]]
    for action in ("case.claimed", "case.info_requested", "note.added", "case.decided", "case.closed", "case.viewed"):
        assert action in actions
    assert all(e["remote"].startswith("cli:") for e in view["audit"] if e["actor_kind"] == "staff")  # with the OS account that ran it
    assert "Not done" in run("review", "claim", ref, "--as", "ghost@example.org", code=1)
    text = run("review", "show", ref)  # without --as: audited as the OS user at the terminal
    assert "Triage" in text and ref in text
    last = json.loads(run("review", "show", ref, "--json"))["audit"][-1]
    assert last["action"] == "case.viewed" and last["actor_kind"] == "cli" and last["actor"].startswith("os:")
    assert "Not done" in run("review", "failed", *as_alice, code=1)  # admins only


def test_cli_list_pages_and_reindex(env: Settings) -> None:
    """`intake review list --json --no-answers` reads one page from the database; `reindex` builds the search index."""
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, list(args))
        assert result.exit_code == 0, (args, result.output)
        return result.output

    async def seed() -> list[str]:
        application = core.build(env)
        await application.store.prepare(now=application.clock())
        try:
            refs = await seed_cases(application, 5)
            async with application.store.write() as uow:  # as after an upgrade: nothing indexed yet
                await uow.session.execute(CaseTerm.__table__.delete())
                await uow.session.execute(Case.__table__.update().values(search_key=None))
            return refs
        finally:
            await application.store.close()

    refs = asyncio.run(seed())
    listed = json.loads(run("review", "list", "--json", "--no-answers", "--limit", "2", "--page", "2", "--oldest-first"))
    assert [i["reference"] for i in listed] == refs[2:4] and all("answers" not in i for i in listed)
    assert json.loads(run("review", "list", "--json", "--no-answers", "-q", "seed3x")) == []
    assert "5 cases tokenised" in run("review", "reindex", "--batch", "2")
    assert [i["reference"] for i in json.loads(run("review", "list", "--json", "--no-answers", "-q", "SEED3X"))] == [refs[3]]
