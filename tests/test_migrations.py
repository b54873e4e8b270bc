"""Migrations: empty → head → base → head, and no drift between the models and the schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from intake import app as core
from storage.models import Base


def _sync(url: str) -> str:
    return url.replace("+aiosqlite", "")


def test_upgrade_downgrade_and_no_drift(db_url: str) -> None:
    engine = create_engine(_sync(db_url))
    try:
        with engine.connect() as conn:
            assert set(Base.metadata.tables) <= set(inspect(conn).get_table_names())
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
            assert diff == []
        assert core.current_revision(db_url) == ScriptDirectory.from_config(core.alembic_config(db_url)).get_current_head()
        core.downgrade(db_url, "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        core.migrate(db_url)
        with engine.connect() as conn:
            assert set(Base.metadata.tables) <= set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
