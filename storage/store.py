"""The storage facade the core is given: a database, its keys and the blob store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from storage.blobs import BlobStore, LocalBlobStore
from storage.crypto import MasterKeys
from storage.db import Database
from storage.keys import KeyStore
from storage.repositories import UnitOfWork
from storage.search_index import DocumentFn
from storage.sql import Repos


class Store:
    def __init__(self, db: Database, keys: KeyStore, blobs: BlobStore) -> None:
        self.db = db
        self.keys = keys
        self.blobs = blobs
        self.documents: DocumentFn | None = None  # what a case contributes to the search index (intake.app sets it)

    @classmethod
    def open(cls, *, url: str, master_keys: list[bytes], blob_dir: Path | None = None, blobs: BlobStore | None = None) -> Store:
        """A store on `url`; files in `blobs` (see `storage.blobs.open_blob_store`), else under `blob_dir`."""
        if blobs is None:
            assert blob_dir is not None, "give a blob store or a blob directory"
            blobs = LocalBlobStore(blob_dir)
        return cls(Database.from_url(url), KeyStore(MasterKeys(master_keys)), blobs)

    async def prepare(self, *, now: datetime) -> None:
        """Check that every key the database uses is configured (raises `KeysMissing`), and create
        what every process needs once (the blind-index key). Run after migrations."""
        async with self.db.read() as session:
            await self.keys.check(session)
        await self.keys.ensure_blind_index(self.db, now=now)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[UnitOfWork]:
        """One write transaction: commit on clean exit, roll back and re-raise otherwise.

        Blobs in the database are written and deleted in the transaction itself. Blobs in a
        directory or an object store written inside a transaction that rolls back stay there as
        unreferenced ciphertext (unreadable without the case key); they are never half-written,
        and they are deleted only once the transaction that forgot them has committed.
        """
        async with self.db.transaction() as session:
            repos = Repos(session, self.keys, self.blobs, self.documents)
            yield repos
            if self.blobs.in_database:
                await self.blobs.delete(session, repos.cases.take_orphans())
        if not self.blobs.in_database:  # committed: the rows are gone, so are the blobs
            await self.blobs.delete(None, repos.cases.take_orphans())

    @asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        async with self.db.read() as session:
            yield Repos(session, self.keys, self.blobs, self.documents)

    async def close(self) -> None:
        await self.blobs.close()
        await self.db.dispose()
