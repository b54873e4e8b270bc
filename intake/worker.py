"""A background loop for `intake run`: a pass again at once while it finds work, else after
`interval` or a wake-up; stops within a bounded time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

log = logging.getLogger(__name__)


class Loop:
    """Runs `step` (returns how much it did) until stopped. A runtime Component."""

    def __init__(self, name: str, step: Callable[[], Awaitable[int]], *, interval: float, stop_timeout: float = 5.0) -> None:
        self.name = name
        self.step = step
        self.interval = interval
        self.stop_timeout = stop_timeout
        self.wakeup = asyncio.Event()
        self.stopping = False
        self.task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self.wakeup.set()

    async def start(self) -> None:
        self.stopping = False
        self.task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Let the current pass finish for up to `stop_timeout` seconds, then cancel it: whatever was
        not committed is rolled back and its lease runs out, so another pass takes it again."""
        if self.task is None:
            return
        self.stopping = True
        self.wakeup.set()
        done, _ = await asyncio.wait({self.task}, timeout=self.stop_timeout)
        if not done:
            self.task.cancel()
            await asyncio.wait({self.task}, timeout=self.stop_timeout)
        self.task = None

    async def _run(self) -> None:
        while not self.stopping:
            self.wakeup.clear()
            try:
                found = await self.step()
            except Exception as exc:  # noqa: BLE001 - e.g. the database is down: log the type, try again later
                log.warning("%s pass failed (%s); retrying", self.name, type(exc).__name__)
                found = 0
            if found or self.stopping:
                continue
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel racing a wake-up
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self.wakeup.wait()


@asynccontextmanager
async def leased(ids: list[str], renew: Callable[[list[str]], Awaitable[None]], lease: timedelta) -> AsyncIterator[None]:
    """While the block runs, renew the leases of `ids` every third of `lease` (a failed renewal is
    logged; the rows are then taken again when their lease runs out, and their work is idempotent)."""

    async def keep() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                await renew(ids)
            except Exception as exc:  # noqa: BLE001 - logged; the lease simply runs out
                log.warning("lease renewal of %d rows failed (%s)", len(ids), type(exc).__name__)

    task = asyncio.create_task(keep())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

