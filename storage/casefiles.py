"""Cases: drafts and their lifecycle fields, the per-case data key, deletion."""


from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from storage.blobs import BlobStore
from storage.claims import table_of
from storage.crypto import DataKey
from storage.encrypted import Base, utc, utc_req
from storage.keys import KeyStore
from storage.models import (
    Attachment,
    AuditEvent,
    Case,
    CaseTerm,
    ChatMessage,
    DataKeyRow,
    Inbox,
    Message,
    Outbox,
    Submitter,
    new_id,
)
from storage.repositories import (
    CaseRecord,
    CaseStub,
    ConcurrentUpdate,
    NotFound,
)
from storage.search_index import DocumentFn, drafts_seen, drop_case, index_case


class SqlCases(Base):
    def __init__(
        self, session: AsyncSession, keys: KeyStore, blobs: BlobStore, cache: dict[str, DataKey] | None = None,
        owners: dict[str, str] | None = None,
    ) -> None:
        super().__init__(session, keys, cache, owners)
        self.blobs = blobs
        self._orphans: list[str] = []  # blob refs to remove once the transaction commits
        self.documents: DocumentFn | None = None  # what a case contributes to the search index (set by the store)

    def take_orphans(self) -> list[str]:
        out, self._orphans = self._orphans, []
        return out

    async def _record(self, row: Case) -> CaseRecord:
        self._owned("case", row.id, row.data_key_id)
        drafts_seen(self.s, row.id, row.status == "draft")
        if row.shredded_at is not None:  # a tombstone: the facts about the case, no content
            draft: dict[str, Any] = {"answers": {}, "lang": row.lang}
            reason = None
        else:
            key = await self._key(row.data_key_id)
            draft = key.decrypt_json(row.draft_enc, table="cases", column="draft", row_id=row.id)
            reason = (
                key.decrypt_text(row.decision_reason_enc, table="cases", column="decision_reason", row_id=row.id)
                if row.decision_reason_enc
                else None
            )
        return CaseRecord(
            id=row.id,
            reference=row.reference,
            status=row.status,
            channel=row.channel,
            submitter_id=row.submitter_id,
            questionnaire_id=row.questionnaire_id,
            questionnaire_version=row.questionnaire_version,
            lang=row.lang,
            draft=draft,
            version=row.version,
            created_at=utc_req(row.created_at),
            updated_at=utc_req(row.updated_at),
            submitted_at=utc(row.submitted_at),
            assigned_to=row.assigned_to,
            claimed_at=utc(row.claimed_at),
            decision=row.decision,
            decision_reason=reason,
            decided_at=utc(row.decided_at),
            shredded_at=utc(row.shredded_at),
            withdrawn_at=utc(row.withdrawn_at),
            reopened=list(row.reopened or []),
        )

    async def create(
        self,
        *,
        submitter_id: str,
        channel: str,
        reference: str,
        questionnaire_id: str,
        questionnaire_version: int,
        lang: str,
        draft: dict[str, Any],
        status: str,
        now: datetime,
    ) -> CaseRecord:
        row_id = new_id()
        key = await self.keys.create(self.s, purpose="case", now=now)
        self._dk[key.id] = key
        self._owned("case", row_id, key.id)
        row = Case(
            id=row_id,
            reference=reference,
            status=status,
            channel=channel,
            submitter_id=submitter_id,
            data_key_id=key.id,
            questionnaire_id=questionnaire_id,
            questionnaire_version=questionnaire_version,
            lang=lang,
            draft_enc=key.encrypt_json(draft, table="cases", column="draft", row_id=row_id),
            version=0,
            created_at=now,
            updated_at=now,
            queued_at=now,
            waiting_at=now,
            reopened=[],
        )
        self.s.add(row)
        await self.s.flush()
        record = await self._record(row)
        await index_case(self.s, self.keys, record, key, self.documents, indexed_with=None)  # nothing unless created past draft
        return record

    async def _one(self, stmt: Select[Case], *, lock: bool) -> Case | None:
        """The case row of `stmt`, its data key row loaded by the same statement (so the key is
        unwrapped without another read); `lock` takes a row lock on the case only."""
        joined = stmt.add_columns(DataKeyRow.master_key_id, DataKeyRow.wrapped).outerjoin(DataKeyRow, DataKeyRow.id == Case.data_key_id)
        if lock:
            joined = joined.with_for_update(of=Case)
        found = (await self.s.execute(joined)).first()
        if found is None:
            return None
        row: Case = found[0]
        self._unwrapped(row.data_key_id, found[1], found[2])
        return row

    async def _row(self, case_id: str, *, lock: bool) -> Case:
        row = await self._one(select(Case).where(Case.id == case_id), lock=lock)
        if row is None:
            raise NotFound(case_id)
        return row

    async def get(self, case_id: str, *, lock: bool = False) -> CaseRecord:
        return await self._record(await self._row(case_id, lock=lock))

    async def by_reference(self, reference: str, *, lock: bool = False) -> CaseRecord | None:
        row = await self._one(select(Case).where(Case.reference == reference.strip().upper()), lock=lock)
        return await self._record(row) if row else None

    async def open_draft(self, submitter_id: str, *, lock: bool = False) -> CaseRecord | None:
        stmt = (
            select(Case)
            .where(Case.submitter_id == submitter_id, Case.status == "draft")
            .order_by(Case.created_at.desc())
            .limit(1)
        )
        row = await self._one(stmt, lock=lock)
        return await self._record(row) if row else None

    def _active(self, submitter: Any, amendable: list[str]) -> Select[Any]:
        session_open = and_(Case.amending.is_(True), Case.status.in_(amendable))
        return (
            select(Case)
            .where(Case.submitter_id == submitter, or_(Case.status == "draft", session_open))
            .order_by(Case.amending.desc(), Case.created_at.desc())
            .limit(1)
        )

    async def active(self, submitter_id: str, amendable: list[str], *, lock: bool = False) -> CaseRecord | None:
        row = await self._one(self._active(submitter_id, amendable), lock=lock)
        return await self._record(row) if row else None

    async def active_of(self, *, channel: str, identity: str, amendable: list[str]) -> CaseRecord | None:
        index = await self._index(f"submitter:{channel}", identity)
        submitter = select(Submitter.id).where(Submitter.channel == channel, Submitter.identity_index == index).scalar_subquery()
        row = await self._one(self._active(submitter, amendable), lock=False)
        return await self._record(row) if row else None

    async def amending_of(self, submitter_id: str, statuses: list[str], *, lock: bool = False) -> CaseRecord | None:
        stmt = (
            select(Case)
            .where(Case.submitter_id == submitter_id, Case.amending.is_(True), Case.status.in_(statuses))
            .order_by(Case.created_at.desc())
            .limit(1)
        )
        row = await self._one(stmt, lock=lock)
        return await self._record(row) if row else None

    async def open_draft_of(self, *, channel: str, identity: str) -> CaseRecord | None:
        """`open_draft` of the submitter with this channel identity, in one statement (no lock)."""
        index = await self._index(f"submitter:{channel}", identity)
        submitter = select(Submitter.id).where(Submitter.channel == channel, Submitter.identity_index == index).scalar_subquery()
        stmt = select(Case).where(Case.submitter_id == submitter, Case.status == "draft").order_by(Case.created_at.desc()).limit(1)
        row = await self._one(stmt, lock=False)
        return await self._record(row) if row else None

    async def for_submitter(self, submitter_id: str) -> list[CaseRecord]:
        rows = (await self.s.scalars(select(Case).where(Case.submitter_id == submitter_id).order_by(Case.created_at))).all()
        return [await self._record(r) for r in rows]

    async def save(self, case: CaseRecord, *, now: datetime) -> CaseRecord:
        """One versioned UPDATE; the record returned is built from what was written (no re-read, no
        decrypting again), and the session's copy of the row is kept in step with it."""
        key = await self._case_key(case.id)
        values: dict[str, Any] = {
            "status": case.status,
            "lang": case.lang,
            "draft_enc": key.encrypt_json(case.draft, table="cases", column="draft", row_id=case.id),
            "updated_at": now,
            "submitted_at": case.submitted_at,
            "assigned_to": case.assigned_to,
            "claimed_at": case.claimed_at,
            "decision": case.decision,
            "decision_reason_enc": (
                key.encrypt_text(case.decision_reason, table="cases", column="decision_reason", row_id=case.id)
                if case.decision_reason is not None
                else None
            ),
            "decided_at": case.decided_at,
            "withdrawn_at": case.withdrawn_at,
            "reopened": list(case.reopened),
            "version": case.version + 1,
            "queued_at": case.submitted_at or case.created_at,
            "amending": bool(case.draft.get("amending")),
        }
        cases = table_of(Case)  # Core: the session's copy is brought in step below, no ORM bulk-update pass
        result = await self.s.execute(update(cases).where(cases.c.id == case.id, cases.c.version == case.version).values(**values))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            if await self.s.scalar(select(Case.id).where(Case.id == case.id)) is None:
                raise NotFound(case.id)
            raise ConcurrentUpdate(case.id)
        row = self.s.identity_map.get(identity_key(Case, case.id))
        if row is not None:  # a later read in this transaction sees what was written
            for name, value in values.items():
                set_committed_value(row, name, value)
        saved = replace(case, version=case.version + 1, updated_at=now, reopened=list(case.reopened))
        drafts_seen(self.s, case.id, case.status == "draft")
        if case.status != "draft":  # drafts are never in the search index: nothing to read or write
            indexed_with = await self.s.scalar(select(Case.search_key).where(Case.id == case.id))
            await index_case(self.s, self.keys, saved, key, self.documents, indexed_with=indexed_with)  # same transaction
        return saved

    async def list(
        self, *, statuses: list[str] | None = None, limit: int = 100, offset: int = 0, newest_first: bool = True
    ) -> list[CaseRecord]:
        stmt = select(Case)
        if statuses:
            stmt = stmt.where(Case.status.in_(statuses))
        order = func.coalesce(Case.submitted_at, Case.created_at)
        stmt = stmt.order_by(order.desc() if newest_first else order.asc(), Case.id).limit(limit).offset(offset)
        rows = (await self.s.scalars(stmt)).all()
        out = []
        for row in rows:
            try:
                out.append(await self._record(row))
            except LookupError:
                continue  # content destroyed (withdrawn and shredded)
        return out

    async def count_by_status(self) -> dict[str, int]:
        rows = (await self.s.execute(select(Case.status, func.count()).group_by(Case.status))).all()
        return {status: int(n) for status, n in rows}

    async def reference_exists(self, reference: str) -> bool:
        return (await self.s.scalar(select(func.count()).select_from(Case).where(Case.reference == reference)) or 0) > 0

    async def claim(self, case_id: str, staff_id: str, *, now: datetime) -> bool:
        result = await self.s.execute(
            update(Case)
            .where(Case.id == case_id, Case.assigned_to.is_(None))
            .values(assigned_to=staff_id, claimed_at=now, version=Case.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def destroy_content(self, case_id: str, *, now: datetime) -> None:
        row = await self._row(case_id, lock=True)
        await self.keys.destroy(self.s, row.data_key_id, now=now)
        self._dk.pop(row.data_key_id, None)
        await drop_case(self.s, case_id)

    async def shred(self, case_id: str, *, now: datetime) -> None:
        """Destroy the case's content for good and keep a tombstone: the data key is destroyed (every
        ciphertext of the case becomes unreadable, backups included once the master key that wrapped
        it is retired), the files, thread and undelivered messages are deleted, and the case row
        keeps only its reference, dates, channel and status; the audit trail stays (it holds no content)."""
        row = await self._row(case_id, lock=True)
        blob_refs = [ref for pair in (await self.s.execute(select(Attachment.blob_ref, Attachment.clean_blob_ref).where(Attachment.case_id == case_id))).all() for ref in pair if ref]
        await self.s.execute(delete(Attachment).where(Attachment.case_id == case_id))
        await drop_case(self.s, case_id)
        await self.s.execute(delete(Message).where(Message.case_id == case_id))
        await self.s.execute(delete(Outbox).where(Outbox.case_id == case_id, Outbox.status != "sent"))
        await self.s.execute(update(Outbox).where(Outbox.case_id == case_id).values(payload_enc=b""))
        await self.keys.destroy(self.s, row.data_key_id, now=now)
        self._dk.pop(row.data_key_id, None)
        await self.s.execute(
            update(Case).where(Case.id == case_id).values(draft_enc=b"", decision_reason_enc=None, shredded_at=now, updated_at=now, version=Case.version + 1)
        )
        self._orphans.extend(blob_refs)

    async def stubs(
        self, *, statuses: Sequence[str], idle_before: datetime, limit: int = 1000, held: bool = False,
    ) -> Sequence[CaseStub]:
        """Cases in these statuses untouched since `idle_before` (not shredded; on legal hold only if
        `held`), oldest first — ids and dates, nothing decrypted."""
        stmt = (
            select(Case.id, Case.reference, Case.submitter_id, Case.channel, Case.status, Case.lang, Case.updated_at, Case.expiry_warned_at)
            .where(Case.status.in_(statuses), Case.updated_at < idle_before, Case.shredded_at.is_(None))
            .order_by(Case.updated_at)
            .limit(limit)
        )
        if not held:
            stmt = stmt.where(Case.legal_hold.is_(False))
        return [CaseStub(r[0], r[1], r[2], r[3], r[4], r[5], utc_req(r[6]), utc(r[7])) for r in (await self.s.execute(stmt)).all()]

    async def mark_warned(self, case_id: str, *, now: datetime) -> None:
        await self.s.execute(update(Case).where(Case.id == case_id).values(expiry_warned_at=now))

    async def set_hold(self, case_id: str, hold: bool) -> None:
        await self.s.execute(update(Case).where(Case.id == case_id).values(legal_hold=hold))

    async def delete_draft(self, case_id: str, *, now: datetime) -> None:
        row = await self._row(case_id, lock=True)
        blob_refs = [ref for pair in (await self.s.execute(select(Attachment.blob_ref, Attachment.clean_blob_ref).where(Attachment.case_id == case_id))).all() for ref in pair if ref]
        await self.s.execute(delete(Attachment).where(Attachment.case_id == case_id))
        await self.s.execute(delete(Message).where(Message.case_id == case_id))
        await self.s.execute(update(Outbox).where(Outbox.case_id == case_id).values(case_id=None))
        await self.s.execute(update(AuditEvent).where(AuditEvent.case_id == case_id).values(case_id=None))
        await self.s.execute(update(ChatMessage).where(ChatMessage.case_id == case_id).values(case_id=None))
        await self.s.execute(update(Inbox).where(Inbox.case_id == case_id).values(case_id=None))
        await self.s.execute(delete(CaseTerm).where(CaseTerm.case_id == case_id))
        key_id = row.data_key_id
        await self.s.delete(row)
        await self.s.flush()
        await self.keys.destroy(self.s, key_id, now=now)
        self._dk.pop(key_id, None)
        self._orphans.extend(blob_refs)
