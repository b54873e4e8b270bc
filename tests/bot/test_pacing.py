"""Telegram's limits, measured at the fake Bot API: replies in 50 private chats each paced at
their own chat's rate (a burst of 3, then 1 per second), the bot as a whole not held to 30/s nor
1/s; alerts and notices nobody just asked for held to the global bucket."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.pacing import Pacer
from intake.app import App
from intake.app import build as build_core
from tests.bot.conftest import Runner, RunnerFactory
from tests.bot.fakebotapi import FakeBotAPI

CHATS = [880000 + n for n in range(50)]


class TimedBotAPI(FakeBotAPI):
    """The fake Bot API, noting when each sendMessage arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.times: dict[int, list[float]] = defaultdict(list)

    async def _m_sendMessage(self, token: str, params: dict[str, Any]) -> Any:
        self.times[int(params["chat_id"])].append(time.monotonic())
        return await super()._m_sendMessage(token, params)

    def all_times(self) -> list[float]:
        return sorted(t for times in self.times.values() for t in times)


@pytest.fixture
async def fake() -> AsyncIterator[TimedBotAPI]:
    server = TimedBotAPI()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def queue(app: App, chats: list[int], per_chat: int, kind: str) -> None:
    async with app.store.write() as uow:
        for n in range(per_chat):
            for chat in chats:
                sub = await uow.submitters.get_or_create(channel="telegram", identity=str(chat), lang="en", now=app.clock())
                await uow.outbox.enqueue(channel="telegram", kind=kind, payload={"op": "send", "text": f"message {n}"}, now=app.clock(), submitter_id=sub.id)


async def delivered(app: App, fake: TimedBotAPI, total: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(fake.all_times()) < total:
        assert time.monotonic() < deadline, f"{len(fake.all_times())} of {total} sent"
        app.delivery.wake()
        await asyncio.sleep(0.05)


def most_in_one_second(times: list[float]) -> int:
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


async def test_replies_paced_per_chat_not_per_bot(app: App, make_runner: RunnerFactory, fake: TimedBotAPI) -> None:
    core = build_core(app.settings.model_copy(update={"telegram_chat_interval": 1.0, "telegram_chat_burst": 3, "delivery_concurrency": 64}), clock=app.clock)
    runner: Runner | None = None
    try:
        await queue(core, CHATS, 5, "reply")
        started = time.monotonic()
        runner = await make_runner(core)
        await delivered(runner.bot_core, fake, len(CHATS) * 5)
        took = time.monotonic() - started
        peak = most_in_one_second(fake.all_times())
        print(f"\n50 chats × 5 replies: {took:.2f} s, {len(CHATS) * 5 / took:.0f} msg/s overall, at most {peak} in one second")
        for chat in CHATS:
            times = fake.times[chat]
            assert len(times) == 5
            for i in range(3, 5):  # after the burst of 3, one a second in this chat
                assert times[i] - times[i - 3] >= 0.95, (chat, [round(t - times[0], 2) for t in times])
        assert peak > 30  # the bot is not held to Telegram's 30/s bulk limit for replies
        assert len(CHATS) * 5 / took > 5  # nor to 1/s (ideal: 250 messages in ~2 s; the batch waits for its slowest chat)
    finally:
        if runner is not None and runner.running:
            await runner.stop()  # before the store it uses is closed
        await core.store.close()


async def test_notices_held_to_the_global_rate(app: App, make_runner: RunnerFactory, fake: TimedBotAPI) -> None:
    core = build_core(app.settings.model_copy(update={"telegram_chat_interval": 1.0, "telegram_global_rate": 20.0, "delivery_concurrency": 64}), clock=app.clock)
    runner: Runner | None = None
    try:
        await queue(core, CHATS, 1, "notice")
        started = time.monotonic()
        runner = await make_runner(core)
        await delivered(runner.bot_core, fake, len(CHATS))
        took = time.monotonic() - started
        peak = most_in_one_second(fake.all_times())
        print(f"\n50 notices at a global 20/s: {took:.2f} s, at most {peak} in one second")
        assert peak <= 21 and took >= 1.4
    finally:
        if runner is not None and runner.running:
            await runner.stop()  # before the store it uses is closed
        await core.store.close()


def test_a_429_holds_the_chat() -> None:
    now = [100.0]
    pacer = Pacer(chat_interval=1.0, burst=3, clock=lambda: now[0])
    assert [pacer.reserve(7) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pacer.reserve(7) == pytest.approx(1.0)
    assert pacer.reserve(8) == 0.0  # another chat is not held
    pacer.hold(7, 5.0)
    assert pacer.reserve(7) >= 5.0
    now[0] += 10.0
    assert pacer.reserve(7) == 0.0
    assert pacer.reserve(-100) == 0.0 and pacer.reserve(-100) == pytest.approx(3.0)  # a group: 20 a minute
