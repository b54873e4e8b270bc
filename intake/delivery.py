"""The one way out: a single delivery worker drains the outbox through one `Sender` per channel.

One lease, one retry curve, one attempt limit, one place where failures become visible. No
transaction is open across network I/O: rows are claimed with a lease in a short transaction, sent
outside it, and the result is recorded in a second short one. A row is the oldest pending one of
its recipient when claimed, so one chat's messages go out in order. A crash between a send and
its record sends that one message again when the lease runs out (at-least-once; email carries a
stable Message-ID so the copy is recognisable).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from intake.channels import RetryLater, Sender, Sent, Undeliverable
from intake.clock import Clock
from intake.worker import Loop, leased
from storage.repositories import OutboxRecord
from storage.store import Store

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
MAX_ATTEMPTS = 8
BASE_BACKOFF_S = 5.0
MAX_BACKOFF_S = 3600.0


def backoff(attempts: int, *, after: float | None = None) -> timedelta:
    """The wait before the next try after `attempts` failed ones: the peer's own wait when it gave
    one (Telegram's retry_after), else 5 s, 10 s, 20 s … at most an hour."""
    if after is not None:
        return timedelta(seconds=max(after, 0.0))
    return timedelta(seconds=min(BASE_BACKOFF_S * (2 ** max(attempts - 1, 0)), MAX_BACKOFF_S))


class DeliveryWorker:
    """Sends due outbox rows through the registered senders (a runtime Component)."""

    name = "delivery worker"

    def __init__(self, store: Store, clock: Clock, *, interval: float = 1.0, concurrency: int = 8, lease: timedelta = LEASE) -> None:
        self.store = store
        self.clock = clock
        self.senders: dict[str, Sender] = {}
        self.concurrency = concurrency
        self.lease = lease
        self.loop = Loop("delivery", self.run_once, interval=interval)

    def register(self, sender: Sender) -> None:
        for channel in sender.channels:
            self.senders[channel] = sender

    @property
    def channels(self) -> list[str]:
        return sorted(self.senders)

    def wake(self) -> None:
        self.loop.wake()

    async def start(self) -> None:
        await self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()

    async def run_once(self) -> int:
        """One pass: claim due rows (one per recipient, with the recipients' identities, in one
        statement), send them concurrently, and record every send of the pass in one transaction."""
        if not self.senders:
            return 0
        now = self.clock()
        async with self.store.write() as uow:
            claimed = await uow.outbox.claim_sends(channels=self.channels, now=now, until=now + self.lease, limit=self.concurrency)
        if not claimed:
            return 0
        async with leased([row.id for row, _ in claimed], self._renew, self.lease):
            outcomes = await asyncio.gather(*(self._one(row, recipient) for row, recipient in claimed))
            await self._record_sent([(row, sent) for (row, _), sent in zip(claimed, outcomes, strict=True) if sent is not None])
        return len(claimed)

    async def _renew(self, ids: list[str]) -> None:
        async with self.store.write() as uow:
            await uow.outbox.renew(ids, until=self.clock() + self.lease)

    async def _one(self, row: OutboxRecord, recipient: str | None) -> Sent | None:
        """Send one row: what the sender reported, or None when it failed (recorded here)."""
        sender = self.senders[row.channel]
        try:
            return await sender.send(row, recipient)
        except asyncio.CancelledError:
            raise
        except Undeliverable as exc:
            await self._record_failure(row, exc.reason, final=True)
        except RetryLater as exc:
            await self._record_failure(row, exc.reason, after=exc.after)
        except Exception as exc:  # noqa: BLE001 - an unexpected failure is retried like a temporary one
            await self._record_failure(row, type(exc).__name__)
        return None

    async def _record_sent(self, sent: list[tuple[OutboxRecord, Sent]]) -> None:
        """The pass's sends, recorded together once every send of it has returned (a crash before
        this commit sends them again when the lease runs out: at-least-once, as before)."""
        if not sent:
            return
        async with self.store.write() as uow:
            now = self.clock()
            await uow.outbox.mark_sent_many([(row.id, s.external_key) for row, s in sent], now=now)
            chats = [(row.submitter_id, row.case_id, s.chat_ref) for row, s in sent if s.chat_ref is not None and row.submitter_id is not None]
            if chats:
                await uow.chatlog.add_many(chats, direction="out", now=now)  # type: ignore[arg-type]
        for row, _ in sent:
            log.info("outbox %s sent (%s, %s)", row.id, row.channel, row.kind)

    async def _record_failure(self, row: OutboxRecord, reason: str, *, final: bool = False, after: float | None = None) -> None:
        attempts = row.attempts + 1
        async with self.store.write() as uow:
            if final or attempts >= MAX_ATTEMPTS:
                await uow.outbox.mark_failed(row.id, error=reason)
                log.warning("outbox %s failed after %d attempts (%s, %s): %s", row.id, attempts, row.channel, row.kind, reason)
                return
            await uow.outbox.mark_retry(row.id, error=reason, next_attempt_at=self.clock() + backoff(attempts, after=after))
        log.info("outbox %s attempt %d failed (%s, %s): %s; will retry", row.id, attempts, row.channel, row.kind, reason)
