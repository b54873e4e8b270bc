"""Evidence files in an S3-compatible object store (`INTAKE_BLOB_URL=s3://bucket/prefix`).

Objects are the same envelope as every blob backend (see `storage.blobs`), keyed
`prefix/ab/cdef…` by the sha256 of the ciphertext; the store sees ciphertext only. boto3's client
is thread-safe and blocking, so each call runs in a worker thread. Uploads go through boto3's
transfer manager (multipart above 8 MiB, two parts at a time), fed from views of the ciphertext
without a joined copy.
The endpoint, region and credentials come from INTAKE_BLOB_S3_*; without them boto3's own chain
(environment, instance profile) applies.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any, cast

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.blobs import S3Config, Sealed, check_ref, seal, unseal
from storage.crypto import DataKey

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client
    from types_boto3_s3.type_defs import ObjectIdentifierTypeDef


UPLOAD = TransferConfig(multipart_chunksize=8 * 1024 * 1024, max_concurrency=2)  # at most two 8 MiB parts in memory beside the ciphertext


class _Parts(io.RawIOBase):
    """A read-only file over the two parts of a sealed blob (what boto3 uploads from)."""

    def __init__(self, sealed: Sealed) -> None:
        self._parts = [memoryview(sealed.head), memoryview(sealed.body)]
        self._pos = 0
        self._size = sealed.size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        out = memoryview(buffer).cast("B")
        done, start = 0, 0
        for part in self._parts:
            end = start + len(part)
            if self._pos < end and done < len(out):
                piece = part[self._pos - start : self._pos - start + len(out) - done]
                out[done : done + len(piece)] = piece
                done += len(piece)
                self._pos += len(piece)
            start = end
        return done


class S3BlobStore:
    """Blobs as objects in `bucket` under `prefix`."""

    in_database = False

    def __init__(self, bucket: str, prefix: str, config: S3Config) -> None:
        self.bucket = bucket
        self.prefix = f"{prefix}/" if prefix else ""
        self.client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=config.endpoint,
            region_name=config.region,
            aws_access_key_id=config.access_key,
            aws_secret_access_key=config.secret_key,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, s3={"addressing_style": "path"} if config.endpoint else None),
        )

    def _key(self, ref: str) -> str:
        check_ref(ref)
        return f"{self.prefix}{ref[:2]}/{ref[2:]}"

    async def put(self, session: AsyncSession, data_key: DataKey, attachment_id: str, plaintext: bytes) -> str:
        sealed = seal(data_key, attachment_id, plaintext)
        await asyncio.to_thread(self.client.upload_fileobj, cast("IO[Any]", _Parts(sealed)), self.bucket, self._key(sealed.ref), Config=UPLOAD)
        return sealed.ref

    async def get(self, session: AsyncSession, data_key: DataKey, attachment_id: str, ref: str) -> bytes:
        blob = await asyncio.to_thread(self._read, self._key(ref))
        return unseal(data_key, attachment_id, blob)

    def _read(self, key: str) -> bytearray:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError("blob not found") from None
            raise
        buf = bytearray()
        try:
            for piece in body.iter_chunks(1 << 20):
                buf += piece
        finally:
            body.close()
        return buf

    async def delete(self, session: AsyncSession | None, refs: Sequence[str]) -> None:
        keys: list[ObjectIdentifierTypeDef] = [{"Key": self._key(r)} for r in refs]
        for i in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            await asyncio.to_thread(self.client.delete_objects, Bucket=self.bucket, Delete={"Objects": keys[i : i + 1000], "Quiet": True})

    async def close(self) -> None:
        await asyncio.to_thread(self.client.close)
