"""The two queues every channel shares: the inbox (what arrived, committed before it was
acknowledged) and the outbox (what we owe someone). Both are claimed with short leases in short
transactions, never held open across network I/O, and keep one recipient's rows in order.

Implements `InboxRepository` and `OutboxRepository` of `storage.repositories`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from storage import claims
from storage.crypto import CryptoError, new_data_key
from storage.encrypted import Base, utc, utc_req
from storage.models import DataKeyRow, Inbox, Outbox, new_id
from storage.repositories import InboxItem, InboxRecord, NotFound, OutboxRecord

_counter = itertools.count()
COUNT_LOCK = 0x1A7A4E  # the advisory lock id of the outbox counts


def next_seq() -> int:
    """A position that grows within this process even when the clock is pinned (tests) or repeats."""
    return time.time_ns() + next(_counter)


class SqlInbox(Base):
    async def add(
        self, *, dedup_key: str, envelope: dict[str, Any], raw: bytes, now: datetime, channel: str = "email",
        order_key: str | None = None, seq: int | None = None,
    ) -> tuple[str, bool]:
        index = await self._index("inbox", dedup_key)
        existing = await self.s.scalar(select(Inbox.id).where(Inbox.dedup_index == index))
        if existing is not None:
            return existing, False
        key = await self.keys.create(self.s, purpose="inbox", now=now)
        row_id = new_id()
        self.s.add(
            Inbox(
                id=row_id,
                channel=channel,
                dedup_index=index,
                order_key=await self._index("order", order_key) if order_key else None,
                seq=next_seq() if seq is None else seq,
                data_key_id=key.id,
                envelope_enc=key.encrypt_json(envelope, table="inbox", column="envelope", row_id=row_id),
                raw_enc=key.encrypt(raw, table="inbox", column="raw", row_id=row_id),
                size=len(raw),
                status="new",
                attempts=0,
                received_at=now,
                next_attempt_at=now,
            )
        )
        try:
            async with self.s.begin_nested():
                await self.s.flush()
        except IntegrityError:
            existing = await self.s.scalar(select(Inbox.id).where(Inbox.dedup_index == index))
            assert existing is not None
            return existing, False
        return row_id, True

    async def add_many(self, items: Sequence[InboxItem], *, now: datetime) -> list[tuple[str, bool]]:
        """One SELECT for the keys already stored and one multi-row INSERT each for the new rows'
        data keys and the rows (in a savepoint); if another process stored one of them meanwhile,
        each is added on its own instead."""
        if len(items) == 1:  # one arrival: the plain path is the cheaper one
            item = items[0]
            return [await self.add(dedup_key=item.dedup_key, envelope=item.envelope, raw=item.raw, now=now, channel=item.channel,
                                   order_key=item.order_key, seq=item.seq)]
        indexes = [await self._index("inbox", item.dedup_key) for item in items]
        found = (await self.s.execute(select(Inbox.dedup_index, Inbox.id).where(Inbox.dedup_index.in_(set(indexes))))).all()
        existing: dict[str, str] = {index: row_id for index, row_id in found}
        out: list[tuple[str, bool]] = []
        keys: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        for item, index in zip(items, indexes, strict=True):
            if index in existing:
                out.append((existing[index], False))
                continue
            row_id, key = new_id(), new_data_key(new_id())
            master_id, wrapped = self.keys.master.wrap(key.key, key.id)
            keys.append({"id": key.id, "purpose": "inbox", "master_key_id": master_id, "wrapped": wrapped, "created_at": now})
            rows.append({
                "id": row_id, "channel": item.channel, "dedup_index": index,
                "order_key": await self._index("order", item.order_key) if item.order_key else None,
                "seq": next_seq() if item.seq is None else item.seq, "data_key_id": key.id,
                "envelope_enc": key.encrypt_json(item.envelope, table="inbox", column="envelope", row_id=row_id),
                "raw_enc": key.encrypt(item.raw, table="inbox", column="raw", row_id=row_id),
                "size": len(item.raw), "status": "new", "attempts": 0, "received_at": now, "next_attempt_at": now,
            })
            existing[index] = row_id  # the same message twice in one batch: stored once
            out.append((row_id, True))
        if not rows:
            return out
        try:
            async with self.s.begin_nested():
                await self.s.execute(insert(DataKeyRow), keys)
                await self.s.execute(insert(Inbox), rows)
        except IntegrityError:  # another process stored one of these first
            return [await self.add(dedup_key=i.dedup_key, envelope=i.envelope, raw=i.raw, now=now, channel=i.channel,
                                   order_key=i.order_key, seq=i.seq) for i in items]
        return out

    async def _record(self, row: Inbox) -> InboxRecord:
        if not row.raw_enc:  # processed: what arrived was destroyed once its content was on the case
            return InboxRecord(
                id=row.id, status=row.status, attempts=row.attempts, error=row.error, case_id=row.case_id, size=row.size,
                received_at=utc_req(row.received_at), envelope={}, raw=b"", channel=row.channel,
            )
        key = await self._key(row.data_key_id)
        return InboxRecord(
            id=row.id,
            status=row.status,
            attempts=row.attempts,
            error=row.error,
            case_id=row.case_id,
            size=row.size,
            received_at=utc_req(row.received_at),
            envelope=key.decrypt_json(row.envelope_enc, table="inbox", column="envelope", row_id=row.id),
            raw=key.decrypt(row.raw_enc, table="inbox", column="raw", row_id=row.id),
            channel=row.channel,
        )

    async def claim(self, *, channels: list[str], now: datetime, until: datetime, limit: int) -> list[str]:
        """Ids of due rows nobody holds, each the oldest unfinished row of its order key, leased to `until`."""
        ids = list((await self.s.scalars(claims.inbox_claim(limit), {"channels": list(channels), "now": now})).all())
        if ids:
            await self.s.execute(update(Inbox).where(Inbox.id.in_(ids)).values(leased_until=until))
        return ids

    async def claim_rows(self, *, channels: list[str], now: datetime, until: datetime, limit: int) -> list[InboxRecord]:
        """`claim` and `get` of every claimed row in ONE statement (an UPDATE … RETURNING the rows
        and their data keys), oldest first."""
        found = (await self.s.execute(claims.inbox_claim_rows(limit), {"channels": list(channels), "now": now, "until": until})).all()
        out = []
        for r in sorted(found, key=lambda r: (utc_req(r.received_at), r.seq)):
            self._unwrapped(r.data_key_id, r.master_key_id, r.wrapped)
            key = await self._key(r.data_key_id)
            out.append(InboxRecord(
                id=r.id, status=r.status, attempts=r.attempts, error=r.error, case_id=r.case_id, size=r.size,
                received_at=utc_req(r.received_at), channel=r.channel,
                envelope=key.decrypt_json(r.envelope_enc, table="inbox", column="envelope", row_id=r.id),
                raw=key.decrypt(r.raw_enc, table="inbox", column="raw", row_id=r.id),
            ))
        return out

    async def renew(self, ids: list[str], *, until: datetime) -> None:
        if ids:
            await self.s.execute(update(Inbox).where(Inbox.id.in_(ids), Inbox.status == "new").values(leased_until=until))

    async def due(self, *, now: datetime, limit: int = 10) -> list[InboxRecord]:
        stmt = (
            select(Inbox)
            .where(Inbox.status == "new", or_(Inbox.next_attempt_at.is_(None), Inbox.next_attempt_at <= now))
            .order_by(Inbox.received_at, Inbox.seq)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [await self._record(r) for r in (await self.s.scalars(stmt)).all()]

    async def get(self, inbox_id: str) -> InboxRecord:
        stmt = (
            select(Inbox, DataKeyRow.master_key_id, DataKeyRow.wrapped)
            .outerjoin(DataKeyRow, DataKeyRow.id == Inbox.data_key_id)
            .where(Inbox.id == inbox_id)
        )
        found = (await self.s.execute(stmt)).first()  # the row and its key in one statement
        if found is None:
            raise NotFound(inbox_id)
        row: Inbox = found[0]
        self._unwrapped(row.data_key_id, found[1], found[2])
        return await self._record(row)

    async def status_of(self, inbox_id: str, *, lock: bool = False) -> str | None:
        stmt = select(Inbox.status, Inbox.data_key_id).where(Inbox.id == inbox_id)
        if lock:
            stmt = stmt.with_for_update()
        found = (await self.s.execute(stmt)).first()
        if found is None:
            return None
        self._owned("inbox", inbox_id, found.data_key_id)  # `mark_done` destroys it without asking again
        status: str = found.status
        return status

    async def mark_done(self, inbox_id: str, *, now: datetime, case_id: str | None) -> None:
        """Done: what arrived is now on the case (or needed nothing), so the raw message and its
        envelope are destroyed with their key; the row keeps its dedup hash, status and dates."""
        key_id = self._owners.get(f"inbox:{inbox_id}") or await self.s.scalar(select(Inbox.data_key_id).where(Inbox.id == inbox_id))
        in_one = key_id is not None and self.s.get_bind().dialect.name == "postgresql"  # the key destroyed by the same statement
        await self.s.execute(claims.inbox_done(in_one), {"iid": inbox_id, "now": now, "case_id": case_id})
        if key_id is not None:
            if not in_one:
                await self.keys.destroy(self.s, key_id, now=now)
            self._dk.pop(key_id, None)

    async def purge_done(self, *, before: datetime) -> int:
        """Delete processed rows older than `before` (their content is already destroyed)."""
        result = await self.s.execute(delete(Inbox).where(Inbox.status == "done", Inbox.processed_at < before))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def mark_retry(self, inbox_id: str, *, error: str, next_attempt_at: datetime) -> int:
        await self.s.execute(
            update(Inbox)
            .where(Inbox.id == inbox_id, Inbox.status == "new")
            .values(attempts=Inbox.attempts + 1, error=error[:500], next_attempt_at=next_attempt_at, leased_until=None)
        )
        return int(await self.s.scalar(select(Inbox.attempts).where(Inbox.id == inbox_id)) or 0)

    async def release(self, inbox_id: str, *, next_attempt_at: datetime) -> None:
        """Give the row back without counting an attempt (the failure was not the row's)."""
        await self.s.execute(
            update(Inbox).where(Inbox.id == inbox_id, Inbox.status == "new").values(next_attempt_at=next_attempt_at, leased_until=None)
        )

    async def mark_failed(self, inbox_id: str, *, error: str, now: datetime) -> None:
        await self.s.execute(
            update(Inbox)
            .where(Inbox.id == inbox_id)
            .values(status="failed", processed_at=now, attempts=Inbox.attempts + 1, error=error[:500], leased_until=None)
        )

    async def requeue(self, inbox_id: str, *, now: datetime) -> None:
        await self.s.execute(
            update(Inbox).where(and_(Inbox.id == inbox_id, Inbox.status == "failed")).values(status="new", next_attempt_at=now, leased_until=None)
        )

    async def list(self, *, status: str | None = None, limit: int = 200) -> list[InboxRecord]:
        stmt = select(Inbox)
        if status:
            stmt = stmt.where(Inbox.status == status)
        stmt = stmt.order_by(Inbox.received_at.desc()).limit(limit)
        return [await self._record(r) for r in (await self.s.scalars(stmt)).all()]

    async def counts(self) -> dict[str, int]:
        """Rows by status (for operators and tests; no content)."""
        rows = (await self.s.execute(select(Inbox.status, func.count(Inbox.id)).group_by(Inbox.status))).all()
        return {status: int(n) for status, n in rows}


class SqlOutbox(Base):
    async def enqueue(
        self, *, channel: str, kind: str, payload: dict[str, Any], now: datetime, case_id: str | None = None, submitter_id: str | None = None
    ) -> str:
        if case_id is not None:
            key = await self._case_key(case_id)
        else:
            key = await self.keys.create(self.s, purpose="outbox", now=now)
            self._dk[key.id] = key
        row_id = new_id()
        self.s.add(
            Outbox(
                id=row_id,
                channel=channel,
                kind=kind,
                case_id=case_id,
                submitter_id=submitter_id,
                data_key_id=key.id,
                payload_enc=key.encrypt_json(payload, table="outbox", column="payload", row_id=row_id),
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                seq=next_seq(),
            )
        )
        # flushed with the rest of the transaction's rows (the next query or the commit)
        return row_id

    async def enqueue_many(
        self, items: Sequence[tuple[str, dict[str, Any]]], *, channel: str, now: datetime, case_id: str | None = None,
        submitter_id: str | None = None,
    ) -> list[str]:
        """`enqueue` of several (kind, payload) to one recipient, in order, as one multi-row INSERT."""
        rows: list[dict[str, Any]] = []
        for kind, payload in items:
            key = await self._case_key(case_id) if case_id is not None else await self.keys.create(self.s, purpose="outbox", now=now)
            self._dk[key.id] = key
            row_id = new_id()
            rows.append({
                "id": row_id, "channel": channel, "kind": kind, "case_id": case_id, "submitter_id": submitter_id, "data_key_id": key.id,
                "payload_enc": key.encrypt_json(payload, table="outbox", column="payload", row_id=row_id), "status": "pending", "attempts": 0,
                "next_attempt_at": now, "created_at": now, "seq": next_seq(),
            })
        if rows:
            await self.s.execute(insert(claims.table_of(Outbox)).values(rows))  # one INSERT … VALUES (…), (…), not an executemany
        return [str(r["id"]) for r in rows]

    async def _record(self, row: Any) -> OutboxRecord:  # an Outbox, or a row of its columns
        try:
            key = await self._key(row.data_key_id)
            payload = key.decrypt_json(row.payload_enc, table="outbox", column="payload", row_id=row.id) if row.payload_enc else {}
        except (LookupError, CryptoError):  # the case was shredded, or the payload blanked after delivery
            payload = {}
        return OutboxRecord(
            row.id, row.channel, row.kind, row.case_id, row.submitter_id, payload, row.status, row.attempts,
            utc_req(row.next_attempt_at), row.last_error, utc_req(row.created_at), utc(row.sent_at),
        )

    async def due(self, *, channel: str, now: datetime, limit: int = 20) -> list[OutboxRecord]:
        stmt = (
            select(Outbox)
            .where(Outbox.channel == channel, Outbox.status == "pending", Outbox.next_attempt_at <= now)
            .order_by(Outbox.next_attempt_at, Outbox.seq)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [await self._record(r) for r in (await self.s.scalars(stmt)).all()]

    async def claim(self, *, channels: list[str], now: datetime, until: datetime, limit: int) -> list[OutboxRecord]:
        """Due rows nobody holds, each the oldest pending row for its recipient, leased to `until`."""
        return [row for row, _ in await self.claim_sends(channels=channels, now=now, until=until, limit=limit)]

    async def claim_sends(self, *, channels: list[str], now: datetime, until: datetime, limit: int) -> list[tuple[OutboxRecord, str | None]]:
        """`claim` in ONE statement (an UPDATE … RETURNING), each row with its recipient's identity
        decrypted (None for a row to no submitter), oldest first."""
        found = (await self.s.execute(claims.outbox_claim_rows(limit), {"channels": list(channels), "now": now, "until": until})).all()
        out: list[tuple[OutboxRecord, str | None]] = []
        for r in sorted(found, key=lambda r: r.seq):
            self._unwrapped(r.data_key_id, r.master_key_id, r.wrapped)
            recipient = None
            if r.submitter_id is not None and r.s_key_id is not None:
                self._owned("submitter", r.submitter_id, r.s_key_id)
                self._unwrapped(r.s_key_id, r.s_master_key_id, r.s_wrapped)
                recipient = (await self._key(r.s_key_id)).decrypt_text(r.identity_enc, table="submitters", column="identity", row_id=r.submitter_id)
            out.append((await self._record(r), recipient))
        return out

    async def renew(self, ids: list[str], *, until: datetime) -> None:
        if ids:
            await self.s.execute(update(Outbox).where(Outbox.id.in_(ids), Outbox.status == "pending").values(leased_until=until))

    async def case_for_external(self, external_key: str) -> str | None:
        """The case of a message we sent with this external id (e.g. its Message-ID)."""
        index = await self._index("external", external_key)
        case_id: str | None = await self.s.scalar(select(Outbox.case_id).where(Outbox.external_index == index).limit(1))
        return case_id

    async def mark_sent(self, outbox_id: str, *, now: datetime, external_key: str | None = None) -> None:
        values: dict[str, Any] = {"status": "sent", "sent_at": now, "attempts": Outbox.attempts + 1, "last_error": None, "leased_until": None}
        if external_key:
            values["external_index"] = await self._index("external", external_key)
        await self.s.execute(update(Outbox).where(Outbox.id == outbox_id).values(**values))

    async def mark_sent_many(self, sent: Sequence[tuple[str, str | None]], *, now: datetime) -> None:
        """`mark_sent` of several rows, (outbox id, external key) each, in one executemany."""
        if sent:
            await self.s.execute(claims.outbox_sent(), [
                {"oid": oid, "now": now, "ext": await self._index("external", ext) if ext else None} for oid, ext in sent
            ])

    async def mark_retry(self, outbox_id: str, *, error: str, next_attempt_at: datetime) -> None:
        await self.s.execute(
            update(Outbox)
            .where(Outbox.id == outbox_id)
            .values(attempts=Outbox.attempts + 1, last_error=error[:500], next_attempt_at=next_attempt_at, leased_until=None)
        )

    async def mark_failed(self, outbox_id: str, *, error: str) -> None:
        await self.s.execute(
            update(Outbox)
            .where(Outbox.id == outbox_id)
            .values(status="failed", attempts=Outbox.attempts + 1, last_error=error[:500], leased_until=None)
        )

    async def requeue(self, outbox_id: str, *, now: datetime) -> None:
        await self.s.execute(
            update(Outbox)
            .where(Outbox.id == outbox_id, Outbox.status == "failed")
            .values(status="pending", next_attempt_at=now, leased_until=None)
        )

    async def list(self, *, status: str | None = None, case_id: str | None = None, limit: int = 200) -> list[OutboxRecord]:
        stmt = select(Outbox)
        if status:
            stmt = stmt.where(Outbox.status == status)
        if case_id:
            stmt = stmt.where(Outbox.case_id == case_id)
        stmt = stmt.order_by(Outbox.created_at.desc(), Outbox.seq.desc()).limit(limit)
        return [await self._record(r) for r in (await self.s.scalars(stmt)).all()]

    async def blank_delivered(self, *, before: datetime) -> int:
        """Forget the content of messages delivered before `before` (the row, its status and dates stay)."""
        stmt = update(Outbox).where(Outbox.status == "sent", Outbox.sent_at < before, Outbox.payload_enc != b"").values(payload_enc=b"")
        result = await self.s.execute(stmt)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def lock_counts(self) -> None:
        """A transaction-scoped advisory lock on PostgreSQL (concurrent receives would otherwise all
        count before any of them commits); SQLite already runs one writer at a time."""
        if self.s.get_bind().dialect.name == "postgresql":
            await self.s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": COUNT_LOCK})

    async def counts_since(
        self, *, channel: str, since: datetime, submitter_id: str, mine: Sequence[str], everyone: Sequence[str],
    ) -> tuple[int, int]:
        """`count_since` twice in one statement: rows of kinds `mine` for this submitter, and rows of
        kinds `everyone` for all, queued on `channel` since `since`."""
        stmt = select(
            func.count(Outbox.id).filter(Outbox.submitter_id == submitter_id, Outbox.kind.in_(mine)),
            func.count(Outbox.id).filter(Outbox.kind.in_(everyone)),
        ).where(Outbox.channel == channel, Outbox.created_at >= since, Outbox.kind.in_(sorted({*mine, *everyone})))
        found = (await self.s.execute(stmt)).one()
        return int(found[0] or 0), int(found[1] or 0)

    async def count_since(self, *, channel: str, kinds: Sequence[str], since: datetime, submitter_id: str | None = None) -> int:
        """How many rows of these kinds were queued on `channel` since `since` (for one submitter, or all)."""
        stmt = select(func.count(Outbox.id)).where(Outbox.channel == channel, Outbox.kind.in_(kinds), Outbox.created_at >= since)
        if submitter_id is not None:
            stmt = stmt.where(Outbox.submitter_id == submitter_id)
        return int(await self.s.scalar(stmt) or 0)
