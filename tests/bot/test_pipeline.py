"""The Telegram channel on the pipeline: nothing acknowledged before it is committed, every
committed update processed once, poison updates kept as failed rows, nothing sensitive logged,
and a stop that does not wait for the long poll."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.accept import store_updates
from bot.runtime import install
from intake.app import App
from intake.app import build as build_core
from intake.channels import InboxRecord
from intake.inbox import MAX_ATTEMPTS, backoff
from tests.bot.conftest import TOKEN, Chat, Runner, RunnerFactory
from tests.bot.fakebotapi import FakeBotAPI

CHAT = 818181
PDF = b"%PDF-1.4\n" + b"PLAINTEXT-EVIDENCE-MARKER " * 40


async def inbox_rows(app: App) -> list[InboxRecord]:
    async with app.store.read() as uow:
        return await uow.inbox.list()


def offsets(fake: FakeBotAPI, token: str = TOKEN) -> list[int]:
    return [int(c.params["offset"]) for c in fake.calls if c.method == "getUpdates" and c.token == token and c.params.get("offset")]


async def test_committed_update_survives_a_restart_and_is_processed_once(app: App, make_runner: RunnerFactory, fake: FakeBotAPI) -> None:
    first = await make_runner(app)
    await first.bot_core.inbox.stop()  # this process stores and acknowledges, then dies before processing
    uid = await fake.inject(TOKEN, fake.text_message(CHAT, "/start"))
    assert first.component.poller is not None
    await first.component.poller.wait_stored(uid)

    async def acknowledged() -> bool:
        return any(o > uid for o in offsets(fake))

    await first.tracker.until(acknowledged)  # Telegram was told it may forget the update
    assert [r.status for r in await inbox_rows(app)] == ["new"]
    assert fake.sent(CHAT) == []
    await first.stop()

    core2 = build_core(app.settings, clock=app.clock)  # a new process on the same database
    try:
        second = await make_runner(core2)
        await second.wait_handled(uid, polled=False)
        texts = fake.texts(CHAT)
        assert len(texts) == 2 and "Welcome" in texts[0] and "Essentials 1/" in texts[1]
        assert [r.status for r in await inbox_rows(app)] == ["done"]
        await second.stop()
    finally:
        await core2.store.close()


async def test_the_same_update_twice_gives_one_result_and_one_reply(app: App, runner: Runner, fake: FakeBotAPI) -> None:
    update = fake.text_message(CHAT, "/start")
    uid = await fake.inject(TOKEN, update, copies=2)  # twice in one batch
    await runner.wait_handled(uid)
    assert len(fake.texts(CHAT)) == 2
    # delivered again after it was processed (a crash before the offset moved on): stored once
    assert await store_updates(runner.bot_core, runner.bot, [{**update, "update_id": uid}]) == 0
    await runner.drain()
    assert len(fake.texts(CHAT)) == 2
    assert [r.status for r in await inbox_rows(app)] == ["done"]
    assert len(await app.cases.statuses("telegram", str(CHAT))) == 1


async def test_stop_cancels_the_long_poll(app: App, fake: FakeBotAPI) -> None:
    core = App(app.settings, app.store, app.questionnaire, app.cases, app.clock)
    component = install(core, poll_timeout=30)
    await component.start()
    try:
        deadline = time.monotonic() + 10
        while not [c for c in fake.calls if c.method == "getUpdates" and int(c.params.get("timeout", 0)) == 30]:
            assert time.monotonic() < deadline, "the poller never asked for updates"
            await asyncio.sleep(0.01)  # polling the fake's record of calls, bounded
    finally:
        started = time.monotonic()
        await component.stop()
        elapsed = time.monotonic() - started
    print(f"\nstop during a 30 s long poll took {elapsed * 1000:.0f} ms")
    assert elapsed < 1.0


async def test_poison_update_ends_failed_and_nothing_sensitive_is_logged(
    app: App, runner: Runner, fake: FakeBotAPI, caplog: pytest.LogCaptureFixture,
) -> None:
    name, text, chat_id = "Zyxwvut", "poison secret words", 98765432
    poison = {"message": {"message_id": 5, "chat": {"id": chat_id, "type": "private", "first_name": name}, "text": text}}  # no date
    caplog.set_level(logging.DEBUG)
    uid = await fake.inject(TOKEN, poison)
    assert runner.component.poller is not None
    await runner.component.poller.wait_stored(uid)
    for attempt in range(1, MAX_ATTEMPTS + 1):

        async def tried(attempt: int = attempt) -> bool:
            [row] = await inbox_rows(app)
            return row.attempts >= attempt

        await runner.tracker.until(tried)
        app.clock.advance(seconds=backoff(attempt).total_seconds())  # type: ignore[attr-defined]
        runner.bot_core.inbox.wake()
    [row] = await inbox_rows(app)
    assert (row.status, row.attempts, row.error) == ("failed", MAX_ATTEMPTS, f"failed {MAX_ATTEMPTS} times: KeyError")
    said = [r for r in caplog.records if r.name == "bot.decoder" and f"update {uid}" in r.getMessage()]
    assert len(said) == 1 and "cannot be read" in said[0].getMessage()

    # the chat goes on after the poison row; a Bot API error on its reply is logged without content
    fake.fail("sendMessage", status=400, description=f"Bad Request: chat {chat_id} of {name} says {text}", chat_id=chat_id)
    calls = await Chat(runner, chat_id).say("/help")
    assert [c.status for c in calls if c.method == "sendMessage"] == [400]
    async with app.store.read() as uow:
        [failed] = await uow.outbox.list(status="failed")
    assert failed.last_error == "BadRequest"
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "BadRequest" in logged
    for secret in (str(chat_id), name, text, TOKEN, "/help"):
        assert secret not in logged, secret


async def test_a_failed_download_is_retried_then_saved(app: App, runner: Runner, fake: FakeBotAPI, caplog: pytest.LogCaptureFixture) -> None:
    chat = Chat(runner, CHAT)
    await chat.say("/start")
    doc = fake.add_file(PDF, suffix="pdf")
    fake.fail("getFile", status=400, description="Bad Request: secret-file-name.pdf is broken")
    caplog.set_level(logging.DEBUG)
    uid = await fake.inject(TOKEN, fake.file_message(CHAT, doc, filename="secret-file-name.pdf"))
    assert runner.component.poller is not None
    await runner.component.poller.wait_stored(uid)

    async def tried() -> bool:
        return any(r.attempts == 1 and r.status == "new" for r in await inbox_rows(app))

    await runner.tracker.until(tried)
    mark = len(fake.calls)
    app.clock.advance(seconds=1)  # type: ignore[attr-defined]
    runner.bot_core.inbox.wake()
    await runner.wait_handled(uid)
    assert "extra evidence" in chat.since(mark)[-1].params["text"]
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "BadRequest" in logged
    assert "secret-file-name" not in logged and "PLAINTEXT-EVIDENCE" not in logged and "TEST-token" not in logged and str(CHAT) not in logged


async def test_one_poller_per_bot_in_a_process(app: App, runner: Runner) -> None:
    from bot.poller import AlreadyPolling, Poller

    second = Poller(runner.bot_core, timeout=1)
    with pytest.raises(AlreadyPolling):
        await second.start()
