"""Two `intake run` processes on one PostgreSQL with one bot token: an advisory lock elects one
poller, the other stands by; SIGKILL the poller and the other takes over within seconds. No two
getUpdates are ever in flight at once while both live (Telegram would answer 409 Conflict), and
every update is processed exactly once across the take-over. PostgreSQL only: on SQLite there is
one process and nothing to elect."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from intake.app import App
from tests.bot.fakebotapi import FakeBotAPI
from tests.e2e_support import IntakeRun, terminate, wait_for
from tests.test_cli import env_for, free_port
from tests.test_crash_telegram import CHATS, COMMANDS, TOKEN, everything_answered, replies, report


class CountingBotAPI(FakeBotAPI):
    """The fake Bot API, counting getUpdates calls in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self.inflight = 0
        self.max_inflight = 0

    async def _m_getUpdates(self, token: str, params: dict[str, Any]) -> Any:
        self.inflight += 1
        self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            return await super()._m_getUpdates(token, params)
        finally:
            self.inflight -= 1


@pytest.fixture
async def fake() -> AsyncIterator[CountingBotAPI]:
    server = CountingBotAPI()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def said(run: IntakeRun, text: str) -> bool | None:
    return True if text in run.output() else None


async def test_one_poller_elected_and_replaced_after_sigkill(tmp_path: Path, db_url: str, app: App, fake: CountingBotAPI) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("an election needs PostgreSQL (SQLite: one process)")
    plan: dict[int, tuple[int, str]] = {}
    later = [(chat, command) for command in list(COMMANDS)[2:] for chat in CHATS]  # sent after the take-over
    for command in list(COMMANDS)[:2]:
        for chat in CHATS:
            plan[await fake.inject(TOKEN, fake.text_message(chat, command))] = (chat, command)
    runs: list[IntakeRun] = []
    for i in (1, 2):
        env = env_for(tmp_path / f"host{i}", db_url)
        env.update(INTAKE_TELEGRAM_TOKEN=TOKEN, INTAKE_TELEGRAM_API_URL=fake.url, INTAKE_HTTP_PORT=str(free_port()))
        runs.append(IntakeRun(env, tmp_path / f"run{i}.log"))
        if i == 1:
            await wait_for(lambda: said(runs[0], "telegram: polling for updates"), "the first process elected", runs[0], timeout=60)
    first, second = runs
    try:
        await wait_for(lambda: said(second, "another process holds it; standing by"), "the second standing by", second, timeout=60)
        await wait_for(lambda: True if sum(replies(fake).values()) >= 20 else None, "the first replies", first)
        assert fake.max_inflight == 1, "two getUpdates at once"
        assert "telegram: polling for updates" not in second.output()
        first.proc.kill()  # SIGKILL: its connection closes, PostgreSQL releases the lock
        first.proc.wait(timeout=10)
        killed = time.monotonic()
        await wait_for(lambda: said(second, "telegram: polling for updates"), "the second elected", second, timeout=30)
        took = time.monotonic() - killed
        print(f"\ntake-over after SIGKILL: {took:.1f} s")
        assert took < 15
        for chat, command in later:
            plan[await fake.inject(TOKEN, fake.text_message(chat, command))] = (chat, command)
        await wait_for(lambda: everything_answered(fake, plan), "every update answered after the take-over", second, timeout=60)
        polls = [c for c in fake.calls if c.method == "getUpdates" and c.token == TOKEN]
        sent = {int(u["update_id"]) for c in polls if isinstance(c.result, list) for u in c.result}
        code, _ = await terminate(second)
        assert code == 0 and "Traceback" not in second.output(), second.output()[-3000:]
    finally:
        for run in runs:
            run.kill()
    await report("election", app, fake, sent, set(plan), plan)
