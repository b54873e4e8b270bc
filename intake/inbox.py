"""The inbox worker: takes committed inbox rows of every channel to `receive`, one chat at a time.

A channel registers a `Decoder` for its rows: it turns the stored wire format into an `Inbound`
(downloading what must be downloaded first, outside any transaction) and calls `receive` with the
row's id, which marks the row done in the same transaction that applies it. Rows are leased for a
few seconds and the lease is renewed while the work runs, so after a crash another process (or the
restarted one) takes them again within seconds. A row that keeps failing is retried with backoff,
then marked `failed` — logged once by id, kept for inspection, retryable by a human — and the
chat's later rows go on.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable
from contextvars import ContextVar
from datetime import timedelta
from typing import Protocol

from intake.clock import Clock
from intake.worker import Loop, leased
from storage.db import is_transient
from storage.repositories import InboxRecord
from storage.store import Store

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=15)
MAX_ATTEMPTS = 5

# the rows the current worker task saw finished by a committed transaction (`finished`), so the
# worker need not look again; one set per `process` call (a task of its own under gather)
_finished: ContextVar[set[str] | None] = ContextVar("inbox_finished", default=None)


def finished(inbox_id: str) -> None:
    """Called after the commit of a transaction that marked `inbox_id` done (or found it no longer
    new): the worker processing it then skips its own check-and-mark transaction."""
    done = _finished.get()
    if done is not None:
        done.add(inbox_id)


def backoff(attempts: int) -> timedelta:
    """The wait before the next try after `attempts` failed ones: 1 s, 2 s, 4 s … at most a minute."""
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), 60))


class Decoder(Protocol):
    """A channel's reader of its own inbox rows."""

    @property
    def channel(self) -> str:
        """The channel whose rows it reads (an `intake.channels.Channel`)."""
        ...

    async def handle(self, row: InboxRecord) -> None:
        """Decode the row and call `receive(…, inbox_id=row.id)`; raise to have it retried. Returning
        without calling receive means the row needs nothing (the worker marks it done)."""
        ...


class InboxWorker:
    """Claims due rows of the registered channels and hands each to its decoder (a Component)."""

    name = "inbox worker"

    def __init__(self, store: Store, clock: Clock, *, interval: float = 2.0, concurrency: int = 8, lease: timedelta = LEASE) -> None:
        self.store = store
        self.clock = clock
        self.decoders: dict[str, Decoder] = {}
        self.concurrency = concurrency
        self.lease = lease
        self.loop = Loop("inbox", self.run_once, interval=interval)
        self.transient = 0  # deadlocks and serialization failures retried (for operators and tests)

    def register(self, decoder: Decoder) -> None:
        self.decoders[decoder.channel] = decoder

    def wake(self) -> None:
        self.loop.wake()

    async def start(self) -> None:
        await self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()

    async def run_once(self) -> int:
        """One pass: claim up to `concurrency` rows (one per chat), read with the claim itself, and
        process them concurrently."""
        if not self.decoders:
            return 0
        now = self.clock()
        async with self.store.write() as uow:
            rows = await uow.inbox.claim_rows(channels=list(self.decoders), now=now, until=now + self.lease, limit=self.concurrency)
        if not rows:
            return 0
        async with leased([r.id for r in rows], self._renew, self.lease):
            await asyncio.gather(*(self._process(r) for r in rows))
        return len(rows)

    async def _renew(self, ids: list[str]) -> None:
        async with self.store.write() as uow:
            await uow.inbox.renew(ids, until=self.clock() + self.lease)

    async def process(self, inbox_id: str) -> None:
        """Read one row and process it (see `_process`)."""
        try:
            async with self.store.read() as uow:
                row = await uow.inbox.get(inbox_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - counted and retried like any failure
            await self._failed(inbox_id, exc, 1)
            return
        await self._process(row)

    async def _process(self, row: InboxRecord) -> None:
        """Process one claimed row; a failure is counted and retried later, or marked failed after
        MAX_ATTEMPTS. A row its decoder left unfinished (nothing to do) is marked done here."""
        if row.status != "new":
            return
        done: set[str] = set()
        token = _finished.set(done)
        try:
            await _call(self.decoders[row.channel].handle(row))
            if row.id not in done:  # the decoder committed nothing that finished it
                async with self.store.write() as uow:
                    if await uow.inbox.status_of(row.id, lock=True) == "new":
                        await uow.inbox.mark_done(row.id, now=self.clock(), case_id=None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is counted; a poison row ends in the failed queue
            await self._failed(row.id, exc, row.attempts + 1)
        finally:
            _finished.reset(token)

    async def _failed(self, inbox_id: str, exc: BaseException, attempts: int) -> None:
        reason = type(exc).__name__  # never the message: it may quote content
        try:
            async with self.store.write() as uow:
                now = self.clock()
                if is_transient(exc):
                    # a deadlock or serialization failure: run it again soon, with jitter, uncounted
                    self.transient += 1
                    await uow.inbox.release(inbox_id, next_attempt_at=now + timedelta(milliseconds=random.randint(20, 250)))
                    log.info("inbox %s hit a transient database conflict (%s); retrying", inbox_id, reason)
                    asyncio.get_running_loop().call_later(0.3, self.wake)
                    return
                if attempts >= MAX_ATTEMPTS:
                    await uow.inbox.mark_failed(inbox_id, error=f"failed {attempts} times: {reason}", now=now)
                    log.error("inbox %s failed %d times (%s); kept as failed for inspection", inbox_id, attempts, reason)
                    return
                await uow.inbox.mark_retry(inbox_id, error=reason, next_attempt_at=now + backoff(attempts))
            log.warning("inbox %s attempt %d failed (%s); will retry", inbox_id, attempts, reason)
        except Exception as mark_exc:  # noqa: BLE001 - the database is down: the lease runs out and it is retried
            log.warning("inbox %s could not be marked (%s); will retry after the lease", inbox_id, type(mark_exc).__name__)


async def _call(awaitable: Awaitable[None]) -> None:
    await awaitable
