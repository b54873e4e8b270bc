"""Queries the email channel needs beyond the shared repositories: leases on inbox and outbox
rows (so several processes never work on one row at once), the hourly auto-reply count, and the
Message-IDs of a case's email thread. Runs inside the caller's transaction; never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from storage.models import Inbox, Outbox
from storage.repositories import OutboxRecord, UnitOfWork

AUTOREPLY_KINDS = ("form", "ack")  # the outbox kinds the email channel sends without a human


@dataclass(frozen=True)
class ThreadItem:
    """One email of a case thread: when, and its Message-ID (ours are derived from outbox ids)."""

    at: datetime
    message_id: str


class MailQueries:
    """Email-channel queries bound to one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.s = uow.session

    async def claim_inbox(self, *, now: datetime, lease: timedelta, limit: int) -> list[str]:
        """Ids of new inbox rows that are due, leased until `now + lease` (SKIP LOCKED on PostgreSQL)."""
        stmt = (
            select(Inbox.id)
            .where(Inbox.channel == "email", Inbox.status == "new", or_(Inbox.next_attempt_at.is_(None), Inbox.next_attempt_at <= now))
            .order_by(Inbox.received_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list((await self.s.scalars(stmt)).all())
        if ids:
            await self.s.execute(update(Inbox).where(Inbox.id.in_(ids)).values(next_attempt_at=now + lease))
        return ids

    async def claim_outbox(self, *, now: datetime, lease: timedelta, limit: int) -> list[OutboxRecord]:
        """Due email outbox rows, leased until `now + lease` so no other sender takes them meanwhile."""
        rows = await self.uow.outbox.due(channel="email", now=now, limit=limit)
        if rows:
            await self.s.execute(update(Outbox).where(Outbox.id.in_([r.id for r in rows])).values(next_attempt_at=now + lease))
        return rows

    async def autoreplies_since(self, *, submitter_id: str, since: datetime) -> int:
        """How many automatic emails were queued for this submitter since `since`."""
        stmt = select(func.count(Outbox.id)).where(
            Outbox.channel == "email",
            Outbox.submitter_id == submitter_id,
            Outbox.kind.in_(AUTOREPLY_KINDS),
            Outbox.created_at >= since,
        )
        return int(await self.s.scalar(stmt) or 0)

    async def thread(self, case_id: str, *, domain: str) -> list[ThreadItem]:
        """The case's emails in time order: received ones (from the inbox) and the ones we sent."""
        items: list[ThreadItem] = []
        inbox_ids = (await self.s.scalars(select(Inbox.id).where(Inbox.case_id == case_id))).all()
        for inbox_id in inbox_ids:
            record = await self.uow.inbox.get(inbox_id)
            mid = record.envelope.get("message_id")
            if isinstance(mid, str) and mid:
                items.append(ThreadItem(record.received_at, mid))
        sent = (
            await self.s.execute(
                select(Outbox.id, Outbox.sent_at).where(Outbox.case_id == case_id, Outbox.channel == "email", Outbox.status == "sent")
            )
        ).all()
        for outbox_id, sent_at in sent:
            if sent_at is not None:
                items.append(ThreadItem(_aware(sent_at), our_message_id(outbox_id, domain)))
        return sorted(items, key=lambda i: i.at)


def our_message_id(outbox_id: str, domain: str) -> str:
    """The Message-ID of the email sent for an outbox row: stable across retries."""
    return f"<{outbox_id}.intake@{domain or 'localhost'}>"


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
