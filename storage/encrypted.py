"""What every SQL repository shares: its session, the data keys it has unwrapped in this
transaction (one cache per unit of work), keyed blind indexes, and UTC handling."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import DataKey
from storage.keys import KeyStore
from storage.models import Case, Submitter
from storage.records import NotFound


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything here is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def utc_req(value: datetime) -> datetime:
    out = utc(value)
    assert out is not None
    return out


class Base:
    """A repository bound to one session. `keys` unwraps data keys; `cache` holds the ones already
    unwrapped in this transaction and `owners` which key a case or submitter uses (both shared by
    every repository of the unit of work, so a transaction reads each key once)."""

    def __init__(
        self, session: AsyncSession, keys: KeyStore, cache: dict[str, DataKey] | None = None, owners: dict[str, str] | None = None,
    ) -> None:
        self.s = session
        self.keys = keys
        self._dk: dict[str, DataKey] = {} if cache is None else cache
        self._owners: dict[str, str] = {} if owners is None else owners

    async def _key(self, key_id: str) -> DataKey:
        if key_id not in self._dk:
            self._dk[key_id] = await self.keys.get(self.s, key_id)
        return self._dk[key_id]

    def _unwrapped(self, key_id: str, master_key_id: str | None, wrapped: bytes | None) -> None:
        """Cache a data key read alongside another row (a join), so it is not read again."""
        if key_id not in self._dk and master_key_id is not None and wrapped is not None:
            self._dk[key_id] = DataKey(key_id, self.keys.master.unwrap(master_key_id, wrapped, key_id))

    def _owned(self, kind: str, owner_id: str, key_id: str) -> None:
        """Remember that `owner_id` (a case, a submitter) encrypts under `key_id`."""
        self._owners[f"{kind}:{owner_id}"] = key_id

    async def _case_key(self, case_id: str) -> DataKey:
        """The data key of a case (raises NotFound, or KeyDestroyed when its content was destroyed)."""
        key_id = self._owners.get(f"case:{case_id}")
        if key_id is None:
            key_id = await self.s.scalar(select(Case.data_key_id).where(Case.id == case_id))
            if key_id is None:
                raise NotFound(case_id)
            self._owned("case", case_id, key_id)
        return await self._key(key_id)

    async def _submitter_key(self, submitter_id: str) -> DataKey:
        key_id = self._owners.get(f"submitter:{submitter_id}")
        if key_id is None:
            key_id = await self.s.scalar(select(Submitter.data_key_id).where(Submitter.id == submitter_id))
            if key_id is None:
                raise NotFound(submitter_id)
            self._owned("submitter", submitter_id, key_id)
        return await self._key(key_id)

    async def _index(self, kind: str, value: str) -> str:
        return (await self.keys.blind_index(self.s))(kind, value)
