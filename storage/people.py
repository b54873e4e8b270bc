"""Submitters (channel identities) and staff accounts."""


from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from storage.encrypted import Base, utc, utc_req
from storage.models import (
    DataKeyRow,
    Staff,
    Submitter,
    new_id,
)
from storage.repositories import (
    NotFound,
    StaffRecord,
    SubmitterRecord,
)


class SqlSubmitters(Base):
    _known: dict[str, SubmitterRecord] | None = None  # the submitters read or written in this transaction

    def _remember(self, record: SubmitterRecord) -> SubmitterRecord:
        self._known = {**(self._known or {}), record.id: record}
        return record

    async def get_or_create(self, *, channel: str, identity: str, lang: str, now: datetime) -> SubmitterRecord:
        found = await self.find(channel=channel, identity=identity)
        if found is not None:
            return found
        return (await self._create(channel=channel, identity=identity, lang=lang, now=now))[0]

    async def _create(self, *, channel: str, identity: str, lang: str, now: datetime, seq: int = 0) -> tuple[SubmitterRecord, bool]:
        """Insert a submitter; (record, True), or a racing twin's row and False. A new row is this
        transaction's alone until it commits."""
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
            seq=seq,
        )
        try:
            async with self.s.begin_nested():  # another process may create the same identity first
                self.s.add(row)
                await self.s.flush()
        except IntegrityError:
            found = await self.find(channel=channel, identity=identity)
            assert found is not None
            return found, False
        self._dk[key.id] = key
        return self._record(row), True

    async def enter(self, *, channel: str, identity: str, lang: str, now: datetime) -> SubmitterRecord:
        """`get_or_create` and `lock` in one: a known identity costs one statement (an UPDATE …
        RETURNING that takes the row lock, bumps the sequence number and brings the submitter's
        wrapped data key along)."""
        index = await self._index(f"submitter:{channel}", identity)
        stmt = (
            update(Submitter)
            .where(Submitter.channel == channel, Submitter.identity_index == index)
            .values(seq=Submitter.seq + 1)
            .returning(
                Submitter.id, Submitter.channel, Submitter.lang, Submitter.seq, Submitter.created_at, Submitter.data_key_id,
                select(DataKeyRow.master_key_id).where(DataKeyRow.id == Submitter.data_key_id).scalar_subquery(),
                select(DataKeyRow.wrapped).where(DataKeyRow.id == Submitter.data_key_id).scalar_subquery(),
            )
            .execution_options(synchronize_session=False)
        )
        found = (await self.s.execute(stmt)).first()
        if found is None:  # first contact: the new row is locked by being ours until commit
            created, new = await self._create(channel=channel, identity=identity, lang=lang, now=now, seq=1)
            return created if new else replace(created, seq=await self.lock(created.id))
        self._owned("submitter", found.id, found.data_key_id)
        self._unwrapped(found.data_key_id, found[6], found[7])
        return self._remember(SubmitterRecord(found.id, found.channel, found.lang, found.seq, utc_req(found.created_at)))

    def _record(self, row: Submitter) -> SubmitterRecord:
        self._owned("submitter", row.id, row.data_key_id)
        return self._remember(SubmitterRecord(row.id, row.channel, row.lang, row.seq, utc_req(row.created_at)))

    async def find(self, *, channel: str, identity: str) -> SubmitterRecord | None:
        index = await self._index(f"submitter:{channel}", identity)
        row = await self.s.scalar(select(Submitter).where(Submitter.channel == channel, Submitter.identity_index == index))
        return self._record(row) if row else None

    async def get(self, submitter_id: str) -> SubmitterRecord:
        if self._known and submitter_id in self._known:
            return self._known[submitter_id]
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
        if self._known and submitter_id in self._known:
            self._remember(replace(self._known[submitter_id], lang=lang))


class SqlStaff(Base):
    async def _record(self, row: Staff) -> StaffRecord:
        secret = None
        if row.totp_secret_enc is not None:
            index_key = await self.keys.get(self.s, "blind-index-v1")
            secret = index_key.decrypt_text(row.totp_secret_enc, table="staff", column="totp_secret", row_id=row.id)
        return StaffRecord(
            row.id, row.email, row.password_hash, row.role, row.active, secret, row.totp_required, row.must_change_password,
            row.failed_logins, utc(row.locked_until), utc_req(row.created_at), utc(row.last_login_at), bool(row.notify_email),
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
