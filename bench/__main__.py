"""`python -m bench [NAME…] [--json PATH] [--quick] [--reps N] [sizes…] [--profile]` — see bench/__init__.py."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench.core import Context, Table, load, machine, print_summary, print_table

# name → (module, what it measures); run in this order by default
TABLES = {
    "telegram": ("bench.telegram:run", "Telegram: chats × updates through `intake run` vs. a PTB echo bot"),
    "smtp": ("bench.mailflow:run_smtp", "SMTP accept vs. aiosmtpd Sink and a durable floor; the inbox drains within the run"),
    "email": ("bench.mailflow:run_email", "email processing to the auto-reply at the relay vs. stdlib parse + reply + aiosmtplib"),
    "pages": ("bench.pages:run", "staff pages and `intake review list` at a small vs. a large number of cases"),
    "memory": ("bench.memory:run", "RSS growth of `intake run` with open drafts and with submitted cases"),
    "scaleout": ("bench.scaleout:run", "2 processes vs. 1 on PostgreSQL; files across two data directories (PostgreSQL only)"),
    "micro": ("bench.micro:run", "micro-benchmarks: encryption, engine step, saved answer, queue memory"),
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("names", nargs="*", help=f"tables to run (default: all): {', '.join(TABLES)}")
    p.add_argument("--list", action="store_true", help="list the tables and exit")
    p.add_argument("--json", type=Path, help="write every figure to this JSON file")
    p.add_argument("--quick", action="store_true", help="tiny sizes, one repetition: proves the harness works, measures nothing")
    p.add_argument("--reps", type=int, default=3, help="repetitions of every trial, interleaved with its floor's (default 3)")
    p.add_argument("--profile", nargs="?", const=Path("bench-profiles"), type=Path, default=None,
                   help="record the first `intake run` of the telegram and email tables with py-spy: collapsed stacks (.folded, for flamegraph.pl / speedscope) and a text summary (.txt) in this folder (default ./bench-profiles)")
    p.add_argument("--database-url", default=os.environ.get("INTAKE_BENCH_DATABASE_URL"),
                   help="PostgreSQL (postgresql+psycopg://…) for every table; default $INTAKE_BENCH_DATABASE_URL, else SQLite. "
                        "Databases <name>_<table> are created on the same server and emptied.")
    p.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    p.add_argument("--cache", type=Path, default=Path(__file__).resolve().parent / ".cache",
                   help="where seeded SQLite databases are kept between runs (default bench/.cache)")
    g = p.add_argument_group("sizes")
    g.add_argument("--chats", type=int, default=50, help="telegram: concurrent chats (default 50)")
    g.add_argument("--updates", type=int, default=10, help="telegram: updates per chat (default 10; the issue's first figures used 31)")
    g.add_argument("--limiter", choices=["aio", "none"], default="aio", help="telegram: the echo bot's rate limiter (default aio, as ours)")
    g.add_argument("--clients", type=int, default=8, help="smtp: concurrent SMTP clients (default 8)")
    g.add_argument("--messages", type=int, default=50, help="smtp: messages per client (default 50)")
    g.add_argument("--emails", type=int, default=200, help="email: emails to process (default 200)")
    g.add_argument("--cases", type=int, default=100_000, help="pages/memory: the large number of submitted cases (default 100000)")
    g.add_argument("--small", type=int, default=1_000, help="pages: the small number of cases (default 1000)")
    g.add_argument("--drafts", type=int, default=10_000, help="memory: open drafts (default 10000)")
    g.add_argument("--requests", type=int, default=5, help="pages: requests per page per repetition (default 5)")
    g.add_argument("--seconds", type=float, default=10.0, help="scaleout: seconds per trial (default 10)")
    g.add_argument("--concurrency", type=int, default=8, help="scaleout: concurrent submitters per process (default 8)")
    g.add_argument("--cli-timeout", type=float, default=300.0, help="pages/memory: give up on one CLI call or page after this many seconds")
    return p


async def run_one(name: str, ctx: Context) -> Table:
    module_name, _, func = TABLES[name][0].partition(":")
    before = load()
    started = time.perf_counter()
    try:
        table: Table = await getattr(importlib.import_module(module_name), func)(ctx)
    except Exception as exc:
        traceback.print_exc()
        table = Table(name, TABLES[name][1], skipped=f"failed: {type(exc).__name__}: {str(exc)[:300]}")
        table.goal(f"{name}: table ran", None, 1.0, note="the table crashed; see the traceback above")
    table.seconds = time.perf_counter() - started
    table.load = {"before": before, "after": load()}
    return table


async def main_async(args: argparse.Namespace) -> int:
    names = args.names or list(TABLES)
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        print(f"unknown table(s): {', '.join(unknown)}; known: {', '.join(TABLES)}", file=sys.stderr)
        return 2
    if args.quick:
        args.reps = 1 if args.reps == 3 else args.reps
    info = machine()
    print(f"# make bench — {info['date']}, python {info['python']}, {info['cpus']} CPUs, {info['processor']}, load {load()}"
          f"; database: {'PostgreSQL' if args.database_url else 'SQLite'}; {args.reps} repetition(s){' (quick)' if args.quick else ''}")
    tables: list[Table] = []
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        profile_dir = args.profile.resolve() if args.profile else None
        if profile_dir:
            profile_dir.mkdir(parents=True, exist_ok=True)
        ctx = Context(args, work, profile_dir, args.database_url or None)
        for name in names:
            print(f"\n… {name}: {TABLES[name][1]}", file=sys.stderr, flush=True)
            table = await run_one(name, ctx)
            tables.append(table)
            print_table(table)
            sys.stdout.flush()
    print_summary(tables)
    if args.json:
        record = {"machine": info, "args": {k: str(v) for k, v in vars(args).items()}, "tables": [t.to_dict() for t in tables]}
        args.json.write_text(json.dumps(record, indent=2, ensure_ascii=False))
        print(f"\nJSON: {args.json}")
    return 1 if any(t.skipped and t.skipped.startswith("failed") for t in tables) else 0


def main() -> None:
    args = parser().parse_args()
    if args.list:
        for name, (_, what) in TABLES.items():
            print(f"{name:<10} {what}")
        return
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
