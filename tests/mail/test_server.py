"""The SMTP edge: recipients, size limit, durability on a failing database, duplicates, LMTP."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from intake.app import App
from mail.runtime import MailChannel
from mail.server import IntakeHandler
from storage.db import Database
from tests.mail.conftest import ADDRESS, Harness, smtp_send
from tests.mail.support import message


async def inbox_rows(app: App) -> list[object]:
    async with app.store.read() as uow:
        return list(await uow.inbox.list())


async def test_other_recipients_get_550_and_sub_addresses_are_accepted(mail: Harness) -> None:
    raw, _ = message("hello")
    result = await mail.send(raw, rcpt=["someone@intake.example", "cases@other.example", "postmaster@intake.example"])
    assert result.rcpt == [550, 550, 550] and result.data is None
    result = await mail.send(raw, rcpt=["Cases+Urgent@INTAKE.example"])
    assert result.rcpt == [250] and result.data == 250
    assert len(await inbox_rows(mail.app)) == 1


async def test_size_limit_advertised_and_30_mb_refused_with_nothing_stored(mail: Harness) -> None:
    raw, _ = message("big", attachments=[("big.bin", "application/octet-stream", b"\0" * (22 * 1024 * 1024))])
    assert len(raw) > 30 * 1024 * 1024 - 1_000_000  # base64 makes 22 MB about 30 MB on the wire
    result = await mail.send(raw)
    assert f"SIZE {mail.app.settings.max_message_bytes}" in result.ehlo
    assert result.data == 552
    assert await inbox_rows(mail.app) == []


async def test_database_down_during_data_gives_451_then_accepted_intact(mail: Harness, caplog: pytest.LogCaptureFixture) -> None:
    store = mail.app.store
    good = store.db
    bad_url = "sqlite+aiosqlite:////nonexistent-dir/for/test.db" if good.dialect == "sqlite" else "postgresql+psycopg://postgres@127.0.0.1:1/none"
    store.db = Database(create_async_engine(bad_url))
    raw, mid = message("a message that must not be lost", attachments=[("a.txt", "text/plain", b"evidence")])
    try:
        result = await mail.send(raw)
    finally:
        await store.db.dispose()
        store.db = good
    assert result.data == 451 and result.data_text.startswith("4.3.0")
    assert "sqlite" not in result.data_text.lower() and "error" not in result.data_text.lower()
    assert not [r for r in caplog.records if r.exc_info]
    result = await mail.send(raw)  # the sending server retries
    assert result.data == 250
    rows = await inbox_rows(mail.app)
    assert len(rows) == 1 and rows[0].raw == raw and rows[0].envelope["message_id"] == mid  # type: ignore[attr-defined]


async def test_same_message_twice_is_one_row_and_one_case_update(mail: Harness) -> None:
    raw, _ = message("Organisation name: Twice NGO")
    assert (await mail.send(raw)).data == 250
    assert (await mail.send(raw)).data == 250
    await mail.pump()
    ours = str(mail.relay.messages[0]["Message-ID"]).encode()  # a reply to our mail: it proves the case
    raw_no_id = b"From: ngo@example.org\r\nTo: cases@intake.example\r\nSubject: no id\r\nIn-Reply-To: " + ours + b"\r\n\r\nOrganisation name: Twice NGO\r\n"
    assert (await mail.send(raw_no_id)).data == 250
    assert (await mail.send(raw_no_id)).data == 250
    await mail.pump()
    rows = await inbox_rows(mail.app)
    assert len(rows) == 2 and all(r.status == "done" for r in rows)  # type: ignore[attr-defined]
    async with mail.app.store.read() as uow:
        case = await uow.cases.by_reference(str(mail.relay.messages[0]["Subject"])[1:13])
        assert case is not None
        thread = await uow.messages.for_case(case.id)
        audit = [a.action for a in await uow.audit.for_case(case.id)]
    assert len(thread) == 2  # one per distinct message
    assert audit.count("draft.answered") == 2
    assert len(mail.relay.messages) == 2


async def test_handle_exception_answers_451_without_detail() -> None:
    handler = IntakeHandler(SimpleNamespace(store=None, clock=None), address=ADDRESS)  # type: ignore[arg-type]
    status = await handler.handle_exception(RuntimeError("secret internal detail"))
    assert status.startswith("451 4.3.0") and "secret" not in status


async def test_lmtp_mode(app: App) -> None:
    app.settings.smtp_lmtp = True
    channel = MailChannel(app, port=0)
    await channel.server.start()
    try:
        raw, _ = message("via lmtp")
        result = await asyncio.to_thread(smtp_send, channel.server.port, raw, lmtp=True, rcpt=[ADDRESS, "cases+x@intake.example", "nobody@intake.example"])
    finally:
        await channel.server.stop()
    assert result.rcpt == [250, 250, 550] and result.data == 250
    async with app.store.read() as uow:
        assert len(await uow.inbox.list()) == 1


async def test_logs_carry_no_content(mail: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="mail")
    raw, _ = message("Organisation name: Very Secret NGO\nCase title: Secret title", subject="Secret subject")
    await mail.exchange(raw)
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("mail.") and r.name != "mail.log")
    assert "Secret" not in text and "ngo@example.org" not in text
