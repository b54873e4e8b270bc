"""Fixtures for the Telegram channel: the fake Bot API server, settings pointing at it, and
running bots (the channel's real decoder, sender and poller, with the core's inbox and delivery
workers) driven chat by chat."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import bot_id
from bot.runtime import TelegramBot, install
from intake.app import App
from intake.settings import Settings
from tests.bot.fakebotapi import Call, FakeBotAPI

TOKEN = "123456:TEST-token"
STAFF_CHAT = -1009999
WAIT_S = 20.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    server = FakeBotAPI()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def settings(settings: Settings, fake: FakeBotAPI) -> Settings:
    """The shared test settings, with the Telegram channel pointed at the fake server."""
    return settings.model_copy(
        update={
            "telegram_token": SecretStr(TOKEN),
            "telegram_api_url": fake.url,
            "telegram_staff_chat_id": STAFF_CHAT,
            "public_url": "https://intake.example.org",
            "telegram_chat_interval": 0.0,  # conversations at test speed; pacing has its own test (test_pacing.py)
        }
    )


class Tracker:
    """What every runner of one test has done: updates finished (by bot and update id) and Bot API
    calls made. Waiting on it is waiting on those events (and, for what another runner's workers
    did, on the database state, re-checked at least every 50 ms)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.handled: set[tuple[str, int]] = set()

    def on_handled(self, bot: str, update_id: int) -> None:
        self.handled.add((bot, update_id))
        self.event.set()

    def on_sent(self) -> None:
        self.event.set()

    async def until(self, check: Callable[[], Awaitable[bool]]) -> None:
        while True:
            self.event.clear()
            if await check():
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.05):
                    await self.event.wait()


class Runner:
    """A started bot on its own core `App` (sharing the database): poller (or webhook), decoder,
    sender, inbox and delivery workers. `send` injects an update and returns once it is handled:
    its inbox row finished and every reply due was sent."""

    def __init__(self, core: App, fake: FakeBotAPI, tracker: Tracker, token: str = TOKEN) -> None:
        self.core = core
        self.fake = fake
        self.tracker = tracker
        self.token = token
        settings = core.settings.model_copy(update={"telegram_token": SecretStr(token)})
        self.bot_core = App(settings, core.store, core.questionnaire, core.cases, core.clock)
        self.bot = bot_id(settings)
        self.component: TelegramBot = install(self.bot_core, poll_timeout=1, observer=tracker.on_handled, sent=tracker.on_sent)
        self.running = False

    async def start(self) -> None:
        await self.component.start()
        await self.bot_core.inbox.start()
        await self.bot_core.delivery.start()
        self.running = True

    async def stop(self) -> None:
        self.running = False
        await self.bot_core.inbox.stop()
        await self.bot_core.delivery.stop()
        await self.component.stop()

    async def quiet(self) -> bool:
        """No reply due is still unsent (on any Telegram channel)."""
        now = self.core.clock()
        async with self.core.store.read() as uow:
            pending = await uow.outbox.list(status="pending")
        return not [r for r in pending if r.channel in ("telegram", "staff_telegram") and r.next_attempt_at <= now]

    async def wait_handled(self, update_id: int, timeout: float = WAIT_S, *, polled: bool = True) -> None:
        """Until this bot's update `update_id` was stored (when `polled`), its inbox row finished
        (by any runner) and every reply due was sent."""
        async with asyncio.timeout(timeout):
            if polled and self.component.poller is not None:
                await self.component.poller.wait_stored(update_id)

            async def finished() -> bool:
                return (self.bot, update_id) in self.tracker.handled

            await self.tracker.until(finished)
            self.bot_core.delivery.wake()
            await self.tracker.until(self.quiet)

    async def drain(self, timeout: float = WAIT_S) -> None:
        """Until every reply due now was sent (e.g. after staff queued one, or the clock moved)."""
        async with asyncio.timeout(timeout):
            self.bot_core.delivery.wake()
            await self.tracker.until(self.quiet)

    async def send(self, update: dict[str, Any], *, copies: int = 1) -> int:
        uid = await self.fake.inject(self.token, update, copies=copies)
        await self.wait_handled(uid)
        return uid


class Chat:
    """One submitter's private chat with a runner: type, press buttons, read what the bot said."""

    def __init__(self, runner: Runner, chat_id: int, *, lang: str = "en", copies: int = 1) -> None:
        self.runner = runner
        self.fake = runner.fake
        self.chat_id = chat_id
        self.lang = lang
        self.copies = copies

    def _mark(self) -> int:
        return len(self.fake.calls)

    def since(self, mark: int) -> list[Call]:
        return [c for c in self.fake.calls[mark:] if c.chat_id == self.chat_id]

    async def say(self, text: str, *, reply_to: dict[str, Any] | None = None, runner: Runner | None = None) -> list[Call]:
        mark = self._mark()
        await (runner or self.runner).send(self.fake.text_message(self.chat_id, text, lang=self.lang, reply_to=reply_to), copies=self.copies)
        return self.since(mark)

    def find_button(self, label: str) -> tuple[dict[str, Any], str]:
        """The newest bot message with a button labelled `label` (or `✓ label`), and its data."""
        ids = sorted((mid for (cid, mid) in self.fake.messages if cid == self.chat_id), reverse=True)
        for mid in ids:
            msg = self.fake.messages[(self.chat_id, mid)]
            for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] in (label, f"✓ {label}"):
                        return msg, button["callback_data"]
        raise AssertionError(f"no button {label!r} in chat {self.chat_id}")

    async def press(self, label: str, *, runner: Runner | None = None) -> list[Call]:
        message, data = self.find_button(label)
        mark = self._mark()
        await (runner or self.runner).send(self.fake.callback(self.chat_id, data, message, lang=self.lang), copies=self.copies)
        return self.since(mark)

    async def send_update(self, update: dict[str, Any]) -> list[Call]:
        mark = self._mark()
        await self.runner.send(update, copies=self.copies)
        return self.since(mark)

    def texts(self) -> list[str]:
        return self.fake.texts(self.chat_id)

    def last_text(self) -> str:
        return self.texts()[-1]


RunnerFactory = Callable[..., Awaitable[Runner]]


@pytest.fixture
async def make_runner(fake: FakeBotAPI) -> AsyncIterator[RunnerFactory]:
    """Start bots on demand (sharing one tracker); every one still running is stopped at the end."""
    running: list[Runner] = []
    tracker = Tracker()

    async def make(core: App, token: str = TOKEN) -> Runner:
        runner = Runner(core, fake, tracker, token)
        await runner.start()
        running.append(runner)
        return runner

    yield make
    for runner in reversed(running):
        if runner.running:
            await runner.stop()


@pytest.fixture
async def runner(app: App, make_runner: RunnerFactory) -> Runner:
    return await make_runner(app)
