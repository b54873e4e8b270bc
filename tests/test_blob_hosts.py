"""Two hosts, one database: a file received by one `intake` process downloads through the other's
console, with the files in the database or in an S3-compatible store (moto's server on loopback:
real HTTP, real boto3). Each process has its own data directory, as on two machines."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from intake import app as core
from intake.settings import Settings
from review.auth import AuthService
from review.web import create_app
from storage.blobs import DatabaseBlobStore
from tests.blob_support import stored_blobs
from tests.conftest import TEST_KEY
from tests.review.conftest import PASSWORD, cheap_hasher, make_case
from tests.support import FixedClock, add_file

BUCKET = "intake-evidence"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port, with an empty bucket."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    client.create_bucket(Bucket=BUCKET)
    client.close()
    try:
        yield endpoint
    finally:
        server.stop()


def host_settings(tmp_path: Path, name: str, db_url: str, blob: str, endpoint: str | None) -> Settings:
    extra: dict[str, object] = {"blob_url": "database"}
    if blob == "s3":
        extra = {
            "blob_url": f"s3://{BUCKET}/cases-{os.getpid()}-{tmp_path.name}", "blob_s3_endpoint": endpoint,
            "blob_s3_region": "us-east-1", "blob_s3_access_key": "test", "blob_s3_secret_key": "test",
        }
    return Settings(env="test", data_dir=tmp_path / name, database_url=db_url, secret_keys=TEST_KEY, _env_file=None, **extra)  # type: ignore[call-arg, arg-type]


@pytest.fixture(params=["database", "s3"])
async def hosts(request: pytest.FixtureRequest, tmp_path: Path, db_url: str, clock: FixedClock) -> AsyncIterator[tuple[core.App, core.App]]:
    endpoint = request.getfixturevalue("s3_endpoint") if request.param == "s3" else None
    one = core.build(host_settings(tmp_path, "host-one", db_url, request.param, endpoint), clock=clock)
    two = core.build(host_settings(tmp_path, "host-two", db_url, request.param, endpoint), clock=clock)
    await one.store.prepare(now=clock())
    await two.store.prepare(now=clock())
    try:
        yield one, two
    finally:
        await one.store.close()
        await two.store.close()


async def test_a_file_received_on_one_host_downloads_on_the_other(hosts: tuple[core.App, core.App]) -> None:
    one, two = hosts
    evidence = b"%ledger of the Tamberlane fleet%" + os.urandom(2_500_000)  # three 1 MiB chunks in the database
    await one.cases.resume("telegram", "5550001")
    result = await add_file(one, "telegram", "5550001", filename="ledger.bin", data=evidence)  # through `receive`, as a channel does
    assert result.attachment is not None
    ref = await make_case(one, "telegram", who="5550001")

    auth = AuthService(two.store, clock=two.clock, hasher=cheap_hasher())
    staff = await auth.add_staff("admin@example.org", PASSWORD, "admin")
    login = await auth.login(staff.email, PASSWORD, remote="127.0.0.1")
    web = create_app(two, auth=auth)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://testserver") as client:
        client.cookies.set("intake_session", login.token)
        r = await client.get(f"/cases/{ref}/files/{result.attachment.id}", params={"original": "true"})
        assert r.status_code == 200, r.text[:300]
        assert r.content == evidence
    assert not any((one.settings.data_dir / "blobs").rglob("*")) and not any((two.settings.data_dir / "blobs").rglob("*"))
    stored = await stored_blobs(two)
    assert result.attachment.id not in str(stored.keys()) and all(b"Tamberlane" not in v for v in stored.values())


async def test_shredding_deletes_from_the_shared_store(hosts: tuple[core.App, core.App]) -> None:
    one, two = hosts
    await one.cases.resume("telegram", "5550002")
    await add_file(one, "telegram", "5550002", filename="photo.bin", data=b"evidence" * 1000)
    assert len(await stored_blobs(two)) == 1
    async with two.store.write() as uow:
        case = await uow.cases.open_draft((await uow.submitters.find(channel="telegram", identity="5550002")).id)  # type: ignore[union-attr]
        assert case is not None
        await uow.cases.delete_draft(case.id, now=two.clock())
    assert await stored_blobs(one) == {}


async def test_a_large_file_is_not_held_three_times(hosts: tuple[core.App, core.App]) -> None:
    """20 MB in and out: the database store adds about one ciphertext copy on the way in (chunks
    are views of it) and one on the way out (the chunks gathered into one buffer) beside the
    plaintext; S3 goes through multipart upload (8 MiB parts) and back (not measured: moto's
    server runs in this process, so its own copies would count)."""
    one, two = hosts
    size = 20 * 1024 * 1024
    evidence = os.urandom(size)
    await one.cases.resume("telegram", "5550003")
    async with one.store.write() as uow:
        case = await uow.cases.open_draft((await uow.submitters.find(channel="telegram", identity="5550003")).id)  # type: ignore[union-attr]
        assert case is not None
    tracemalloc.start()
    try:
        async with one.store.write() as uow:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            record = await uow.attachments.add(case_id=case.id, filename="big.bin", data=evidence, now=one.clock(), source="telegram")
            put_peak = tracemalloc.get_traced_memory()[1] - base
        async with two.store.read() as uow:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            back = await uow.attachments.read(case.id, record.id)
            get_peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert back == evidence
    print(f"\n{type(one.store.blobs).__name__}: 20 MB put peak +{put_peak / size:.2f}×, get peak +{get_peak / size:.2f}× the file")
    if isinstance(one.store.blobs, DatabaseBlobStore):
        assert put_peak < 1.5 * size  # the ciphertext (+ a chunk or two), not ciphertext + a joined copy
        assert get_peak < 2.5 * size  # the gathered ciphertext + the plaintext, no third copy
