"""A load process for the scale-out table: `python -m bench.answers ours|raw URL TAG [--concurrency C] [--seconds S]`.

ours: C submitters answer through the real case service (`app.cases.act`: lock, decrypt, engine,
encrypt, versioned write, audit, commit), each first 30 answers into the questionnaire, then
`back` + the same answer again and again (the draft keeps its size); raw: C psycopg connections
each doing `BEGIN; UPDATE … SET v = <blob of a draft's size>, version = version + 1; COMMIT`.

Prints `ready` once set up, waits for a line on stdin, runs for S seconds, prints one JSON line
{answers, seconds, cpu_s}."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench.procs import BENCH_KEY, dsn

BLOB = 6000  # about a draft 30 answers in, encrypted


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def ours(url: str, tag: str, c: int, seconds: float) -> dict[str, Any]:
    from intake import app as core
    from intake import engine
    from intake.settings import Settings, async_url
    from tests.support import answer_for

    settings = Settings(env="development", data_dir=Path(f"/tmp/bench-answers-{tag}"), database_url=async_url(url),
                        secret_keys=BENCH_KEY, _env_file=None)  # type: ignore[call-arg]
    app = core.build(settings)
    await app.store.prepare(now=app.clock())

    async def setup(k: int) -> None:
        who = f"{tag}-{k}"
        turn = await app.cases.resume("terminal", who)
        for _ in range(30):
            turn = await app.cases.act("terminal", who, answer_for(turn.prompt))

    await asyncio.gather(*(setup(k) for k in range(c)))
    counts = [0] * c
    stop = asyncio.Event()

    async def work(k: int) -> None:
        who = f"{tag}-{k}"
        while not stop.is_set():
            await app.cases.act("terminal", who, engine.Command("back"))
            current = await app.cases.current("terminal", who)
            assert current is not None
            await app.cases.act("terminal", who, answer_for(current.prompt))
            counts[k] += 2

    result = await window([work(k) for k in range(c)], stop, seconds, counts)
    await app.store.close()
    return result


async def raw(url: str, tag: str, c: int, seconds: float) -> dict[str, Any]:
    import psycopg

    conns = [await psycopg.AsyncConnection.connect(dsn(url), autocommit=True) for _ in range(c)]
    table = "bench_raw_answers"
    async with conns[0].transaction():
        await conns[0].execute(f"CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, v BYTEA, version INT)")
    for k in range(c):
        await conns[0].execute(f"INSERT INTO {table} VALUES (%s, %s, 0) ON CONFLICT (id) DO NOTHING", (f"{tag}-{k}", os.urandom(BLOB)))
    counts = [0] * c
    stop = asyncio.Event()
    blob = os.urandom(BLOB)

    async def work(k: int) -> None:
        conn = conns[k]
        while not stop.is_set():
            async with conn.transaction():
                await conn.execute(f"UPDATE {table} SET v = %s, version = version + 1 WHERE id = %s", (blob, f"{tag}-{k}"))
            counts[k] += 1

    result = await window([work(k) for k in range(c)], stop, seconds, counts)
    for conn in conns:
        await conn.close()
    return result


async def window(workers: list[Any], stop: asyncio.Event, seconds: float, counts: list[int]) -> dict[str, Any]:
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    cpu0, t0 = cpu(), time.perf_counter()
    tasks = [asyncio.create_task(w) for w in workers]
    await asyncio.sleep(seconds)
    done = sum(counts)
    elapsed, used = time.perf_counter() - t0, cpu() - cpu0
    stop.set()
    await asyncio.gather(*tasks)
    return {"answers": done, "seconds": elapsed, "cpu_s": used}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["ours", "raw"])
    p.add_argument("url")
    p.add_argument("tag")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--seconds", type=float, default=10.0)
    a = p.parse_args()
    fn = ours if a.mode == "ours" else raw
    print(json.dumps(asyncio.run(fn(a.url, a.tag, a.concurrency, a.seconds))), flush=True)


if __name__ == "__main__":
    main()
