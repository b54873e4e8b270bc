"""Operations: private files, backup and restore, and what start-up checks.

A backup is a folder: the database (SQLite's online backup, or `pg_dump` for PostgreSQL), a copy
of the encrypted blob store, and a manifest naming the master keys the data needs (their ids, never
the keys). It is as encrypted as the live data: keep the master keys apart from it.

Where the evidence files are (INTAKE_BLOB_URL): in the database, they are in its dump; in a
directory (`file://`), the folder is copied to `blobs/`; in an S3-compatible store they are not
copied — the manifest says so, and the operator backs the bucket up (versioning or replication).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy.engine import make_url

from intake.settings import Settings

MANIFEST = "manifest.json"
FORMAT = 1


class BackupError(RuntimeError):
    """A backup or restore that cannot be done, with the reason in one line."""


def private_files(settings: Settings) -> None:
    """Everything we create from here on is readable by our user only (umask 077); the data
    directory is 0700 and an existing SQLite database (with its -wal and -shm files) 0600."""
    os.umask(0o077)
    data = settings.data_dir
    data.mkdir(parents=True, exist_ok=True)
    data.chmod(0o700)
    db = sqlite_path(settings)
    if db is not None:
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")):
            if path.exists():
                path.chmod(0o600)


def sqlite_path(settings: Settings) -> Path | None:
    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def tool(name: str) -> str:
    """The full path of a PostgreSQL client tool, or a clear refusal."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def libpq_url(settings: Settings) -> str:
    """The database URL in the form pg_dump and pg_restore take."""
    return make_url(settings.sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Manifest:
    format: int
    created_at: str
    database: str
    revision: str | None
    master_key_ids: list[str]
    blobs: str = "file"  # database | file | s3 (s3: not in the backup folder)

    def dump(self) -> dict[str, Any]:
        return dict(self.__dict__)


def backup(settings: Settings, target: Path, *, now: datetime, revision: str | None, master_key_ids: list[str]) -> Manifest:
    """Write a backup folder at `target` (which must not exist or be empty)."""
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty; give a new folder")
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = sqlite_path(settings)
    if db is not None:
        if not db.exists():
            raise BackupError(f"there is no database at {db}")
        source = sqlite3.connect(db)
        dest = sqlite3.connect(target / "intake.db")
        try:
            source.backup(dest)  # consistent while the service keeps writing
        finally:
            dest.close()
            source.close()
        kind = "sqlite"
    else:
        done = subprocess.run(  # noqa: S603 - fixed program, our own arguments
            [tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target / 'database.dump'}", libpq_url(settings)],
            capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
        kind = "postgresql"
    blobs, blob_dir = blob_kind(settings)
    if blob_dir is not None and blob_dir.exists():
        shutil.copytree(blob_dir, target / "blobs")
    manifest = Manifest(FORMAT, now.isoformat(), kind, revision, master_key_ids, blobs)
    (target / MANIFEST).write_text(json.dumps(manifest.dump(), indent=2) + "\n", encoding="utf-8")
    return manifest


def read_manifest(source: Path) -> Manifest:
    try:
        data = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
        return Manifest(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise BackupError(f"{source} is not a backup made by `intake backup` ({type(exc).__name__})") from None


def restore(settings: Settings, source: Path, *, force: bool = False) -> Manifest:
    """Put a backup folder back as the configured database and blob store. Refuses to overwrite
    data unless `force`; the caller then checks the keys (a missing master key refuses to serve)."""
    manifest = read_manifest(source)
    db = sqlite_path(settings)
    if (manifest.database == "sqlite") != (db is not None):
        raise BackupError(f"the backup is of a {manifest.database} database; INTAKE_DATABASE_URL points at another kind")
    private_files(settings)
    if db is not None:
        if db.exists() and not force:
            raise BackupError(f"{db} exists; restore into an empty data directory, or pass --force to replace it")
        for stale in (Path(f"{db}-wal"), Path(f"{db}-shm")):
            stale.unlink(missing_ok=True)
        shutil.copyfile(source / "intake.db", db)
        db.chmod(0o600)
    else:
        done = subprocess.run(  # noqa: S603 - fixed program, our own arguments
            [tool("pg_restore"), "--clean", "--if-exists", "--no-owner", f"--dbname={libpq_url(settings)}", str(source / "database.dump")],
            capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
    _, blob_dir = blob_kind(settings)
    if (source / "blobs").exists():
        if blob_dir is None:
            raise BackupError("the backup holds a folder of files but INTAKE_BLOB_URL is not a file:// store; restore with it set to one")
        if blob_dir.exists() and force:
            shutil.rmtree(blob_dir)
        shutil.copytree(source / "blobs", blob_dir, dirs_exist_ok=True)
    return manifest


def blob_kind(settings: Settings) -> tuple[str, Path | None]:
    """The kind of blob store INTAKE_BLOB_URL names, and its folder when it is one."""
    url = settings.blob_store_url
    parts = urlsplit(url)
    if parts.scheme == "file":
        return "file", Path(unquote(parts.netloc + parts.path))
    return ("s3" if parts.scheme == "s3" else "database"), None
