"""Encrypted blob store for files: a local directory, content-addressed by ciphertext hash.

Each file is encrypted under its case's data key (AES-GCM, associated data naming the blob
store and the attachment id) before it touches the disk; the name on disk is the sha256 of the
ciphertext, so neither names nor hashes of the plaintext appear on disk. Writes go to a temp
file, are fsynced and renamed into place, so a crash never leaves half a file under a real name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from storage.crypto import DataKey


class BlobStore(Protocol):
    """Stores opaque encrypted bytes by reference."""

    def put(self, data_key: DataKey, attachment_id: str, plaintext: bytes) -> str:
        """Encrypt and store; return the blob reference (hex sha256 of the ciphertext)."""
        ...

    def get(self, data_key: DataKey, attachment_id: str, ref: str) -> bytes:
        """Read and decrypt; raises CryptoError if the key was destroyed or the blob tampered."""
        ...

    def delete(self, ref: str) -> None:
        """Remove a blob (missing is not an error)."""
        ...


class LocalBlobStore:
    """Blobs under `root/ab/cdef…`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, ref: str) -> Path:
        if len(ref) != 64 or any(c not in "0123456789abcdef" for c in ref):
            raise ValueError("not a blob reference")
        return self.root / ref[:2] / ref[2:]

    def put(self, data_key: DataKey, attachment_id: str, plaintext: bytes) -> str:
        blob = data_key.encrypt(plaintext, table="blobs", column="content", row_id=attachment_id)
        ref = hashlib.sha256(blob).hexdigest()
        path = self._path(ref)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return ref

    def get(self, data_key: DataKey, attachment_id: str, ref: str) -> bytes:
        blob = self._path(ref).read_bytes()
        return data_key.decrypt(blob, table="blobs", column="content", row_id=attachment_id)

    def delete(self, ref: str) -> None:
        self._path(ref).unlink(missing_ok=True)
