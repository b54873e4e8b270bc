"""The contracts of the two queues every channel shares (see storage/queues.py for the SQL):
the inbox (what arrived) and the outbox (what we owe someone)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from storage.records import InboxItem, InboxRecord, OutboxRecord


class OutboxRepository(Protocol):
    """What we owe someone: replies, follow-ups, alerts. Delivered by the one delivery worker."""

    async def enqueue(
        self, *, channel: str, kind: str, payload: dict[str, Any], now: datetime, case_id: str | None = None, submitter_id: str | None = None
    ) -> str:
        """Queue a message (payload encrypted under the case's key, or a fresh key without a case)."""
        ...

    async def enqueue_many(
        self, items: Sequence[tuple[str, dict[str, Any]]], *, channel: str, now: datetime, case_id: str | None = None,
        submitter_id: str | None = None,
    ) -> list[str]:
        """`enqueue` of several (kind, payload) to one recipient, in order, in one statement."""
        ...

    async def due(self, *, channel: str, now: datetime, limit: int = 20) -> list[OutboxRecord]:
        """Pending rows whose time has come, locked against other workers (SKIP LOCKED)."""
        ...

    async def claim(self, *, channels: list[str], now: datetime, until: datetime, limit: int) -> list[OutboxRecord]:
        """Due rows nobody holds, each the oldest pending one of its recipient, leased until `until`.
        The caller commits at once and sends outside any transaction."""
        ...

    async def claim_sends(self, *, channels: list[str], now: datetime, until: datetime, limit: int) -> list[tuple[OutboxRecord, str | None]]:
        """`claim`, each row with its recipient's channel identity (None for a row to no submitter),
        in one statement."""
        ...

    async def renew(self, ids: list[str], *, until: datetime) -> None:
        """Extend the lease of rows still being sent."""
        ...

    async def case_for_external(self, external_key: str) -> str | None:
        """The case of a message we sent with this external id (e.g. its Message-ID)."""
        ...

    async def mark_sent(self, outbox_id: str, *, now: datetime, external_key: str | None = None) -> None:
        ...

    async def mark_sent_many(self, sent: Sequence[tuple[str, str | None]], *, now: datetime) -> None:
        """`mark_sent` of several rows: (outbox id, external key) each."""
        ...

    async def mark_retry(self, outbox_id: str, *, error: str, next_attempt_at: datetime) -> None:
        ...

    async def mark_failed(self, outbox_id: str, *, error: str) -> None:
        ...

    async def requeue(self, outbox_id: str, *, now: datetime) -> None:
        """A failed row back to pending (a human pressed retry)."""
        ...

    async def list(self, *, status: str | None = None, case_id: str | None = None, limit: int = 200) -> list[OutboxRecord]:
        ...

    async def blank_delivered(self, *, before: datetime) -> int:
        """Forget the content of messages delivered before `before` (the row and its dates stay)."""
        ...

    async def lock_counts(self) -> None:
        """Serialise the counting of auto-replies until commit (PostgreSQL: an advisory lock)."""
        ...

    async def counts_since(
        self, *, channel: str, since: datetime, submitter_id: str, mine: Sequence[str], everyone: Sequence[str],
    ) -> tuple[int, int]:
        """Two `count_since` in one statement: (rows of kinds `mine` queued for this submitter, rows
        of kinds `everyone` queued for anyone) on `channel` since `since`."""
        ...

    async def count_since(self, *, channel: str, kinds: Sequence[str], since: datetime, submitter_id: str | None = None) -> int:
        """How many rows of these kinds were queued on `channel` since `since` (for one submitter, or all)."""
        ...


class InboxRepository(Protocol):
    """Everything that arrived, on any channel, committed before it was acknowledged."""

    async def add(
        self, *, dedup_key: str, envelope: dict[str, Any], raw: bytes, now: datetime, channel: str = "email",
        order_key: str | None = None, seq: int | None = None,
    ) -> tuple[str, bool]:
        """Store what arrived; returns (id, created). A duplicate key returns the old id. Rows with one
        `order_key` (e.g. a chat) are processed one at a time in `seq` order (default: arrival)."""
        ...

    async def add_many(self, items: Sequence[InboxItem], *, now: datetime) -> list[tuple[str, bool]]:
        """`add` for several arrivals at once, in a few statements whatever their number (a group
        commit); returns (id, created) per item, in order."""
        ...

    async def claim(self, *, channels: list[str], now: datetime, until: datetime, limit: int) -> list[str]:
        """Ids of due rows nobody holds, each the oldest unfinished row of its order key, leased until `until`."""
        ...

    async def claim_rows(self, *, channels: list[str], now: datetime, until: datetime, limit: int) -> list[InboxRecord]:
        """`claim`, returning the claimed rows decrypted (as `get` would), in one statement."""
        ...

    async def renew(self, ids: list[str], *, until: datetime) -> None:
        """Extend the lease of rows still being worked on."""
        ...

    async def due(self, *, now: datetime, limit: int = 10) -> list[InboxRecord]:
        ...

    async def get(self, inbox_id: str) -> InboxRecord:
        ...

    async def status_of(self, inbox_id: str, *, lock: bool = False) -> str | None:
        """The row's status without decrypting it (None: no such row); `lock` holds it until commit."""
        ...

    async def mark_done(self, inbox_id: str, *, now: datetime, case_id: str | None) -> None:
        ...

    async def mark_retry(self, inbox_id: str, *, error: str, next_attempt_at: datetime) -> int:
        """Count a failed attempt and release the row until `next_attempt_at`; returns the attempts so far."""
        ...

    async def release(self, inbox_id: str, *, next_attempt_at: datetime) -> None:
        """Give the row back without counting an attempt (the failure was not the row's)."""
        ...

    async def mark_failed(self, inbox_id: str, *, error: str, now: datetime) -> None:
        ...

    async def requeue(self, inbox_id: str, *, now: datetime) -> None:
        ...

    async def list(self, *, status: str | None = None, limit: int = 200) -> list[InboxRecord]:
        ...

    async def counts(self) -> dict[str, int]:
        """Rows by status."""
        ...

    async def purge_done(self, *, before: datetime) -> int:
        """Delete processed rows older than `before` (their content was destroyed when processed)."""
        ...
