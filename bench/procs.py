"""Processes under measurement: `intake run` and the floors as subprocesses, their CPU seconds and
RSS read with psutil, optionally recorded by py-spy (`--profile`); databases for a trial."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

BENCH_KEY = base64.b64encode(b"B" * 32).decode()  # fixed, so seeded databases can be cached between runs
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def intake_env(data_dir: Path, db_url: str, **extra: str) -> dict[str, str]:
    """The environment of an `intake run` (or CLI) on this database, nothing inherited from INTAKE_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(
        INTAKE_ENV="development", INTAKE_DATA_DIR=str(data_dir), INTAKE_DATABASE_URL=db_url, INTAKE_SECRET_KEYS=BENCH_KEY,
        INTAKE_HTTP_PORT=str(free_port()), INTAKE_SMTP_PORT=str(free_port()), PYTHONUNBUFFERED="1",
        INTAKE_FIRST_CONTACT_PER_HOUR="1000000", INTAKE_AUTOREPLY_PER_HOUR="1000000",
    )
    for name in ("WORKER_PROCESSES", "WORKER_NICE"):  # e.g. INTAKE_BENCH_WORKER_PROCESSES=0: one process, as before them
        if os.environ.get(f"INTAKE_BENCH_{name}"):
            env[f"INTAKE_{name}"] = os.environ[f"INTAKE_BENCH_{name}"]
    env.update(extra)
    return env


class Proc:
    """A subprocess with its output in a log file; `cpu()` and `rss()` of it (psutil); py-spy
    attached between `profile_start()` and `profile_stop()` when given a profile path."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path, *, profile: Path | None = None) -> None:
        self.log_path = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = log.open("w")
        self.profile = profile  # where py-spy's samples go, if anywhere
        self._spy: subprocess.Popen[bytes] | None = None
        self.popen = subprocess.Popen(argv, env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=str(ROOT))
        self.ps = psutil.Process(self.popen.pid)

    def profile_start(self) -> None:
        """Attach py-spy (when a profile path was given), so only the measured work is sampled."""
        if self.profile is None:
            return
        pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        self._spy = subprocess.Popen([pyspy, "record", "--pid", str(self.popen.pid), "--rate", "100", "--subprocesses", "--format", "raw",
                                      "-o", str(self.profile)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def profile_stop(self) -> None:
        """Detach py-spy: it writes the collapsed stacks, summarised in a .txt beside them."""
        if self._spy is None:
            return
        self._spy.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 30
        while self._spy.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self._spy.poll() is None:
            self._spy.kill()
        self._spy = None
        if self.profile is not None and self.profile.exists():
            summarise_profile(self.profile)

    def cpu(self, *, tree: bool = True) -> float:
        """CPU seconds of the process and (`tree`) its live children (`intake run`'s worker processes)."""
        t = self.ps.cpu_times()
        total = float(t.user + t.system)
        if tree:
            for child in self.ps.children(recursive=True):
                try:
                    c = child.cpu_times()
                    total += float(c.user + c.system)
                except psutil.NoSuchProcess:
                    pass
        return total

    def rss(self) -> int:
        return int(self.ps.memory_info().rss)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    async def stop(self, timeout: float = 30.0) -> int:
        """Ctrl-C, then wait; kill if it hangs."""
        await self.profile_stop()
        if self.popen.poll() is None:
            try:
                os.kill(self.popen.pid, signal.SIGINT)
            except (ProcessLookupError, psutil.NoSuchProcess):
                pass
            deadline = time.monotonic() + timeout
            while self.popen.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if self.popen.poll() is None:
                self.popen.kill()
        self.popen.wait(timeout=30)
        self._log.close()
        return int(self.popen.returncode)


OURS = ("intake/", "storage/", "bot/", "mail/", "review/", "casework/")


def summarise_profile(raw: Path, top: int = 40) -> Path:
    """A text summary beside py-spy's collapsed stacks (`--format raw`, which flamegraph.pl,
    inferno or speedscope.app turn into a flamegraph): the functions with the most samples,
    inclusive (a stack counted once per function in it) and self, ours first. CPU time only."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f for f in stack.split(";") if f]
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
        if frames:
            own[frames[-1]] = own.get(frames[-1], 0) + n
    total = max(total, 1)

    def ranked(d: dict[str, int], ours: bool) -> list[str]:
        rows = sorted(d.items(), key=lambda kv: kv[1], reverse=True)
        return [f"{100 * n / total:6.1f}%  {name}" for name, n in rows if not ours or any(o in name for o in OURS)][:top]

    lines = [f"py-spy profile {raw.name}: {total} samples (100 Hz, CPU only, every thread)", "",
             "our code, inclusive:", *ranked(inclusive, True), "", "our code, self:", *ranked(own, True), "",
             "every frame, inclusive:", *ranked(inclusive, False), "", "every frame, self:", *ranked(own, False)]
    out = raw.with_suffix(".txt")
    out.write_text("\n".join(lines) + "\n")
    return out


def intake_run(env: dict[str, str], log: Path, *, profile: Path | None = None) -> Proc:
    return Proc([sys.executable, "-m", "intake", "run"], env, log, profile=profile)


def intake_cli(args: list[str], env: dict[str, str], *, input: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "intake", *args], env=env, capture_output=True, text=True, input=input,
                          timeout=timeout, check=False, cwd=str(ROOT))


async def wait_port(port: int, proc: Proc, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        except OSError:
            pass
        if not proc.alive():
            raise RuntimeError(f"{what} exited ({proc.popen.returncode}):\n{proc.output()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen on {port} within {timeout}s:\n{proc.output()[-3000:]}")
        await asyncio.sleep(0.05)


# ---- databases ----------------------------------------------------------------------------------

def dsn(url: str) -> str:
    """A SQLAlchemy URL as psycopg takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def pg_database(base_url: str, name: str) -> str:
    """The URL of database `name` on the server of `base_url`, created if missing."""
    import psycopg

    head, _, _ = base_url.rpartition("/")
    with psycopg.connect(dsn(base_url), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{head}/{name}"


def reset_pg(url: str) -> None:
    import psycopg

    with psycopg.connect(dsn(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def fresh_db(ctx_pg: str | None, folder: Path, name: str) -> str:
    """An empty, migrated database for one trial: a new SQLite file, or database `<bench>_<name>`
    on PostgreSQL emptied first. Returns its SQLAlchemy URL (sync form, as INTAKE_DATABASE_URL takes it)."""
    from intake import app as core
    from intake.settings import async_url

    if ctx_pg is None:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        url = pg_database(ctx_pg, f"{ctx_pg.rpartition('/')[2]}_{name}")
        reset_pg(url)
    core.migrate(async_url(url))
    return url


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """One read on the database (inbox counts and the like), outside the product."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        with sqlite3.connect(path, timeout=30) as conn:
            return list(conn.execute(sql).fetchall())
    import psycopg

    with psycopg.connect(dsn(url)) as conn:
        return list(conn.execute(sql).fetchall())  # type: ignore[arg-type]


def ensure_pg(url: str) -> None:
    """Exit 0 when the PostgreSQL server of `url` answers (its database created if missing), 1 if not
    (`make bench` then runs on SQLite and skips the PostgreSQL-only table)."""
    try:
        server = url.rpartition("/")[0] + "/postgres"
        pg_database(server, url.rpartition("/")[2])
    except Exception as exc:
        print(f"PostgreSQL at {url.split('@')[-1]} not reachable ({type(exc).__name__}): benchmarking on SQLite", file=sys.stderr)
        sys.exit(1)
    print(f"benchmarking on PostgreSQL: {url.split('@')[-1]}", file=sys.stderr)
