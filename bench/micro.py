"""Benchmarks (`make bench`): each prints its figure and the ratio to a floor measured in the same run.

The floor is what the underlying library does for the same work with nothing of ours around it,
so the ratio shows our overhead and stays comparable across machines:

- encrypt: our field encryption of a full draft (JSON + AES-GCM + associated data) vs. the raw
  AESGCM.encrypt of the same bytes;
- engine: one questionnaire step (next_prompt + apply, pure) vs. the pydantic deep copy of the draft
  every immutable step needs at least;
- answer: one saved answer through the case service (lock, decrypt, engine, encrypt, versioned
  write, audit, commit) on SQLite vs. a raw aiosqlite `BEGIN IMMEDIATE; UPDATE; COMMIT` of the
  same number of bytes;
- queue memory: peak memory of loading 500 decrypted cases for the queue vs. the size of their
  ciphertext (tracemalloc).

Run: `python -m bench micro` (part of `make bench`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from intake import app as core
from intake import engine
from intake.questionnaire import load_default
from intake.settings import Settings
from storage.crypto import new_data_key
from tests.support import answer_for

QUICK = "--quick" in sys.argv


def timeit(fn: Callable[[], Any], *, repeat: int = 5, number: int = 200) -> float:
    """Best-of-`repeat` seconds per call."""
    best = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best.append((time.perf_counter() - start) / number)
    return min(best)


async def atimeit(fn: Callable[[], Any], *, number: int) -> float:
    samples = []
    for _ in range(number):
        start = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


RESULTS: list[tuple[str, float, float, str]] = []
FLOOR_NAMES = {"encrypt": "raw AESGCM.encrypt", "engine step": "pydantic deep copy", "saved answer": "raw aiosqlite UPDATE+COMMIT",
               "queue memory": "ciphertext size"}


def report(name: str, ours: float, floor: float, unit: str = "µs") -> None:
    scale = 1e6 if unit == "µs" else 1.0
    RESULTS.append((name, ours * scale, floor * scale, unit))
    print(f"{name:<14} ours {ours * scale:10.1f} {unit}   floor {floor * scale:10.1f} {unit}   ratio {ours / floor:6.2f}x")


def full_draft() -> engine.Draft:
    q = load_default()
    draft = engine.start()
    while (prompt := engine.next_prompt(q, draft)).kind != "review":
        draft = engine.apply(q, draft, answer_for(prompt)).draft
    return draft


def bench_encrypt() -> None:
    draft = full_draft().model_dump(mode="json")
    key = new_data_key("k")
    raw = json.dumps(draft, ensure_ascii=False, separators=(",", ":")).encode()
    aes = AESGCM(key.key)
    nonce = os.urandom(12)
    ours = timeit(lambda: key.encrypt_json(draft, table="cases", column="draft", row_id="x"), number=100 if QUICK else 500)
    floor = timeit(lambda: aes.encrypt(nonce, raw, b"cases:draft:x"), number=100 if QUICK else 500)
    report("encrypt", ours, floor)


def bench_engine() -> None:
    q = load_default()
    draft = engine.start()
    steps: list[tuple[engine.Draft, engine.Action]] = []
    while (prompt := engine.next_prompt(q, draft)).kind != "review":
        action = answer_for(prompt)
        steps.append((draft, action))
        draft = engine.apply(q, draft, action).draft
    late = steps[len(steps) * 3 // 4]

    def step() -> None:
        engine.next_prompt(q, late[0])
        engine.apply(q, late[0], late[1])

    ours = timeit(step, number=20 if QUICK else 100)
    floor = timeit(lambda: late[0].model_copy(deep=True), number=20 if QUICK else 100)
    report("engine step", ours, floor)


async def fresh_app(data_dir: Path) -> core.App:
    """The core on a new, migrated SQLite database in `data_dir`."""
    settings = Settings(
        env="test", data_dir=data_dir, secret_keys=base64.b64encode(os.urandom(32)).decode(), _env_file=None  # type: ignore[call-arg]
    )
    await asyncio.to_thread(core.migrate, settings.sqlalchemy_url)
    application = core.build(settings)
    await application.store.prepare(now=application.clock())
    return application


async def bench_answer(tmp: Path) -> None:
    import aiosqlite

    application = await fresh_app(tmp / "data")
    turn = await application.cases.resume("terminal", "bench")
    for _ in range(30):
        turn = await application.cases.act("terminal", "bench", answer_for(turn.prompt))

    async def one() -> None:
        # back + re-answer keeps the draft the same size: two saved inputs per call
        await application.cases.act("terminal", "bench", engine.Command("back"))
        current = await application.cases.current("terminal", "bench")
        assert current is not None
        await application.cases.act("terminal", "bench", answer_for(current.prompt))

    n = 10 if QUICK else 40
    ours = await atimeit(one, number=n) / 2
    async with application.store.read() as uow:
        sub = await uow.submitters.find(channel="terminal", identity="bench")
        assert sub is not None
        case = await uow.cases.open_draft(sub.id)
        assert case is not None
    size = len(json.dumps(case.draft))
    await application.store.close()

    db = await aiosqlite.connect(tmp / "floor.db", isolation_level=None)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=NORMAL")
    await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB, version INTEGER)")
    await db.execute("INSERT INTO t VALUES (1, ?, 0)", (os.urandom(size),))
    blob = os.urandom(size)

    async def floor_write() -> None:
        await db.execute("BEGIN IMMEDIATE")
        await db.execute("UPDATE t SET v = ?, version = version + 1 WHERE id = 1", (blob,))
        await db.execute("COMMIT")

    floor = await atimeit(floor_write, number=n * 2)
    await db.close()
    report("saved answer", ours, floor)


async def bench_queue_memory(tmp: Path) -> None:
    application = await fresh_app(tmp / "mem")
    draft = full_draft().model_dump(mode="json")
    n = 100 if QUICK else 500
    async with application.store.write() as uow:
        for i in range(n):
            sub = await uow.submitters.get_or_create(channel="terminal", identity=f"m{i}", lang="en", now=application.clock())
            await uow.cases.create(
                submitter_id=sub.id, channel="terminal", reference=f"HT-{i:04d}-BENC", questionnaire_id="default",
                questionnaire_version=1, lang="en", draft=draft, status="submitted", now=application.clock(),
            )
    ciphertext = n * (len(json.dumps(draft, separators=(",", ":")).encode()) + 29)
    tracemalloc.start()
    async with application.store.read() as uow:
        cases = await uow.cases.list(statuses=["submitted"], limit=n)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(cases) == n
    await application.store.close()
    print(f"{'queue memory':<14} ours {peak / 1e6:10.1f} MB   floor {ciphertext / 1e6:10.1f} MB   ratio {peak / ciphertext:6.2f}x  ({n} cases)")
    RESULTS.append(("queue memory", peak / 1e6, ciphertext / 1e6, "MB"))


async def run(ctx: Any) -> Any:
    """The micro-benchmarks as one table (their own best-of timing; printed as they go)."""
    from bench.core import Table

    global QUICK
    QUICK = bool(ctx.quick)
    table = Table("micro", "Micro-benchmarks: encryption, engine step, saved answer (SQLite), queue memory")
    bench_encrypt()
    bench_engine()
    with tempfile.TemporaryDirectory() as tmp:
        await bench_answer(Path(tmp))
        await bench_queue_memory(Path(tmp))
    for name, ours, floor, unit in RESULTS:
        table.row(name, unit, [ours], (FLOOR_NAMES.get(name, "floor"), [floor]))
    RESULTS.clear()
    return table
