"""What the configured blob store holds, whichever backend it is (tests read the store as an
attacker with the disk, the database or the bucket would)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from intake.app import App
from storage.blobs import DatabaseBlobStore, LocalBlobStore
from storage.models import BlobChunk


async def stored_blobs(app: App) -> dict[str, bytes]:
    """Every stored blob's ciphertext by reference."""
    blobs = app.store.blobs
    if isinstance(blobs, LocalBlobStore):
        return {p.parent.name + p.name: p.read_bytes() for p in blobs.root.rglob("*") if p.is_file() and not p.name.startswith(".tmp-")}
    if isinstance(blobs, DatabaseBlobStore):
        out: dict[str, bytearray] = {}
        async with app.store.db.read() as s:
            for ref, data in (await s.execute(select(BlobChunk.ref, BlobChunk.data).order_by(BlobChunk.ref, BlobChunk.seq))).all():
                out.setdefault(ref, bytearray()).extend(data)
        return {k: bytes(v) for k, v in out.items()}
    from storage.blobs_s3 import S3BlobStore

    assert isinstance(blobs, S3BlobStore)
    s3 = blobs

    def listing() -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for page in s3.client.get_paginator("list_objects_v2").paginate(Bucket=s3.bucket, Prefix=s3.prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                found[key[len(s3.prefix) :].replace("/", "")] = s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read()
        return found

    return await asyncio.to_thread(listing)
