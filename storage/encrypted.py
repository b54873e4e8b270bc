"""What every SQL repository shares: its session, the data keys it has unwrapped in this
transaction (one cache per unit of work), keyed blind indexes, and UTC handling."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import DataKey
from storage.keys import KeyStore


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
    unwrapped in this transaction (shared by every repository of the unit of work)."""

    def __init__(self, session: AsyncSession, keys: KeyStore, cache: dict[str, DataKey] | None = None) -> None:
        self.s = session
        self.keys = keys
        self._dk: dict[str, DataKey] = {} if cache is None else cache

    async def _key(self, key_id: str) -> DataKey:
        if key_id not in self._dk:
            self._dk[key_id] = await self.keys.get(self.s, key_id)
        return self._dk[key_id]

    async def _index(self, kind: str, value: str) -> str:
        return (await self.keys.blind_index(self.s))(kind, value)
