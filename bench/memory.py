"""Table 5 — memory: RSS growth of `intake run` with N open drafts and with M submitted cases, vs.
the same process on an empty database (the floor). Each trial starts `intake run`, logs in to the
console, opens the queue, a filtered queue and a search (whatever the console keeps in memory is
built by then) and reads the process's resident set (psutil) and its peak (VmHWM). Goal: growth
< 30 MB."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from bench.core import Context, Table, Trial, interleave
from bench.pages import Console, pages_of
from bench.procs import fresh_db, intake_cli, intake_env
from bench.seed import STAFF_EMAIL, STAFF_PASSWORD, seeded

MB = 1024 * 1024
GOAL_MB = 30.0


def peak(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / MB
    return float("nan")


async def run(ctx: Context) -> Table:
    a = ctx.args
    drafts, cases = (100, 200) if ctx.quick else (a.drafts, a.cases)
    table = Table("memory", f"Memory: RSS of `intake run` (console used) with {drafts:,} open drafts / {cases:,} submitted cases vs. an empty database",
                  params={"drafts": drafts, "cases": cases, "goal_mb": GOAL_MB, "database": "postgresql" if ctx.pg_url else "sqlite"})
    empty_dir = ctx.work / "memory-empty"
    empty_url = await asyncio.to_thread(fresh_db, ctx.pg_url, empty_dir, "memory")
    r = await asyncio.to_thread(intake_cli, ["staff", "add", STAFF_EMAIL, "--role", "reviewer", "--password-stdin"],
                                intake_env(empty_dir / "data", empty_url), input=STAFF_PASSWORD + "\n", timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"intake staff add: {r.stdout}{r.stderr}")
    dbs = {"empty": (empty_url, empty_dir / "data"),
           "drafts": await seeded(drafts, status="draft", cache=a.cache, pg_url=ctx.pg_url),
           "submitted": await seeded(cases, status="submitted", cache=a.cache, pg_url=ctx.pg_url)}
    counter = itertools.count(1)

    def trial(kind: str) -> Trial:
        async def go() -> dict[str, float]:
            url, data_dir = dbs[kind]
            console = Console(url, data_dir, ctx.work / f"memory-{kind}-{next(counter)}", a.cli_timeout)
            try:
                await console.start()
                for path in pages_of().values():
                    await console.timed(path, 1)
                assert console.proc is not None
                await asyncio.sleep(0.5)
                return {"rss_mb": console.proc.rss() / MB, "peak_mb": peak(console.proc.ps.pid)}
            finally:
                await console.stop()
        return go

    res = await interleave({k: trial(k) for k in dbs}, ctx.reps)
    e = res["empty"]
    for kind, n in (("drafts", drafts), ("submitted", cases)):
        label = f"{n:,} open drafts" if kind == "drafts" else f"{n:,} submitted cases"
        table.row(f"RSS, {label}", "MB", res[kind]["rss_mb"], ("empty database", e["rss_mb"]))
        table.row(f"peak RSS, {label}", "MB", res[kind]["peak_mb"], ("empty database", e["peak_mb"]))
        growth = [x - y for x, y in zip(res[kind]["rss_mb"], e["rss_mb"], strict=True)]
        g = table.row(f"RSS growth, {label}", "MB", growth, ("goal", [GOAL_MB]))
        table.goal(f"memory: RSS growth < {GOAL_MB:.0f} MB with {label}", g.ratio, 1.0, note=f"{g.median:.1f} MB" if g.median is not None else "")
    return table
