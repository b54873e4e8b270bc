"""Data keys in the database, wrapped by the master keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import BlindIndex, DataKey, MasterKeys, new_data_key
from storage.db import Database
from storage.models import DataKeyRow, new_id
from storage.repositories import KeyDestroyed

BLIND_INDEX_KEY_ID = "blind-index-v1"


class KeysMissing(RuntimeError):
    """The database holds data keys wrapped by master keys that are not configured."""


class KeyStore:
    """Creates, unwraps, destroys and re-wraps data keys."""

    def __init__(self, master: MasterKeys) -> None:
        self.master = master
        self._index: BlindIndex | None = None

    async def create(self, session: AsyncSession, *, purpose: str, now: datetime, key_id: str | None = None) -> DataKey:
        row_id = key_id or new_id()
        data_key = new_data_key(row_id)
        master_id, wrapped = self.master.wrap(data_key.key, row_id)
        session.add(DataKeyRow(id=row_id, purpose=purpose, master_key_id=master_id, wrapped=wrapped, created_at=now))
        await session.flush()  # rows referring to it are inserted next; no relationship orders them
        return data_key

    async def get(self, session: AsyncSession, key_id: str) -> DataKey:
        row = await session.get(DataKeyRow, key_id)
        if row is None or row.wrapped is None or row.master_key_id is None:
            raise KeyDestroyed(key_id)
        return DataKey(key_id, self.master.unwrap(row.master_key_id, row.wrapped, key_id))

    async def destroy(self, session: AsyncSession, key_id: str, *, now: datetime) -> None:
        await session.execute(
            update(DataKeyRow).where(DataKeyRow.id == key_id).values(wrapped=None, master_key_id=None, destroyed_at=now)
        )

    async def rotate(self, session: AsyncSession) -> int:
        """Re-wrap every live data key under the newest master key; returns how many changed."""
        rows = (
            await session.scalars(
                select(DataKeyRow).where(DataKeyRow.wrapped.is_not(None), DataKeyRow.master_key_id != self.master.newest_id)
            )
        ).all()
        for row in rows:
            assert row.wrapped is not None and row.master_key_id is not None
            key = self.master.unwrap(row.master_key_id, row.wrapped, row.id)
            row.master_key_id, row.wrapped = self.master.wrap(key, row.id)
        return len(rows)

    async def ensure_blind_index(self, db: Database, *, now: datetime) -> None:
        """Create the blind-index key once (safe when several processes start at once)."""
        async with db.read() as session:
            if await session.get(DataKeyRow, BLIND_INDEX_KEY_ID) is not None:
                return
        try:
            async with db.transaction() as session:
                if await session.get(DataKeyRow, BLIND_INDEX_KEY_ID) is None:
                    await self.create(session, purpose="blind_index", now=now, key_id=BLIND_INDEX_KEY_ID)
        except IntegrityError:
            pass  # another process created it first

    async def blind_index(self, session: AsyncSession) -> BlindIndex:
        if self._index is None:
            key = await self.get(session, BLIND_INDEX_KEY_ID)
            self._index = BlindIndex(key.key)
        return self._index

    async def check(self, session: AsyncSession) -> None:
        """Refuse a database whose live data keys were wrapped by master keys we do not have
        (a restored backup after a key rotation, a wrong INTAKE_SECRET_KEYS)."""
        used = set((await session.scalars(select(DataKeyRow.master_key_id).where(DataKeyRow.wrapped.is_not(None)).distinct())).all())
        missing = sorted(k for k in used if k is not None and k not in self.master.ids)
        if missing:
            raise KeysMissing(
                f"the database needs master key(s) {', '.join(missing)} that INTAKE_SECRET_KEYS does not hold "
                f"(configured: {', '.join(self.master.ids)}); add the old key(s) after the newest one"
            )

