"""Encrypted blob store for evidence files, chosen by `INTAKE_BLOB_URL`.

Every backend stores the same envelope: the file encrypted under its case's data key (AES-GCM,
associated data naming the blob store and the attachment id; `storage.crypto`'s format byte,
nonce, ciphertext and tag), named by the sha256 of that ciphertext, so neither names nor hashes
of the plaintext are ever stored. Backends:

- `database` (the default on PostgreSQL): the ciphertext in 1 MiB rows of `blob_chunks`, written
  in the same transaction as the attachment row (nothing orphaned on a rollback), reachable from
  every process that reaches the database, and inside its backups;
- `s3://bucket/prefix`: an S3-compatible object store (`storage.blobs_s3`);
- `file:///path` (the default on SQLite): a local directory, content-addressed; writes go to a
  temp file, are fsynced and renamed into place, so a crash never leaves half a file under a
  real name.

A file is held as plaintext and ciphertext once each; the database backend hands chunks to the
driver as views of the ciphertext and reassembles a read into one buffer.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import FORMAT, NONCE_BYTES, CryptoError, DataKey, aad_for
from storage.models import BlobChunk

CHUNK = 1 << 20  # bytes per blob_chunks row
Buffer = bytes | bytearray | memoryview


class BlobStore(Protocol):
    """Stores opaque encrypted bytes by reference. `session` is the caller's open transaction
    (the database backend writes and reads through it; the others ignore it)."""

    in_database: bool  # True: deletes run inside the write transaction that forgets the rows

    async def put(self, session: AsyncSession, data_key: DataKey, attachment_id: str, plaintext: bytes) -> str:
        """Encrypt and store; return the blob reference (hex sha256 of the ciphertext)."""
        ...

    async def get(self, session: AsyncSession, data_key: DataKey, attachment_id: str, ref: str) -> bytes:
        """Read and decrypt; raises CryptoError if the key was destroyed or the blob tampered."""
        ...

    async def delete(self, session: AsyncSession | None, refs: Sequence[str]) -> None:
        """Remove blobs (missing is not an error)."""
        ...

    async def close(self) -> None:
        """Release connections (nothing to do for most backends)."""
        ...


@dataclass(frozen=True)
class Sealed:
    """A blob's ciphertext in two parts (format byte + nonce, then ciphertext + tag), so it is
    never concatenated into a third copy; `ref` is the sha256 of the two together."""

    head: bytes
    body: bytes
    ref: str

    @property
    def size(self) -> int:
        return len(self.head) + len(self.body)

    def chunks(self, size: int = CHUNK) -> list[memoryview | bytes]:
        """The ciphertext cut into `size`-byte pieces; views, except the first (head + a slice)."""
        body = memoryview(self.body)
        first = size - len(self.head)
        out: list[memoryview | bytes] = [self.head + bytes(body[:first])]
        out.extend(body[i : i + size] for i in range(first, len(body), size))
        return out

    def joined(self) -> bytes:
        return self.head + self.body


def seal(data_key: DataKey, attachment_id: str, plaintext: bytes) -> Sealed:
    """`DataKey.encrypt(plaintext, table="blobs", column="content", row_id=attachment_id)`, in parts."""
    nonce = os.urandom(NONCE_BYTES)
    head = FORMAT + nonce
    body = AESGCM(data_key.key).encrypt(nonce, plaintext, aad_for("blobs", "content", attachment_id))
    digest = hashlib.sha256(head)
    digest.update(body)
    return Sealed(head, body, digest.hexdigest())


def unseal(data_key: DataKey, attachment_id: str, blob: Buffer) -> bytes:
    """`DataKey.decrypt` of a blob, over views (no copy of the ciphertext)."""
    view = memoryview(blob)
    if len(view) < 1 + NONCE_BYTES + 16 or bytes(view[:1]) != FORMAT:
        raise CryptoError("not a ciphertext of a known format")
    try:
        return AESGCM(data_key.key).decrypt(bytes(view[1 : 1 + NONCE_BYTES]), view[1 + NONCE_BYTES :], aad_for("blobs", "content", attachment_id))
    except InvalidTag:
        raise CryptoError("decryption failed") from None


def check_ref(ref: str) -> str:
    if len(ref) != 64 or any(c not in "0123456789abcdef" for c in ref):
        raise ValueError("not a blob reference")
    return ref


class LocalBlobStore:
    """Blobs under `root/ab/cdef…` (one host's disk: for a single process, e.g. on SQLite)."""

    in_database = False

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, ref: str) -> Path:
        check_ref(ref)
        return self.root / ref[:2] / ref[2:]

    async def put(self, session: AsyncSession, data_key: DataKey, attachment_id: str, plaintext: bytes) -> str:
        sealed = seal(data_key, attachment_id, plaintext)
        await asyncio.to_thread(self._write, sealed)
        return sealed.ref

    def _write(self, sealed: Sealed) -> None:
        path = self._path(sealed.ref)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(sealed.head)
                fh.write(sealed.body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def get(self, session: AsyncSession, data_key: DataKey, attachment_id: str, ref: str) -> bytes:
        blob = await asyncio.to_thread(self._path(ref).read_bytes)
        return unseal(data_key, attachment_id, blob)

    async def delete(self, session: AsyncSession | None, refs: Sequence[str]) -> None:
        for ref in refs:
            self._path(ref).unlink(missing_ok=True)

    async def close(self) -> None:
        return None


class DatabaseBlobStore:
    """Blobs as `blob_chunks` rows in the caller's transaction (PostgreSQL `bytea`, SQLite BLOB)."""

    in_database = True

    async def put(self, session: AsyncSession, data_key: DataKey, attachment_id: str, plaintext: bytes) -> str:
        sealed = seal(data_key, attachment_id, plaintext)
        for seq, piece in enumerate(sealed.chunks()):  # one row per statement: one chunk in flight
            await session.execute(insert(BlobChunk).values(ref=sealed.ref, seq=seq, data=piece))
        return sealed.ref

    async def get(self, session: AsyncSession, data_key: DataKey, attachment_id: str, ref: str) -> bytes:
        check_ref(ref)
        buf = bytearray()
        result = await session.stream_scalars(select(BlobChunk.data).where(BlobChunk.ref == ref).order_by(BlobChunk.seq).execution_options(yield_per=1))
        async for piece in result:
            buf += piece
        if not buf:
            raise FileNotFoundError("blob not found")
        return unseal(data_key, attachment_id, buf)

    async def delete(self, session: AsyncSession | None, refs: Sequence[str]) -> None:
        if refs:
            assert session is not None, "the database store deletes inside the write transaction"
            await session.execute(delete(BlobChunk).where(BlobChunk.ref.in_([check_ref(r) for r in refs])))

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class S3Config:
    """Where and as whom to reach an S3-compatible store (INTAKE_BLOB_S3_*)."""

    endpoint: str | None = None
    region: str | None = None
    access_key: str | None = None
    secret_key: str | None = None


def open_blob_store(url: str, *, s3: S3Config | None = None) -> BlobStore:
    """The backend for an INTAKE_BLOB_URL: `database`, `file:///path` or `s3://bucket/prefix`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if url == "database" or scheme == "database":
        return DatabaseBlobStore()
    if scheme == "file":
        return LocalBlobStore(Path(unquote(parts.netloc + parts.path)))
    if scheme == "s3":
        from storage.blobs_s3 import S3BlobStore

        if not parts.netloc:
            raise ValueError("INTAKE_BLOB_URL=s3://bucket/prefix needs a bucket")
        return S3BlobStore(parts.netloc, parts.path.strip("/"), s3 or S3Config())
    raise ValueError("INTAKE_BLOB_URL must be 'database', file:///path or s3://bucket/prefix")
