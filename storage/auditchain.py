"""The audit log as a hash chain. Appending stays lock-free (an event is written unsealed); a
sealer — one at a time — gives each unsealed event the next place in the chain and the hash of
the previous event's hash plus its own fields. `verify` walks the chain and names the first place
where it breaks. Ship the hashes off-host (README) so that rewriting the whole chain shows too."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.encrypted import utc_req
from storage.models import AuditEvent

GENESIS = "0" * 64
SEAL_LOCK = 0x1A0D17  # the PostgreSQL advisory lock held while sealing


def event_hash(prev: str, row: AuditEvent) -> str:
    """sha256 over the previous hash and the event's fields, in a canonical JSON form."""
    fields = {
        "id": row.id, "at": utc_req(row.at).isoformat(), "case_id": row.case_id, "actor_kind": row.actor_kind,
        "actor_id": row.actor_id, "action": row.action, "detail": row.detail or {}, "remote": row.remote,
    }
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()


@dataclass
class Verdict:
    sealed: int
    unsealed: int
    broken_at: int | None  # the chain place of the first event whose hash does not follow
    head: str


async def seal(session: AsyncSession, *, limit: int = 1000) -> int:
    """Chain up to `limit` unsealed events (oldest first); returns how many. Call in a write transaction."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEAL_LOCK})
    last = (await session.execute(select(AuditEvent.chain_seq, AuditEvent.hash).where(AuditEvent.chain_seq.is_not(None)).order_by(AuditEvent.chain_seq.desc()).limit(1))).first()
    seq, prev = (int(last[0] or 0), str(last[1])) if last else (0, GENESIS)
    rows = (await session.scalars(select(AuditEvent).where(AuditEvent.chain_seq.is_(None)).order_by(AuditEvent.at, AuditEvent.id).limit(limit))).all()
    for row in rows:
        seq += 1
        row.chain_seq = seq
        row.hash = prev = event_hash(prev, row)
    await session.flush()
    return len(rows)


async def verify(session: AsyncSession) -> Verdict:
    """Walk the sealed chain in order; the first event whose hash does not follow breaks it."""
    prev, expected_seq, sealed = GENESIS, 1, 0
    broken: int | None = None
    stmt = select(AuditEvent).where(AuditEvent.chain_seq.is_not(None)).order_by(AuditEvent.chain_seq)
    for row in (await session.scalars(stmt)).all():
        sealed += 1
        if broken is None and (row.chain_seq != expected_seq or row.hash != event_hash(prev, row)):
            broken = row.chain_seq
        prev = row.hash or ""
        expected_seq += 1
    unsealed = int(await session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.chain_seq.is_(None))) or 0)
    return Verdict(sealed, unsealed, broken, prev)
