"""What happened: the audit trail, processed channel events (idempotency), and the ids of chat
messages kept for wiping a conversation later."""


from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from storage.claims import submitter_keys
from storage.encrypted import Base, utc, utc_req
from storage.models import (
    AuditEvent,
    ChatMessage,
    ProcessedEvent,
    new_id,
)
from storage.repositories import (
    AuditRecord,
)


class SqlAudit(Base):
    async def record(
        self,
        *,
        action: str,
        now: datetime,
        actor_kind: str,
        actor_id: str | None = None,
        case_id: str | None = None,
        detail: dict[str, Any] | None = None,
        remote: str | None = None,
    ) -> None:
        self.s.add(
            AuditEvent(id=new_id(), at=now, case_id=case_id, actor_kind=actor_kind, actor_id=actor_id, action=action, detail=detail or {}, remote=remote)
        )
        # flushed with the rest of the transaction's rows (the next query or the commit)

    async def last(self, *, action: str) -> datetime | None:
        at: datetime | None = await self.s.scalar(select(func.max(AuditEvent.at)).where(AuditEvent.action == action))
        return utc(at)

    async def for_case(self, case_id: str) -> list[AuditRecord]:
        rows = (await self.s.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.at, AuditEvent.id))).all()
        return [AuditRecord(r.id, utc_req(r.at), r.case_id, r.actor_kind, r.actor_id, r.action, dict(r.detail or {}), r.remote) for r in rows]


class SqlEvents(Base):
    _absent: set[tuple[str, str]] | None = None  # (channel, index) found unseen in this transaction

    async def seen(self, *, channel: str, key: str) -> dict[str, Any] | None:
        index = await self._index(f"event:{channel}", key)
        row = await self.s.scalar(select(ProcessedEvent).where(ProcessedEvent.channel == channel, ProcessedEvent.event_index == index))
        if row is None:
            self._absent = (self._absent or set()) | {(channel, index)}
            return None
        if row.result_enc is None or row.data_key_id is None:
            return {}
        dk = await self._key(row.data_key_id)
        result: dict[str, Any] = dk.decrypt_json(row.result_enc, table="processed_events", column="result", row_id=row.id)
        return result

    async def remember(self, *, channel: str, key: str, result: dict[str, Any], now: datetime, submitter_id: str | None = None) -> bool:
        index = await self._index(f"event:{channel}", key)
        # checked by `seen` in this transaction: not asked again (a racing twin fails on the unique key)
        checked = self._absent is not None and (channel, index) in self._absent
        if not checked and await self.s.scalar(select(ProcessedEvent.id).where(ProcessedEvent.channel == channel, ProcessedEvent.event_index == index)):
            return False
        data_key_id = None
        row_id = new_id()
        result_enc = None
        if submitter_id:
            dk = await self._submitter_key(submitter_id)
            data_key_id = dk.id
            result_enc = dk.encrypt_json(result, table="processed_events", column="result", row_id=row_id)
        self.s.add(
            ProcessedEvent(
                id=row_id, channel=channel, event_index=index, submitter_id=submitter_id, result_enc=result_enc,
                data_key_id=data_key_id, created_at=now,
            )
        )
        # flushed with the rest of the transaction's rows (the next query or the commit)
        return True


class SqlChatLog(Base):
    async def add(self, *, submitter_id: str, case_id: str | None, direction: str, ref: dict[str, Any], now: datetime) -> None:
        key = await self._submitter_key(submitter_id)
        row_id = new_id()
        self.s.add(
            ChatMessage(
                id=row_id, submitter_id=submitter_id, case_id=case_id, direction=direction,
                ref_enc=key.encrypt_json(ref, table="chat_messages", column="ref", row_id=row_id), created_at=now,
            )
        )
        # flushed with the rest of the transaction's rows (the next query or the commit)

    async def add_many(self, items: Sequence[tuple[str, str | None, dict[str, Any]]], *, direction: str, now: datetime) -> None:
        """Several `add`s; the submitters' keys not yet known in this transaction are read together."""
        wanted = sorted({sid for sid, _, _ in items if f"submitter:{sid}" not in self._owners})
        if wanted:
            for sid, key_id, master_key_id, wrapped in (await self.s.execute(submitter_keys(), {"ids": wanted})).all():
                self._owned("submitter", sid, key_id)
                self._unwrapped(key_id, master_key_id, wrapped)
        for submitter_id, case_id, ref in items:
            await self.add(submitter_id=submitter_id, case_id=case_id, direction=direction, ref=ref, now=now)

    async def for_submitter(self, submitter_id: str) -> list[dict[str, Any]]:
        key = await self._submitter_key(submitter_id)
        rows = (await self.s.scalars(select(ChatMessage).where(ChatMessage.submitter_id == submitter_id).order_by(ChatMessage.created_at))).all()
        out: list[dict[str, Any]] = []
        for r in rows:
            ref: dict[str, Any] = key.decrypt_json(r.ref_enc, table="chat_messages", column="ref", row_id=r.id)
            out.append({"case_id": r.case_id, "direction": r.direction, **ref})
        return out
