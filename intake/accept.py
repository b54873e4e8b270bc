"""Accepting what arrives: the inbox write every acknowledgement waits for, grouped.

A channel edge (the SMTP server) hands each arrival to `GroupCommit.add` and acknowledges only
after it returns. Arrivals of concurrent sessions are stored together: while one transaction
commits, the next batch gathers, so under load one commit (one fsync) serves many messages, and a
lone message waits for nothing but its own commit.
"""

from __future__ import annotations

import asyncio

from intake.clock import Clock
from storage.repositories import InboxItem as InboxItem  # re-exported for the channels
from storage.store import Store


class GroupCommit:
    """Messages of concurrent SMTP sessions stored in one transaction: while one batch commits, the
    next gathers; each caller returns (so its session answers 250) only after the commit that holds
    its message. A batch that fails is tried again one message per transaction, so one bad message
    costs only its own sender a 451."""

    def __init__(self, store: Store, clock: Clock, *, max_batch: int = 64) -> None:
        self.store = store
        self.clock = clock
        self.max_batch = max_batch
        self._pending: list[tuple[InboxItem, asyncio.Future[tuple[str, bool]]]] = []
        self._task: asyncio.Task[None] | None = None

    async def add(self, item: InboxItem) -> tuple[str, bool]:
        """Store `item` in the inbox; returns (inbox id, created) once it is committed."""
        future: asyncio.Future[tuple[str, bool]] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return await asyncio.shield(future)  # a session that goes away does not cancel the others' commit

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            try:
                results = await self._write([item for item, _ in batch])
            except Exception:  # noqa: BLE001 - retried one by one below, each failure its own sender's 451
                if len(batch) == 1:
                    results = None
                else:
                    for item, future in batch:
                        try:
                            self._settle(future, (await self._write([item]))[0])
                        except Exception as exc:  # noqa: BLE001 - handed to that session, which answers 451
                            self._fail(future, exc)
                    continue
            for n, (item, future) in enumerate(batch):
                if results is None:
                    try:
                        self._settle(future, (await self._write([item]))[0])
                    except Exception as exc:  # noqa: BLE001 - handed to that session, which answers 451
                        self._fail(future, exc)
                else:
                    self._settle(future, results[n])

    async def _write(self, items: list[InboxItem]) -> list[tuple[str, bool]]:
        async with self.store.write() as uow:
            return await uow.inbox.add_many(items, now=self.clock())

    @staticmethod
    def _settle(future: asyncio.Future[tuple[str, bool]], value: tuple[str, bool]) -> None:
        if not future.done():
            future.set_result(value)

    @staticmethod
    def _fail(future: asyncio.Future[tuple[str, bool]], exc: Exception) -> None:
        if not future.done():
            future.set_exception(exc)
