"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL too when
INTAKE_TEST_DATABASE_URL is set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from intake import app as core
from intake.settings import Settings, async_url
from tests.support import FixedClock

PG_URL = os.environ.get("INTAKE_TEST_DATABASE_URL")
TEST_KEY = base64.b64encode(b"k" * 32).decode()
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def reset_postgres(url: str) -> None:
    """Drop everything in the test database's public schema."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL (async driver) on each configured backend."""
    if request.param == "sqlite":
        url = async_url(f"sqlite:///{tmp_path / 'intake.db'}")
    else:
        assert PG_URL
        url = async_url(PG_URL)
        reset_postgres(url)
    core.migrate(url)
    yield url


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path / "data",
        database_url=db_url,
        secret_keys=TEST_KEY,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
async def app(settings: Settings, clock: FixedClock) -> AsyncIterator[core.App]:
    application = core.build(settings, clock=clock)
    await application.store.prepare(now=clock())
    try:
        yield application
    finally:
        await application.store.close()
