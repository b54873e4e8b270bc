"""A case's thread (messages) and its files (attachments in the encrypted blob store)."""


from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.blobs import BlobStore
from storage.crypto import DataKey
from storage.encrypted import Base, utc_req
from storage.keys import KeyStore
from storage.models import (
    Attachment,
    Message,
    Outbox,
    new_id,
)
from storage.repositories import (
    AttachmentRecord,
    KeyDestroyed,
    MessageRecord,
    NotFound,
)
from storage.search_index import message_added


class SqlMessages(Base):
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
        if outbox_id is not None:
            await self.s.flush()  # the outbox row it names first (the unit of work does not order unrelated tables)
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
        await message_added(self.s, self.keys, case_id=case_id, message_id=row_id, body=body, direction=direction, kind=kind,
                            verified=verified, now=now)  # the search index and the queue's activity, same transaction
        return row_id

    async def for_case(self, case_id: str) -> list[MessageRecord]:
        try:
            key = await self._case_key(case_id)
        except KeyDestroyed:
            return []  # a shredded case: its thread is gone with its key
        rows = (await self.s.scalars(select(Message).where(Message.case_id == case_id).order_by(Message.created_at, Message.id))).all()
        return [
            MessageRecord(
                r.id, r.case_id, r.direction, r.channel, r.kind,
                key.decrypt_text(r.body_enc, table="messages", column="body", row_id=r.id),
                r.verified, r.author_staff_id, r.outbox_id, utc_req(r.created_at),
            )
            for r in rows
        ]

    async def case_for_external(self, external_key: str) -> str | None:
        """One statement: a message on a thread with this key, else a message we sent with it."""
        index = await self._index("external", external_key)
        mine = select(Message.case_id.label("case_id"), literal(0).label("rank")).where(Message.external_index == index).limit(1)
        sent = select(Outbox.case_id.label("case_id"), literal(1).label("rank")).where(Outbox.external_index == index).limit(1)
        both = union_all(mine.subquery().select(), sent.subquery().select()).subquery()
        found: str | None = await self.s.scalar(select(both.c.case_id).order_by(both.c.rank).limit(1))
        return found


class SqlAttachments(Base):
    def __init__(
        self, session: AsyncSession, keys: KeyStore, blobs: BlobStore, cache: dict[str, DataKey] | None = None,
        owners: dict[str, str] | None = None,
    ) -> None:
        super().__init__(session, keys, cache, owners)
        self.blobs = blobs

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
        clean: bytes | None = None,
        clean_removed: list[str] | None = None,
    ) -> AttachmentRecord:
        key = await self._case_key(case_id)
        row_id = new_id()
        sha = hashlib.sha256(data).hexdigest()
        ref = await self.blobs.put(self.s, key, row_id, data)
        clean_ref = await self.blobs.put(self.s, key, f"{row_id}:clean", clean) if clean is not None else None
        row = Attachment(
            id=row_id,
            case_id=case_id,
            message_id=message_id,
            question_path=question_path,
            blob_ref=ref,
            clean_blob_ref=clean_ref,
            clean_removed=list(clean_removed or []) if clean is not None else None,
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
            created_at=utc_req(row.created_at),
            cleaned=row.clean_blob_ref is not None,
            removed=list(row.clean_removed or []),
        )

    async def for_case(self, case_id: str) -> list[AttachmentRecord]:
        try:
            key = await self._case_key(case_id)
        except KeyDestroyed:
            return []  # a shredded case: its files are gone with its key
        rows = (await self.s.scalars(select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.created_at, Attachment.id))).all()
        return [self._record(r, key) for r in rows]

    async def _att_row(self, case_id: str, attachment_id: str) -> Attachment:
        row = await self.s.scalar(select(Attachment).where(Attachment.id == attachment_id, Attachment.case_id == case_id))
        if row is None:
            raise NotFound(attachment_id)
        return row

    async def get(self, case_id: str, attachment_id: str) -> AttachmentRecord:
        return self._record(await self._att_row(case_id, attachment_id), await self._case_key(case_id))

    async def read(self, case_id: str, attachment_id: str, *, original: bool = True) -> bytes:
        """The file as received (`original`), or the copy without metadata when there is one."""
        row = await self._att_row(case_id, attachment_id)
        if not original and row.clean_blob_ref is not None:
            return await self.blobs.get(self.s, await self._case_key(case_id), f"{row.id}:clean", row.clean_blob_ref)
        return await self.blobs.get(self.s, await self._case_key(case_id), row.id, row.blob_ref)

    async def by_source(self, case_id: str, source_key: str) -> AttachmentRecord | None:
        index = await self._index("attachment-source", source_key)
        row = await self.s.scalar(select(Attachment).where(Attachment.case_id == case_id, Attachment.source_index == index).limit(1))
        return self._record(row, await self._case_key(case_id)) if row else None
