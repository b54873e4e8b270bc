"""Table 4 — staff pages at a small and a large number of submitted cases (default 1,000 and
100,000, seeded by bench/seed.py through the core's repositories, so encryption is real).

Both consoles (`intake run` on each database) run side by side; each repetition visits, on each in
turn, /healthz (the floor), the queue, a filtered queue (status + abuse form), a search (one
keyword of the seeded answers) and a case page, `--requests` times each, logged in through the
console's real login form. Rows: the median request per repetition; the ratio to /healthz on the
same server, and the growth (large / small). Also: console start-up (process start → /healthz
200 → first queue page), the first search (cold), and `intake review list --json --no-answers`
vs. `intake staff list --json` (subprocess wall time) at both sizes."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from pathlib import Path

import httpx

from bench.core import Context, Table, Trial, interleave
from bench.procs import Proc, intake_cli, intake_env, intake_run
from bench.seed import STAFF_EMAIL, STAFF_PASSWORD, abuse_forms, seeded

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
REF = re.compile(r"/cases/(HT-[0-9A-Z]{4}-[0-9A-Z]{4})")
SEARCH_WORD = "kw7"  # in 1 of every 997 seeded cases: 1 result at 1,000 cases, a full page (50 of ~100) at 100,000
COMMON_WORD = "organisation"  # in every seeded case: a full page at both sizes


def pages_of() -> dict[str, str]:
    return {"/healthz": "/healthz", "queue": "/", "filtered queue": f"/?status=submitted&form={abuse_forms()[0]}",
            "search": f"/?q={SEARCH_WORD}", "search (common word)": f"/?q={COMMON_WORD}"}


class Console:
    """`intake run` on a database, reached over HTTP as a logged-in reviewer."""

    def __init__(self, url: str, data_dir: Path, folder: Path, timeout: float) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.env = intake_env(data_dir, url)
        self.folder = folder
        self.timeout = timeout
        self.proc: Proc | None = None
        self.client: httpx.AsyncClient | None = None
        self.reference = ""
        self.timeouts = 0

    async def start(self) -> dict[str, float]:
        """Start, log in, open the queue; returns start-up timings (s)."""
        t0 = time.perf_counter()
        self.proc = intake_run(self.env, self.folder / "run.log")
        port = self.env["INTAKE_HTTP_PORT"]
        self.client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=self.timeout)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                if (await self.client.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if not self.proc.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the console did not come up:\n{self.proc.output()[-3000:]}")
            await asyncio.sleep(0.05)
        healthy = time.perf_counter() - t0
        page = await self.client.get("/login")
        token = CSRF.search(page.text)
        if token is None:
            raise RuntimeError(f"no login form: {page.status_code}")
        r = await self.client.post("/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "csrf": token.group(1)})
        if r.status_code != 303 or r.headers.get("location") != "/":
            raise RuntimeError(f"login failed: {r.status_code} {r.headers.get('location')} {r.text[:300]}")
        queue = await self.client.get("/")
        if queue.status_code != 200:
            raise RuntimeError(f"queue page: {queue.status_code}")
        found = REF.search(queue.text)
        self.reference = found.group(1) if found else ""
        return {"healthy_s": healthy, "first_queue_s": time.perf_counter() - t0}

    async def timed(self, path: str, n: int) -> float:
        """Median seconds of `n` GETs of `path` (each must answer 200)."""
        assert self.client is not None
        samples = []
        for _ in range(n):
            t = time.perf_counter()
            try:
                r = await self.client.get(path)
            except httpx.TimeoutException:
                self.timeouts += 1
                return float("inf")  # recorded as such: a goal not met, not a crash
            samples.append(time.perf_counter() - t)
            if r.status_code != 200:
                raise RuntimeError(f"GET {path}: {r.status_code}")
        return statistics.median(samples)

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        if self.proc is not None:
            await self.proc.stop()


async def cli_seconds(args: list[str], env: dict[str, str], timeout: float) -> float:
    t = time.perf_counter()
    try:
        r = await asyncio.to_thread(intake_cli, args, env, timeout=timeout)
    except Exception:
        return float("inf")
    if r.returncode != 0:
        raise RuntimeError(f"intake {' '.join(args)}: {r.returncode} {r.stderr[-1000:]}")
    return time.perf_counter() - t


async def run(ctx: Context) -> Table:
    a = ctx.args
    small, large = (50, 200) if ctx.quick else (a.small, a.cases)
    n = 2 if ctx.quick else a.requests
    table = Table("pages", f"Staff pages: {small:,} vs. {large:,} submitted cases (floor /healthz; growth = large / small)",
                  params={"small": small, "large": large, "requests_per_page": n, "search": SEARCH_WORD, "common_word": COMMON_WORD,
                          "database": "postgresql" if ctx.pg_url else "sqlite"})
    dbs = {size: await seeded(size, status="submitted", cache=a.cache, pg_url=ctx.pg_url) for size in (small, large)}
    consoles = {size: Console(url, data_dir, ctx.work / f"pages-{size}", a.cli_timeout) for size, (url, data_dir) in dbs.items()}
    startup: dict[int, dict[str, float]] = {}
    cold: dict[int, float] = {}
    try:
        for size, console in consoles.items():
            startup[size] = await console.start()
            cold[size] = await console.timed(pages_of()["search"], 1)
        paths = pages_of()

        def visit(size: int) -> Trial:
            async def trial() -> dict[str, float]:
                console = consoles[size]
                out = {name: await console.timed(path, n) * 1000 for name, path in paths.items()}
                out["case page"] = await console.timed(f"/cases/{console.reference}", n) * 1000
                return out
            return trial

        res = await interleave({f"{size:,} cases": visit(size) for size in (small, large)}, ctx.reps)
        s, g = res[f"{small:,} cases"], res[f"{large:,} cases"]
        for page in ["queue", "filtered queue", "search", "search (common word)", "case page"]:
            table.row(f"{page}, {small:,} cases", "ms", s[page], ("/healthz", s["/healthz"]))
            table.row(f"{page}, {large:,} cases", "ms", g[page], ("/healthz", g["/healthz"]))
            growth = table.row(f"{page}: growth {large:,} / {small:,}", "ms", g[page], (f"same at {small:,}", s[page]))
            table.goal(f"{page} at {large:,} cases within 1.5× of {small:,}", growth.ratio, 1.5)
        table.row(f"/healthz, {large:,} cases", "ms", g["/healthz"], (f"same at {small:,}", s["/healthz"]))
        table.row(f"first search (cold), {large:,} cases", "s", [cold[large]], (f"same at {small:,}", [cold[small]]))
        up = table.row(f"console start-up to first queue page, {large:,}", "s", [startup[large]["first_queue_s"]],
                       (f"same at {small:,}", [startup[small]["first_queue_s"]]))
        table.goal(f"console start-up at {large:,} cases within 1.5× of {small:,}", up.ratio, 1.5, note="one start each")
        if any(c.timeouts for c in consoles.values()):
            table.notes.append(f"some pages did not answer within --cli-timeout {a.cli_timeout:.0f} s (shown as inf)")
    finally:
        for console in consoles.values():
            await console.stop()

    envs = {size: intake_env(data_dir, url) for size, (url, data_dir) in dbs.items()}

    def cli(size: int, args: list[str]) -> Trial:
        async def trial() -> dict[str, float]:
            return {"s": await cli_seconds(args, envs[size], a.cli_timeout)}
        return trial

    review = ["review", "list", "--json", "--no-answers"]
    staff = ["staff", "list", "--json"]
    res = await interleave({"staff small": cli(small, staff), "review small": cli(small, review),
                            "staff large": cli(large, staff), "review large": cli(large, review)}, ctx.reps)
    table.row(f"intake review list --json --no-answers, {small:,}", "s", res["review small"]["s"], ("intake staff list --json", res["staff small"]["s"]))
    table.row(f"intake review list --json --no-answers, {large:,}", "s", res["review large"]["s"], ("intake staff list --json", res["staff large"]["s"]))
    growth = table.row(f"intake review list: growth {large:,} / {small:,}", "s", res["review large"]["s"], (f"same at {small:,}", res["review small"]["s"]))
    table.goal(f"`intake review list` at {large:,} cases within 1.5× of {small:,} (no search asked)", growth.ratio, 1.5)
    if any(v == float("inf") for v in res["review large"]["s"]):
        table.notes.append(f"`intake review list` at {large:,} did not finish within --cli-timeout {a.cli_timeout:.0f} s (shown as inf)")
    return table
