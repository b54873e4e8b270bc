"""The pool pings a connection that sat idle (instead of before every transaction): one the
server dropped meanwhile is replaced without the caller seeing an error."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from storage import db as dbmod
from tests.conftest import PG_URL


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (INTAKE_TEST_DATABASE_URL)")
async def test_a_dropped_idle_connection_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    from intake.settings import async_url

    assert PG_URL
    engine = dbmod.make_engine(async_url(PG_URL))
    try:
        async with engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        other = dbmod.make_engine(async_url(PG_URL))
        async with other.connect() as conn:  # the server drops the pooled connection
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await conn.commit()
        await other.dispose()
        monkeypatch.setattr(dbmod, "PING_IDLE_S", 0.0)  # it has been idle "long enough"
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one() != pid
    finally:
        await engine.dispose()
