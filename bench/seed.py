"""A fast bulk seeder for the staff-side tables: N cases written through the core's repositories
(a fresh data key per case, the draft encrypted with it, a submitter; no audit events), several cases per transaction. Submitted cases get a `submitted_at` a minute apart, so
queue order is meaningful; drafts stay open drafts (each its own submitter).

Submitted cases come from 1,000 submitters (per seeding process) (organisations send several cases); each draft has its own.
Answers vary across cases: the abuse form cycles through the questionnaire's options (a filter
matches a fraction), the organisation's name carries a keyword `kw<i mod 997>` (a search for one
keyword matches about N/997 cases) and the country cycles through a few.

Seeded databases are kept (SQLite files in the cache folder; PostgreSQL databases
`<bench db>_seed_<status>_<n>`) and reused while the schema head and the count are unchanged.
On PostgreSQL one seeding process per CPU writes a slice each.
`python -m bench.seed URL N [--start S] [--status draft|submitted]` seeds an existing migrated database."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.procs import BENCH_KEY, dsn, intake_cli, intake_env, pg_database, query, reset_pg
from intake import app as core
from intake import engine
from intake.questionnaire import load_default
from intake.references import REF_ALPHABET
from intake.settings import Settings, async_url
from tests.support import answer_for

STAFF_EMAIL = "reviewer@example.org"
STAFF_PASSWORD = "measuring tape correct horse staple"
COUNTRIES = ["NG", "TH", "MY", "QA", "AE", "IN", "BR", "MX"]


def base_draft() -> dict[str, Any]:
    q = load_default()
    draft = engine.start()
    while (prompt := engine.next_prompt(q, draft)).kind != "review":
        draft = engine.apply(q, draft, answer_for(prompt)).draft
    return draft.model_copy(update={"cursor": None, "mode": "review"}).model_dump(mode="json")


def abuse_forms() -> list[str]:
    item = load_default().items_by_id().get("abuse_forms")
    return [o.id for o in getattr(item, "options", [])] or ["forced_labour"]


def reference(i: int) -> str:
    """A unique reference per index in the product's alphabet (base 30), with a random prefix part."""
    chars = []
    for _ in range(6):
        i, r = divmod(i, len(REF_ALPHABET))
        chars.append(REF_ALPHABET[r])
    tail = "".join(reversed(chars))
    head = "".join(secrets.choice(REF_ALPHABET) for _ in range(2))
    return f"HT-{head}{tail[:2]}-{tail[2:]}"


def varied(base: dict[str, Any], i: int, forms: list[str]) -> dict[str, Any]:
    draft = json.loads(json.dumps(base))
    answers = draft["answers"]
    answers["org_name"] = f"Sample organisation kw{i % 997} number {i}"
    answers["abuse_forms"] = [forms[i % len(forms)]]
    answers["org_country"] = COUNTRIES[i % len(COUNTRIES)]
    return draft


def settings_for(url: str, data_dir: Path) -> Settings:
    return Settings(env="development", data_dir=data_dir, database_url=async_url(url), secret_keys=BENCH_KEY, _env_file=None)  # type: ignore[call-arg]


async def seed(url: str, data_dir: Path, n: int, *, status: str = "submitted", batch: int = 250, start: int = 0) -> float:
    """Write cases start..n-1; returns seconds taken."""
    app = core.build(settings_for(url, data_dir))
    await app.store.prepare(now=app.clock())
    base, forms = base_draft(), abuse_forms()
    epoch = datetime(2025, 1, 1, tzinfo=UTC)
    subs: dict[str, str] = {}
    started = time.perf_counter()
    try:
        for lo in range(start, n, batch):
            async with app.store.write() as uow:
                for i in range(lo, min(n, lo + batch)):
                    now = epoch + timedelta(minutes=i)
                    # submitted cases come from 1,000 organisations (several cases each); every draft has its own submitter
                    # (per seeding process: parallel ones never wait on each other's new submitters)
                    who = f"bench-{status}-{start}-{i % 1000}" if status == "submitted" else f"bench-{status}-{i}"
                    if who not in subs:
                        subs[who] = (await uow.submitters.get_or_create(channel="telegram", identity=who, lang="en", now=now)).id
                    draft = varied(base, i, forms) if status == "submitted" else engine.start().model_dump(mode="json") | {
                        "answers": varied(base, i, forms)["answers"]}
                    case = await uow.cases.create(submitter_id=subs[who], channel="telegram", reference=reference(i), questionnaire_id="default",
                                                  questionnaire_version=1, lang="en", draft=draft, status=status, now=now)
                    if status == "submitted":
                        case.submitted_at = now
                        await uow.cases.save(case, now=now)
            if (lo // batch) % 20 == 0:
                done = min(n, lo + batch)
                rate = (done - start) / (time.perf_counter() - started)
                print(f"  seeded {done}/{n} {status} cases ({rate:.0f}/s)", file=sys.stderr, flush=True)
    finally:
        await app.store.close()
    return time.perf_counter() - started


def schema_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    root = Path(__file__).resolve().parent.parent
    cfg = Config(str(root / "alembic.ini"))
    cfg.set_main_option("script_location", str(root / "migrations"))
    return "+".join(sorted(ScriptDirectory.from_config(cfg).get_heads()))


def analyse(url: str) -> None:
    """After a bulk load, what autovacuum would do in time: planner statistics and the visibility
    map (index-only scans), so the bench measures a settled database, not one minutes after a load."""
    if url.startswith("sqlite"):
        query(url, "ANALYZE")
        return
    import psycopg

    with psycopg.connect(dsn(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def count(url: str, status: str) -> int:
    try:
        return int(query(url, f"SELECT count(*) FROM cases WHERE status = '{status}'")[0][0])
    except Exception:
        return -1


async def seed_parallel(url: str, data_dir: Path, n: int, *, status: str, jobs: int = 0) -> float:
    """PostgreSQL takes several writers: one seeding process per CPU, each a slice of the indexes."""
    jobs = jobs or max(1, os.cpu_count() or 1)
    started = time.perf_counter()
    step = -(-n // jobs)
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.seed", url, str(min(n, lo + step)), "--start", str(lo), "--status", status, "--data-dir", str(data_dir),
        cwd=str(Path(__file__).resolve().parent.parent)) for lo in range(0, n, step)]
    codes = [await p.wait() for p in procs]
    if any(codes):
        raise RuntimeError(f"a seeding process failed: {codes}")
    return time.perf_counter() - started


async def seeded(n: int, *, status: str, cache: Path, pg_url: str | None) -> tuple[str, Path]:
    """A database with exactly `n` cases of `status` and the bench staff account, seeded if the
    cached one is missing or stale. Returns (URL, data dir)."""
    head = schema_head()
    cache.mkdir(parents=True, exist_ok=True)
    tag = f"{status}-{n}"
    data_dir = cache / f"data-{tag}"
    marker = cache / f"{'pg' if pg_url else 'sqlite'}-{tag}.json"
    if pg_url is None:
        path = cache / f"seed-{tag}.db"
        url = f"sqlite:///{path}"
    else:
        url = await asyncio.to_thread(pg_database, pg_url, f"{pg_url.rpartition('/')[2]}_seed_{status}_{n}")
    kept = json.loads(marker.read_text()) if marker.exists() else {}
    ok = kept.get("n") == n and await asyncio.to_thread(count, url, status) == n
    if ok and kept.get("head") != head:  # seeded under an older schema: upgrade it rather than seed again
        print(f"  upgrading the kept {tag} seed from {kept.get('head')} to {head}", file=sys.stderr, flush=True)
        await asyncio.to_thread(core.migrate, async_url(url))
        r = await asyncio.to_thread(intake_cli, ["review", "reindex"], intake_env(data_dir, url), timeout=3600)
        if r.returncode != 0:
            raise RuntimeError(f"intake review reindex failed: {r.stdout}{r.stderr}")
        await asyncio.to_thread(analyse, url)
        marker.write_text(json.dumps({"head": head, "n": n}))
    if not ok:
        if pg_url is None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            await asyncio.to_thread(reset_pg, url)
        marker.unlink(missing_ok=True)
        await asyncio.to_thread(core.migrate, async_url(url))
        print(f"  seeding {n} {status} cases into {url.split('@')[-1]} (kept for the next runs)", file=sys.stderr, flush=True)
        seconds = await (seed_parallel(url, data_dir, n, status=status) if pg_url else seed(url, data_dir, n, status=status))
        print(f"  seeded {n} in {seconds:.0f} s ({n / max(seconds, 1e-9):.0f} cases/s)", file=sys.stderr, flush=True)
        env = intake_env(data_dir, url)
        r = await asyncio.to_thread(intake_cli, ["staff", "add", STAFF_EMAIL, "--role", "reviewer", "--password-stdin"], env,
                                    input=STAFF_PASSWORD + "\n", timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"intake staff add failed: {r.stdout}{r.stderr}")
        await asyncio.to_thread(analyse, url)
        marker.write_text(json.dumps({"head": head, "n": n}))
    return url, data_dir


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("n", type=int)
    p.add_argument("--status", choices=["draft", "submitted"], default="submitted")
    p.add_argument("--data-dir", type=Path, default=Path("var"))
    p.add_argument("--start", type=int, default=0, help="first case index (several processes seed slices)")
    args = p.parse_args()
    seconds = asyncio.run(seed(args.url, args.data_dir, args.n, status=args.status, start=args.start))
    print(f"seeded cases {args.start}..{args.n - 1} ({args.status}) in {seconds:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
