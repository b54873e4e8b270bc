"""Fixtures for the Telegram channel: the fake Bot API server, settings pointing at it, and
running bots (real PTB Applications from `bot.app.build_application`) driven chat by chat."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from pydantic import SecretStr
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.app import build_application
from bot.runtime import BotComponent
from intake.app import App
from intake.settings import Settings
from tests.bot.fakebotapi import Call, FakeBotAPI

TOKEN = "123456:TEST-token"
STAFF_CHAT = -1009999


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
        }
    )


class Runner:
    """A started bot (polling the fake) and a way to wait until an injected update was handled."""

    def __init__(self, core: App, fake: FakeBotAPI, token: str = TOKEN, *, polling: bool = True) -> None:
        self.core = core
        self.fake = fake
        self.token = token
        settings = core.settings.model_copy(update={"telegram_token": SecretStr(token)})
        self.bot_core = App(settings, core.store, core.questionnaire, core.cases, core.clock)
        self.application = build_application(self.bot_core, polling=polling)
        self.component = BotComponent(self.bot_core, self.application, poll_timeout=1)
        self.done: Counter[int] = Counter()
        self.cond = asyncio.Condition()
        # after every handler group: the update was handled (test harness only)
        self.application.add_handler(TypeHandler(Update, self._mark), group=99)

    async def _mark(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        async with self.cond:
            self.done[update.update_id] += 1
            self.cond.notify_all()

    async def start(self) -> None:
        await self.component.start()

    async def stop(self) -> None:
        await self.component.stop()

    async def wait_handled(self, update_id: int, times: int = 1, timeout: float = 15) -> None:
        async with self.cond:
            await asyncio.wait_for(self.cond.wait_for(lambda: self.done[update_id] >= times), timeout)

    async def send(self, update: dict[str, Any], *, copies: int = 1) -> int:
        uid = await self.fake.inject(self.token, update, copies=copies)
        await self.wait_handled(uid, copies)
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
    """Start bots on demand; every one still running is stopped at the end of the test."""
    running: list[Runner] = []

    async def make(core: App, token: str = TOKEN, *, polling: bool = True) -> Runner:
        runner = Runner(core, fake, token, polling=polling)
        await runner.start()
        running.append(runner)
        return runner

    yield make
    for runner in reversed(running):
        if runner.application.running:
            await runner.stop()


@pytest.fixture
async def runner(app: App, make_runner: RunnerFactory) -> Runner:
    return await make_runner(app)
