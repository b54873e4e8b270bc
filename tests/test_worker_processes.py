"""INTAKE_WORKER_PROCESSES (intake.workers): `intake run` keeps the edges and runs the inbox and
delivery workers in supervised child processes.

Through the real processes: mails sent with smtplib from three threads (each retried until it gets
a 250, as a sending MTA does); the worker process is killed with SIGKILL mid-way; the parent starts
it again and every acknowledged mail is processed exactly once and answered exactly once. Then the
parent is killed with SIGKILL and its worker process must exit by itself (nothing left running).
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest
from pydantic import ValidationError

from intake.settings import Settings
from intake.workers import worker_count
from tests.e2e_support import IntakeRun, terminate, wait_for
from tests.mail.conftest import CaptureRelay, start_relay
from tests.test_cli import env_for
from tests.test_crash_email import Mail, build_mail, deliver, processed_counts

MAILS = 60
THREADS = 3
KILL_AFTER = 20


def test_worker_count_auto_leaves_a_core_to_the_edges() -> None:
    assert worker_count("auto", cpus=1) == 1
    assert worker_count("auto", cpus=2) == 1
    assert worker_count("AUTO", cpus=4) == 3
    assert worker_count("auto", cpus=64) == 8
    assert worker_count("0") == 0
    assert worker_count(" 3 ") == 3
    assert Settings(worker_processes="2", _env_file=None).worker_processes == "2"  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(worker_processes="many", _env_file=None)  # type: ignore[call-arg]
    assert Settings(_env_file=None).worker_nice == 0  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(worker_nice=20, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def relay() -> AsyncIterator[tuple[CaptureRelay, int]]:
    catcher, server, port = await start_relay()
    try:
        yield catcher, port
    finally:
        server.close()
        await server.wait_closed()


def children(pid: int) -> list[psutil.Process]:
    try:
        return [p for p in psutil.Process(pid).children() if "--worker" in " ".join(p.cmdline())]
    except psutil.NoSuchProcess:
        return []


async def test_a_killed_worker_process_is_restarted_and_nothing_is_lost_or_done_twice(
    tmp_path: Path, db_url: str, relay: tuple[CaptureRelay, int]
) -> None:
    catcher, relay_port = relay
    env = env_for(tmp_path, db_url)
    env.update(INTAKE_RELAY_URL=f"smtp://127.0.0.1:{relay_port}", INTAKE_FIRST_CONTACT_PER_HOUR="10000",
               INTAKE_AUTOREPLY_PER_HOUR="100", INTAKE_WORKER_PROCESSES="1")
    port = int(env["INTAKE_SMTP_PORT"])
    mails = [build_mail(n, 0, None) for n in range(MAILS)]
    acked = [0]
    lock = threading.Lock()
    run = IntakeRun(env, tmp_path / "run.log")
    try:
        await wait_for(lambda: "started smtp" in run.output() or None, "the SMTP server", run, timeout=120)
        first = await wait_for(lambda: children(run.proc.pid) or None, "a worker process", run)
        assert len(first) == 1
        deadline = time.monotonic() + 90

        def send(part: list[Mail]) -> None:
            for mail in part:
                deliver(port, mail, acked, lock, deadline)
                time.sleep(0.02)

        sending = asyncio.gather(*(asyncio.to_thread(send, mails[i::THREADS]) for i in range(THREADS)))
        await wait_for(lambda: acked[0] >= KILL_AFTER or None, f"{KILL_AFTER} acknowledged mails", run)
        first[0].send_signal(signal.SIGKILL)
        await sending
        assert acked[0] == MAILS  # the edge kept accepting while its worker process was dead

        def restarted() -> list[psutil.Process] | None:
            now = [p for p in children(run.proc.pid) if p.pid != first[0].pid]
            return now or None

        await wait_for(restarted, "the worker process started again", run)
        acknowledged = {m.message_id for m in mails if m.acked}

        def all_answered() -> bool | None:
            return True if acknowledged <= {str(m["In-Reply-To"]) for m in catcher.messages} else None

        await wait_for(all_answered, "a reply to every acknowledged mail", run, timeout=90)
        await asyncio.sleep(1.0)  # anything sent twice would arrive now
        assert "worker process 0 exited" in run.output()
        worker = children(run.proc.pid)[0]
        code, took = await terminate(run)
        assert code == 0 and took < 20, run.output()[-3000:]
        assert not worker.is_running() or worker.status() == psutil.STATUS_ZOMBIE
    finally:
        run.kill()

    processed, inbox = await processed_counts(tmp_path, db_url, acknowledged)
    assert inbox == Counter({"done": MAILS})
    assert all(processed[mid] == 1 for mid in acknowledged)  # each processed once
    replies: dict[str, set[str]] = {}
    for m in catcher.messages:
        replies.setdefault(str(m["In-Reply-To"]), set()).add(str(m["Message-ID"]))
    assert set(replies) == acknowledged and all(len(ours) == 1 for ours in replies.values())  # one reply each


async def test_the_worker_process_exits_when_intake_run_is_killed(tmp_path: Path, db_url: str) -> None:
    env = env_for(tmp_path, db_url)
    env.update(INTAKE_WORKER_PROCESSES="1")
    run = IntakeRun(env, tmp_path / "run.log")
    try:
        await wait_for(lambda: "started smtp" in run.output() or None, "the SMTP server", run, timeout=120)
        worker = (await wait_for(lambda: children(run.proc.pid) or None, "a worker process", run))[0]
        await asyncio.sleep(2.0)  # the worker process is up and serving
        run.proc.send_signal(signal.SIGKILL)
        run.proc.wait(timeout=10)
        deadline = time.monotonic() + 20
        while worker.is_running() and worker.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert not worker.is_running() or worker.status() == psutil.STATUS_ZOMBIE, run.output()[-3000:]
    finally:
        run.kill()
        for p in children(run.proc.pid):
            p.kill()
