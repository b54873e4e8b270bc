"""Engine, sessions and the one transaction helper.

SQLite runs in WAL mode with a busy timeout, and every write transaction starts with
`BEGIN IMMEDIATE`, so two writers serialise instead of failing to upgrade a read lock. Read-only
transactions (`read()`) start a deferred `BEGIN` and do not block writers. On PostgreSQL the
repositories take row locks (`SELECT … FOR UPDATE`) where a read is followed by a write.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

BUSY_TIMEOUT_MS = 15_000
READONLY = "intake_readonly"
POOL_SIZE = 20
PING_IDLE_S = 5.0  # a pooled connection idle longer than this is pinged before use


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; for SQLite also creates the parent folder and sets WAL + busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            readonly = conn.get_execution_options().get(READONLY, False)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    # enough pooled connections for the inbox and delivery workers' concurrent passes (8 each), the
    # Telegram poller and the SMTP/web edges: a smaller pool opens and closes a connection per
    # transaction beyond it, a few milliseconds of CPU each
    kwargs.setdefault("pool_size", POOL_SIZE)
    engine = create_async_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Pessimistic disconnect handling like `pool_pre_ping`, but only for a connection that sat in
    the pool longer than PING_IDLE_S: a busy worker's transaction does not pay a `SELECT 1` round
    trip each time. A connection lost within that window (the server restarted a moment after it
    was used) fails its transaction once; SQLAlchemy then drops the whole pool, and the workers,
    the poller and SMTP clients (a 4xx) try again."""
    dialect = engine.dialect

    @event.listens_for(engine.sync_engine, "connect")
    def _fresh(_dbapi_connection: Any, record: Any) -> None:
        record.info["used_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkin")
    def _back(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["used_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("used_at", 0.0) <= PING_IDLE_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError() from exc  # the pool replaces it and checks out again


TRANSIENT_SQLSTATES = {"40P01", "40001", "55P03"}  # deadlock detected, serialization failure, lock not available


def is_transient(exc: BaseException) -> bool:
    """A failure that says nothing about the work itself: a PostgreSQL deadlock or serialization
    failure, or SQLite's busy timeout. The whole transaction can simply run again."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return False
    state = getattr(exc.orig, "sqlstate", None)
    return state in TRANSIENT_SQLSTATES or "database is locked" in str(exc.orig)


class Database:
    """An engine and its session factories. `transaction()` writes; `read()` only reads."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._write = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
        self._read = async_sessionmaker(engine.execution_options(**{READONLY: True}), expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        return cls(make_engine(url, **kwargs))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: commits on clean exit, rolls back and re-raises otherwise.

        The caller acknowledges anything to the outside world only after this block exits.
        """
        async with self._write() as session:
            async with session.begin():
                yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction (never commits)."""
        async with self._read() as session:
            try:
                yield session
            finally:
                await session.rollback()

    async def ping(self) -> bool:
        from sqlalchemy import text

        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - health check reports any failure as "down"
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
