"""One process of many does a job: a PostgreSQL advisory lock elects it.

Telegram hands updates to one getUpdates caller at a time, so with several `intake run` processes
on one PostgreSQL exactly one may poll. `Leader.run(work)` waits until it holds a session-level
advisory lock (`pg_try_advisory_lock`) on a connection of its own — outside the pool, kept open
while the work runs — then runs the work. When the process dies, its connection closes and the
server releases the lock; the others try again every `retry` seconds and one of them takes over.
The holder checks its connection every `check` seconds: if it is gone (the database restarted,
the network broke), the lock is gone too, and the work is cancelled at once and elected again.
On SQLite there is one process: the work simply runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from storage.db import Database

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a job name."""
    return int.from_bytes(hashlib.sha256(f"intake:{name}".encode()).digest()[:8], "big", signed=True)


class Leader:
    """Elects one process for a job named `name` (e.g. "telegram-poller:<bot id>")."""

    def __init__(self, db: Database, name: str, *, retry: float = 3.0, check: float = 5.0) -> None:
        self.db = db
        self.name = name
        self.key = lock_key(name)
        self.retry = retry
        self.check = check
        self.leading = False
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    @property
    def shared(self) -> bool:
        """Whether other processes can share the database (PostgreSQL), so an election is needed."""
        return self.db.dialect == "postgresql"

    async def run(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Forever (until cancelled): be elected, then run `work` while the lock is held."""
        if not self.shared:
            self.leading = True
            await work()
            return
        waiting_said = False
        while True:
            try:
                elected = await self._acquire()
            except (OSError, psycopg.Error) as exc:
                log.warning("%s: cannot reach the database to be elected (%s); again in %.0f s", self.name, type(exc).__name__, self.retry)
                elected = False
            if not elected:
                if not waiting_said:
                    log.info("%s: another process holds it; standing by", self.name)
                    waiting_said = True
                await asyncio.sleep(self.retry)
                continue
            waiting_said = False
            log.info("%s: elected (this process does it now)", self.name)
            try:
                await self._while_held(work)
            finally:
                await self._release()
            log.warning("%s: lost the lock (its database connection broke); standing for election again", self.name)

    async def _acquire(self) -> bool:
        url = make_url(self.db.engine.url.render_as_string(hide_password=False)).set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True, keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3)
        try:
            row = await (await conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))).fetchone()
        except BaseException:
            await conn.close()
            raise
        if not row or not row[0]:
            await conn.close()
            return False
        self._conn = conn
        self.leading = True
        return True

    async def _while_held(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `work` and, beside it, check the connection; whichever ends first ends both."""
        task: asyncio.Task[None] = asyncio.create_task(work(), name=f"elected:{self.name}")
        try:
            while not task.done():
                done, _ = await asyncio.wait({task}, timeout=self.check)
                if done:
                    break
                if not await self._alive():
                    return
            task.result()  # the work ended by itself: re-raise what it raised
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _alive(self) -> bool:
        assert self._conn is not None
        try:
            async with asyncio.timeout(self.check):
                await self._conn.execute("SELECT 1")
            return True
        except (OSError, TimeoutError, psycopg.Error):
            return False

    async def _release(self) -> None:
        """Close the connection: the server releases the lock with it."""
        self.leading = False
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()
