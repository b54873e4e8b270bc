"""`intake mail failed` and `intake mail retry`: the failed-mail queue from the command line."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from intake import app as core
from intake.settings import Settings
from mail.cli import mail_app
from tests.conftest import TEST_KEY
from tests.support import FixedClock


async def _seed(settings: Settings) -> tuple[str, str]:
    application = core.build(settings, clock=FixedClock())
    await application.store.prepare(now=application.clock())
    try:
        now = application.clock()
        async with application.store.write() as uow:
            inbox_id, _ = await uow.inbox.add(dedup_key="mid:<x@y>", envelope={"mail_from": "a@b.c"}, raw=b"Subject: x\r\n\r\nbody", now=now)
            await uow.inbox.mark_failed(inbox_id, error="failed at handle: RuntimeError", now=now)
            outbox_id = await uow.outbox.enqueue(channel="email", kind="form", payload={"to": "a@b.c", "subject": "s", "body": "b"}, now=now)
            await uow.outbox.mark_failed(outbox_id, error="relay refused permanently (550)")
        return inbox_id, outbox_id
    finally:
        await application.store.close()


async def _statuses(settings: Settings) -> tuple[list[str], list[str]]:
    application = core.build(settings)
    try:
        async with application.store.read() as uow:
            return [r.status for r in await uow.inbox.list()], [r.status for r in await uow.outbox.list()]
    finally:
        await application.store.close()


def test_failed_and_retry(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox_id, outbox_id = asyncio.run(_seed(settings))
    monkeypatch.setenv("INTAKE_DATABASE_URL", str(settings.database_url))
    monkeypatch.setenv("INTAKE_SECRET_KEYS", TEST_KEY)
    monkeypatch.setenv("INTAKE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("INTAKE_ENV", "test")
    runner = CliRunner()
    listed = runner.invoke(mail_app, ["failed"])
    assert listed.exit_code == 0, listed.output
    assert inbox_id in listed.output and outbox_id in listed.output and "RuntimeError" in listed.output
    assert runner.invoke(mail_app, ["retry"]).exit_code == 2
    assert runner.invoke(mail_app, ["retry", "nope"]).exit_code == 1
    one = runner.invoke(mail_app, ["retry", inbox_id])
    assert one.exit_code == 0 and "requeued 1" in one.output
    assert asyncio.run(_statuses(settings)) == (["new"], ["failed"])
    every = runner.invoke(mail_app, ["retry", "--all"])
    assert every.exit_code == 0 and "requeued 1" in every.output
    assert asyncio.run(_statuses(settings)) == (["new"], ["pending"])
