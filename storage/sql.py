"""SQLAlchemy implementations of the repository Protocols in `storage.repositories`."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.blobs import BlobStore
from storage.crypto import DataKey
from storage.encrypted import Base, utc, utc_req
from storage.keys import KeyStore
from storage.models import (
    Attachment,
    AuditEvent,
    Case,
    ChatMessage,
    Inbox,
    Message,
    Outbox,
    ProcessedEvent,
    Staff,
    Submitter,
    new_id,
)
from storage.queues import SqlInbox, SqlOutbox
from storage.repositories import (
    AttachmentRecord,
    AuditRecord,
    CaseRecord,
    ConcurrentUpdate,
    MessageRecord,
    NotFound,
    StaffRecord,
    SubmitterRecord,
)

_utc = utc
_utc_req = utc_req
_Base = Base


class SqlSubmitters(_Base):
    async def get_or_create(self, *, channel: str, identity: str, lang: str, now: datetime) -> SubmitterRecord:
        found = await self.find(channel=channel, identity=identity)
        if found is not None:
            return found
        index = await self._index(f"submitter:{channel}", identity)
        row_id = new_id()
        key = await self.keys.create(self.s, purpose="submitter", now=now)
        row = Submitter(
            id=row_id,
            channel=channel,
            identity_index=index,
            identity_enc=key.encrypt_text(identity, table="submitters", column="identity", row_id=row_id),
            data_key_id=key.id,
            lang=lang,
            created_at=now,
            last_seen_at=now,
            seq=0,
        )
        try:
            async with self.s.begin_nested():  # another process may create the same identity first
                self.s.add(row)
                await self.s.flush()
        except IntegrityError:
            found = await self.find(channel=channel, identity=identity)
            assert found is not None
            return found
        return self._record(row)

    @staticmethod
    def _record(row: Submitter) -> SubmitterRecord:
        return SubmitterRecord(row.id, row.channel, row.lang, row.seq, _utc_req(row.created_at))

    async def find(self, *, channel: str, identity: str) -> SubmitterRecord | None:
        index = await self._index(f"submitter:{channel}", identity)
        row = await self.s.scalar(select(Submitter).where(Submitter.channel == channel, Submitter.identity_index == index))
        return self._record(row) if row else None

    async def get(self, submitter_id: str) -> SubmitterRecord:
        row = await self.s.get(Submitter, submitter_id)
        if row is None:
            raise NotFound(submitter_id)
        return self._record(row)

    async def lock(self, submitter_id: str) -> int:
        row = await self.s.scalar(select(Submitter).where(Submitter.id == submitter_id).with_for_update())
        if row is None:
            raise NotFound(submitter_id)
        row.seq += 1
        await self.s.flush()
        return row.seq

    async def identity(self, submitter_id: str) -> str:
        row = await self.s.get(Submitter, submitter_id)
        if row is None:
            raise NotFound(submitter_id)
        key = await self._key(row.data_key_id)
        return key.decrypt_text(row.identity_enc, table="submitters", column="identity", row_id=row.id)

    async def set_lang(self, submitter_id: str, lang: str) -> None:
        await self.s.execute(update(Submitter).where(Submitter.id == submitter_id).values(lang=lang))


class SqlCases(_Base):
    def __init__(self, session: AsyncSession, keys: KeyStore, blobs: BlobStore, cache: dict[str, DataKey] | None = None) -> None:
        super().__init__(session, keys, cache)
        self.blobs = blobs
        self._orphans: list[str] = []  # blob refs to remove once the transaction commits

    def take_orphans(self) -> list[str]:
        out, self._orphans = self._orphans, []
        return out

    async def _record(self, row: Case) -> CaseRecord:
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
            created_at=_utc_req(row.created_at),
            updated_at=_utc_req(row.updated_at),
            submitted_at=_utc(row.submitted_at),
            assigned_to=row.assigned_to,
            claimed_at=_utc(row.claimed_at),
            decision=row.decision,
            decision_reason=reason,
            decided_at=_utc(row.decided_at),
            withdrawn_at=_utc(row.withdrawn_at),
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
            reopened=[],
        )
        self.s.add(row)
        await self.s.flush()
        return await self._record(row)

    async def _row(self, case_id: str, *, lock: bool) -> Case:
        stmt = select(Case).where(Case.id == case_id)
        if lock:
            stmt = stmt.with_for_update()
        row = await self.s.scalar(stmt)
        if row is None:
            raise NotFound(case_id)
        return row

    async def get(self, case_id: str, *, lock: bool = False) -> CaseRecord:
        return await self._record(await self._row(case_id, lock=lock))

    async def by_reference(self, reference: str, *, lock: bool = False) -> CaseRecord | None:
        stmt = select(Case).where(Case.reference == reference.strip().upper())
        if lock:
            stmt = stmt.with_for_update()
        row = await self.s.scalar(stmt)
        return await self._record(row) if row else None

    async def open_draft(self, submitter_id: str, *, lock: bool = False) -> CaseRecord | None:
        stmt = (
            select(Case)
            .where(Case.submitter_id == submitter_id, Case.status == "draft")
            .order_by(Case.created_at.desc())
            .limit(1)
        )
        if lock:
            stmt = stmt.with_for_update()
        row = await self.s.scalar(stmt)
        return await self._record(row) if row else None

    async def for_submitter(self, submitter_id: str) -> list[CaseRecord]:
        rows = (await self.s.scalars(select(Case).where(Case.submitter_id == submitter_id).order_by(Case.created_at))).all()
        return [await self._record(r) for r in rows]

    async def save(self, case: CaseRecord, *, now: datetime) -> CaseRecord:
        row = await self.s.get(Case, case.id)
        if row is None:
            raise NotFound(case.id)
        key = await self._key(row.data_key_id)
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
        }
        result = await self.s.execute(
            update(Case)
            .where(Case.id == case.id, Case.version == case.version)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentUpdate(case.id)
        await self.s.refresh(row)
        return await self._record(row)

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

    async def delete_draft(self, case_id: str, *, now: datetime) -> None:
        row = await self._row(case_id, lock=True)
        blob_refs = (await self.s.scalars(select(Attachment.blob_ref).where(Attachment.case_id == case_id))).all()
        await self.s.execute(delete(Attachment).where(Attachment.case_id == case_id))
        await self.s.execute(delete(Message).where(Message.case_id == case_id))
        await self.s.execute(update(Outbox).where(Outbox.case_id == case_id).values(case_id=None))
        await self.s.execute(update(AuditEvent).where(AuditEvent.case_id == case_id).values(case_id=None))
        await self.s.execute(update(ChatMessage).where(ChatMessage.case_id == case_id).values(case_id=None))
        await self.s.execute(update(Inbox).where(Inbox.case_id == case_id).values(case_id=None))
        key_id = row.data_key_id
        await self.s.delete(row)
        await self.s.flush()
        await self.keys.destroy(self.s, key_id, now=now)
        self._dk.pop(key_id, None)
        self._orphans.extend(blob_refs)


class SqlMessages(_Base):
    async def _case_key(self, case_id: str) -> DataKey:
        key_id = await self.s.scalar(select(Case.data_key_id).where(Case.id == case_id))
        if key_id is None:
            raise NotFound(case_id)
        return await self._key(key_id)

    async def add(
        self,
        *,
        case_id: str,
        direction: str,
        channel: str,
        kind: str,
        body: str,
        now: datetime,
        verified: bool = True,
        author_staff_id: str | None = None,
        outbox_id: str | None = None,
        external_key: str | None = None,
    ) -> str:
        key = await self._case_key(case_id)
        row_id = new_id()
        self.s.add(
            Message(
                id=row_id,
                case_id=case_id,
                direction=direction,
                channel=channel,
                kind=kind,
                body_enc=key.encrypt_text(body, table="messages", column="body", row_id=row_id),
                verified=verified,
                author_staff_id=author_staff_id,
                outbox_id=outbox_id,
                external_index=await self._index("external", external_key) if external_key else None,
                created_at=now,
            )
        )
        await self.s.flush()
        return row_id

    async def for_case(self, case_id: str) -> list[MessageRecord]:
        key = await self._case_key(case_id)
        rows = (await self.s.scalars(select(Message).where(Message.case_id == case_id).order_by(Message.created_at, Message.id))).all()
        return [
            MessageRecord(
                r.id, r.case_id, r.direction, r.channel, r.kind,
                key.decrypt_text(r.body_enc, table="messages", column="body", row_id=r.id),
                r.verified, r.author_staff_id, r.outbox_id, _utc_req(r.created_at),
            )
            for r in rows
        ]

    async def case_for_external(self, external_key: str) -> str | None:
        index = await self._index("external", external_key)
        found = await self.s.scalar(select(Message.case_id).where(Message.external_index == index).limit(1))
        if found is None:
            found = await self.s.scalar(select(Outbox.case_id).where(Outbox.external_index == index).limit(1))
        return found


class SqlAttachments(_Base):
    def __init__(self, session: AsyncSession, keys: KeyStore, blobs: BlobStore, cache: dict[str, DataKey] | None = None) -> None:
        super().__init__(session, keys, cache)
        self.blobs = blobs

    async def _case_key(self, case_id: str) -> DataKey:
        key_id = await self.s.scalar(select(Case.data_key_id).where(Case.id == case_id))
        if key_id is None:
            raise NotFound(case_id)
        return await self._key(key_id)

    async def add(
        self,
        *,
        case_id: str,
        filename: str,
        data: bytes,
        now: datetime,
        source: str,
        content_type: str | None = None,
        sniffed_type: str | None = None,
        executable: bool = False,
        question_path: str | None = None,
        message_id: str | None = None,
        source_key: str | None = None,
    ) -> AttachmentRecord:
        key = await self._case_key(case_id)
        row_id = new_id()
        sha = hashlib.sha256(data).hexdigest()
        ref = self.blobs.put(key, row_id, data)
        row = Attachment(
            id=row_id,
            case_id=case_id,
            message_id=message_id,
            question_path=question_path,
            blob_ref=ref,
            sha256_enc=key.encrypt_text(sha, table="attachments", column="sha256", row_id=row_id),
            filename_enc=key.encrypt_text(filename, table="attachments", column="filename", row_id=row_id),
            content_type=content_type,
            sniffed_type=sniffed_type,
            size=len(data),
            executable=executable,
            source=source,
            source_index=await self._index("attachment-source", source_key) if source_key else None,
            created_at=now,
        )
        self.s.add(row)
        await self.s.flush()
        return self._record(row, key)

    @staticmethod
    def _record(row: Attachment, key: DataKey) -> AttachmentRecord:
        return AttachmentRecord(
            id=row.id,
            case_id=row.case_id,
            question_path=row.question_path,
            filename=key.decrypt_text(row.filename_enc, table="attachments", column="filename", row_id=row.id),
            sha256=key.decrypt_text(row.sha256_enc, table="attachments", column="sha256", row_id=row.id),
            size=row.size,
            content_type=row.content_type,
            sniffed_type=row.sniffed_type,
            executable=row.executable,
            source=row.source,
            message_id=row.message_id,
            created_at=_utc_req(row.created_at),
        )

    async def for_case(self, case_id: str) -> list[AttachmentRecord]:
        key = await self._case_key(case_id)
        rows = (await self.s.scalars(select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.created_at, Attachment.id))).all()
        return [self._record(r, key) for r in rows]

    async def _att_row(self, case_id: str, attachment_id: str) -> Attachment:
        row = await self.s.scalar(select(Attachment).where(Attachment.id == attachment_id, Attachment.case_id == case_id))
        if row is None:
            raise NotFound(attachment_id)
        return row

    async def get(self, case_id: str, attachment_id: str) -> AttachmentRecord:
        return self._record(await self._att_row(case_id, attachment_id), await self._case_key(case_id))

    async def read(self, case_id: str, attachment_id: str) -> bytes:
        row = await self._att_row(case_id, attachment_id)
        return self.blobs.get(await self._case_key(case_id), row.id, row.blob_ref)

    async def by_source(self, case_id: str, source_key: str) -> AttachmentRecord | None:
        index = await self._index("attachment-source", source_key)
        row = await self.s.scalar(select(Attachment).where(Attachment.case_id == case_id, Attachment.source_index == index).limit(1))
        return self._record(row, await self._case_key(case_id)) if row else None


class SqlAudit(_Base):
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
        await self.s.flush()

    async def for_case(self, case_id: str) -> list[AuditRecord]:
        rows = (await self.s.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.at, AuditEvent.id))).all()
        return [AuditRecord(r.id, _utc_req(r.at), r.case_id, r.actor_kind, r.actor_id, r.action, dict(r.detail or {}), r.remote) for r in rows]


class SqlStaff(_Base):
    async def _record(self, row: Staff) -> StaffRecord:
        secret = None
        if row.totp_secret_enc is not None:
            index_key = await self.keys.get(self.s, "blind-index-v1")
            secret = index_key.decrypt_text(row.totp_secret_enc, table="staff", column="totp_secret", row_id=row.id)
        return StaffRecord(
            row.id, row.email, row.password_hash, row.role, row.active, secret, row.totp_required, row.must_change_password,
            row.failed_logins, _utc(row.locked_until), _utc_req(row.created_at), _utc(row.last_login_at),
        )

    async def add(self, *, email: str, password_hash: str, role: str, now: datetime, must_change_password: bool = False) -> StaffRecord:
        row = Staff(
            id=new_id(), email=email.strip().lower(), password_hash=password_hash, role=role, active=True,
            must_change_password=must_change_password, failed_logins=0, created_at=now, totp_required=False,
        )
        self.s.add(row)
        await self.s.flush()
        return await self._record(row)

    async def by_email(self, email: str) -> StaffRecord | None:
        row = await self.s.scalar(select(Staff).where(Staff.email == email.strip().lower()))
        return await self._record(row) if row else None

    async def get(self, staff_id: str) -> StaffRecord:
        row = await self.s.get(Staff, staff_id)
        if row is None:
            raise NotFound(staff_id)
        return await self._record(row)

    async def list(self) -> list[StaffRecord]:
        return [await self._record(r) for r in (await self.s.scalars(select(Staff).order_by(Staff.email))).all()]

    async def count(self) -> int:
        return int(await self.s.scalar(select(func.count()).select_from(Staff)) or 0)

    async def update(self, staff_id: str, **fields: Any) -> None:
        if "totp_secret" in fields:
            secret = fields.pop("totp_secret")
            index_key = await self.keys.get(self.s, "blind-index-v1")
            fields["totp_secret_enc"] = (
                index_key.encrypt_text(secret, table="staff", column="totp_secret", row_id=staff_id) if secret else None
            )
        await self.s.execute(update(Staff).where(Staff.id == staff_id).values(**fields))


class SqlEvents(_Base):
    async def seen(self, *, channel: str, key: str) -> dict[str, Any] | None:
        index = await self._index(f"event:{channel}", key)
        row = await self.s.scalar(select(ProcessedEvent).where(ProcessedEvent.channel == channel, ProcessedEvent.event_index == index))
        if row is None:
            return None
        if row.result_enc is None or row.data_key_id is None:
            return {}
        dk = await self._key(row.data_key_id)
        result: dict[str, Any] = dk.decrypt_json(row.result_enc, table="processed_events", column="result", row_id=row.id)
        return result

    async def remember(self, *, channel: str, key: str, result: dict[str, Any], now: datetime, submitter_id: str | None = None) -> bool:
        index = await self._index(f"event:{channel}", key)
        if await self.s.scalar(select(ProcessedEvent.id).where(ProcessedEvent.channel == channel, ProcessedEvent.event_index == index)):
            return False
        data_key_id = None
        if submitter_id:
            data_key_id = await self.s.scalar(select(Submitter.data_key_id).where(Submitter.id == submitter_id))
        row_id = new_id()
        result_enc = None
        if data_key_id:
            dk = await self._key(data_key_id)
            result_enc = dk.encrypt_json(result, table="processed_events", column="result", row_id=row_id)
        self.s.add(
            ProcessedEvent(
                id=row_id, channel=channel, event_index=index, submitter_id=submitter_id, result_enc=result_enc,
                data_key_id=data_key_id, created_at=now,
            )
        )
        await self.s.flush()
        return True


class SqlChatLog(_Base):
    async def add(self, *, submitter_id: str, case_id: str | None, direction: str, ref: dict[str, Any], now: datetime) -> None:
        key_id = await self.s.scalar(select(Submitter.data_key_id).where(Submitter.id == submitter_id))
        if key_id is None:
            raise NotFound(submitter_id)
        key = await self._key(key_id)
        row_id = new_id()
        self.s.add(
            ChatMessage(
                id=row_id, submitter_id=submitter_id, case_id=case_id, direction=direction,
                ref_enc=key.encrypt_json(ref, table="chat_messages", column="ref", row_id=row_id), created_at=now,
            )
        )
        await self.s.flush()

    async def for_submitter(self, submitter_id: str) -> list[dict[str, Any]]:
        key_id = await self.s.scalar(select(Submitter.data_key_id).where(Submitter.id == submitter_id))
        if key_id is None:
            raise NotFound(submitter_id)
        key = await self._key(key_id)
        rows = (await self.s.scalars(select(ChatMessage).where(ChatMessage.submitter_id == submitter_id).order_by(ChatMessage.created_at))).all()
        out: list[dict[str, Any]] = []
        for r in rows:
            ref: dict[str, Any] = key.decrypt_json(r.ref_enc, table="chat_messages", column="ref", row_id=r.id)
            out.append({"case_id": r.case_id, "direction": r.direction, **ref})
        return out


class Repos:
    """All repositories bound to one session (one transaction)."""

    def __init__(self, session: AsyncSession, keys: KeyStore, blobs: BlobStore) -> None:
        self.session = session
        cache: dict[str, DataKey] = {}  # data keys unwrapped in this transaction, shared by every repository
        self.submitters = SqlSubmitters(session, keys, cache)
        self.cases = SqlCases(session, keys, blobs, cache)
        self.messages = SqlMessages(session, keys, cache)
        self.attachments = SqlAttachments(session, keys, blobs, cache)
        self.outbox = SqlOutbox(session, keys, cache)
        self.audit = SqlAudit(session, keys, cache)
        self.inbox = SqlInbox(session, keys, cache)
        self.staff = SqlStaff(session, keys, cache)
        self.events = SqlEvents(session, keys, cache)
        self.chatlog = SqlChatLog(session, keys, cache)
