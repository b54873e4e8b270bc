"""Worker processes: `intake run` hands the inbox and delivery workers to child processes.

Processing an input (decrypt, parse, engine, case service) is CPU work in Python; accepting one
(SMTP 250 after the inbox commit, the getUpdates offset, the webhook's 200) must not wait behind
it for the one interpreter. With INTAKE_WORKER_PROCESSES=N (N ≥ 1; `auto`: one per core but one,
at least one, at most 8) `intake run` serves the edges — SMTP, console, Telegram poller or webhook,
audit sealer, retention — and starts N children (`intake run --worker K`) that run only the inbox
worker and (child 0 alone, so Telegram's per-bot rate limits hold in one process) the delivery
worker. With 0 everything runs in one process, as before.

- **Supervised.** A child that exits while `intake run` serves is started again (after 1 s, then
  up to 30 s while it keeps dying young). On SIGINT/SIGTERM the parent closes the children's
  stdin; each stops its workers cleanly (the current rows finish or are rolled back) and exits;
  one that does not within the stop timeout is killed.
- **SIGKILL-safe.** A child reads its stdin: end of file (the parent died, even by SIGKILL) stops
  it. A child killed mid-row leaves only uncommitted work: the inbox row's lease runs out and the
  restarted child (or another process) takes it again; `receive` is one transaction, so nothing is
  done twice.
- **Woken across processes.** The parent's `app.inbox.wake()` / `app.delivery.wake()` (an SMTP
  250, a stored Telegram update) write one byte to the children's stdin, coalesced per loop turn,
  so processing starts at once rather than at the next poll.
- **Optionally, the edges first.** Children run at nice INTAKE_WORKER_NICE (default 0). On a
  multi-core host with nothing else to do a niceness changes nothing; on a busy one +5 gives the
  accepting process the CPU first (measured on the loaded 2-core bench host: SMTP accept 0.31× →
  0.54× the durable floor) but puts processing behind every other busy process on the host too
  (the same runs: the inbox drained in 71 s → 197 s or more), so it is not the default.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence

from intake.worker import Loop

log = logging.getLogger(__name__)

INBOX = b"i"
DELIVERY = b"d"
MAX_AUTO = 8


def worker_count(setting: str, *, cpus: int | None = None) -> int:
    """How many worker processes INTAKE_WORKER_PROCESSES asks for: a number, or `auto` (one per
    core but the one the accepting process needs; at least 1, at most MAX_AUTO)."""
    if setting.strip().lower() == "auto":
        n = cpus if cpus is not None else (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
        return max(1, min(n - 1, MAX_AUTO))
    return int(setting)


async def _nothing() -> int:
    return 0


class Forwarded(Loop):
    """Stands in for a worker's loop in the accepting process: never started; a wake-up goes to
    the worker processes."""

    def __init__(self, name: str, send: Callable[[], None]) -> None:
        super().__init__(name, _nothing, interval=3600.0)
        self.send = send

    def wake(self) -> None:
        self.send()


class Child:
    """One supervised worker process."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.proc: asyncio.subprocess.Process | None = None
        self.started = 0.0
        self.restarts = 0


class WorkerPool:
    """The children of `intake run` (a runtime Component in the accepting process)."""

    name = "worker processes"

    def __init__(self, count: int, *, argv: Sequence[str] | None = None, stop_timeout: float = 15.0, restart_delay: float = 1.0) -> None:
        self.count = count
        self.argv = list(argv) if argv is not None else [sys.executable, "-m", "intake", "run"]
        self.stop_timeout = stop_timeout
        self.restart_delay = restart_delay
        self.children = [Child(k) for k in range(count)]
        self.stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._pending = bytearray()

    def pids(self) -> list[int]:
        return [c.proc.pid for c in self.children if c.proc is not None and c.proc.returncode is None]

    def forward(self, inbox_loop_owner: object, delivery_loop_owner: object) -> None:
        """Make `owner.wake()` of the core's inbox and delivery workers wake the children instead."""
        inbox_loop_owner.loop = Forwarded("inbox", lambda: self.wake(INBOX))  # type: ignore[attr-defined]
        delivery_loop_owner.loop = Forwarded("delivery", lambda: self.wake(DELIVERY))  # type: ignore[attr-defined]

    async def start(self) -> None:
        self.stopping = False
        for child in self.children:
            await self._spawn(child)
            self._tasks.append(asyncio.create_task(self._supervise(child), name=f"worker process {child.index}"))
        log.info("%d worker process%s: inbox%s", self.count, "" if self.count == 1 else "es", " and delivery (process 0)")

    async def _spawn(self, child: Child) -> None:
        child.proc = await asyncio.create_subprocess_exec(*self.argv, "--worker", str(child.index), stdin=asyncio.subprocess.PIPE)
        child.started = time.monotonic()
        log.info("worker process %d started (pid %d)", child.index, child.proc.pid)

    async def _supervise(self, child: Child) -> None:
        delay = self.restart_delay
        while True:
            assert child.proc is not None
            code = await child.proc.wait()
            if self.stopping:
                return
            young = time.monotonic() - child.started < 30
            delay = min(delay * 2, 30.0) if young else self.restart_delay
            child.restarts += 1
            log.warning("worker process %d exited (code %s); starting it again in %.0f s", child.index, code, delay)
            await asyncio.sleep(delay)
            if self.stopping:
                return
            try:
                await self._spawn(child)
            except OSError as exc:
                log.error("worker process %d could not start (%s)", child.index, type(exc).__name__)
                continue
            self.wake(INBOX + DELIVERY)

    def wake(self, what: bytes) -> None:
        """Tell every child there is work (coalesced: at most one write per loop turn)."""
        first = not self._pending
        for b in what:
            if b not in self._pending:
                self._pending.append(b)
        if first:
            with contextlib.suppress(RuntimeError):
                asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        data, self._pending = bytes(self._pending), bytearray()
        for child in self.children:
            proc = child.proc
            if proc is None or proc.returncode is not None or proc.stdin is None or proc.stdin.is_closing():
                continue
            with contextlib.suppress(OSError, RuntimeError):
                proc.stdin.write(data)

    async def stop(self) -> None:
        """Close every child's stdin (each stops cleanly), wait, kill the ones still running."""
        self.stopping = True
        for child in self.children:
            if child.proc is not None and child.proc.stdin is not None:
                child.proc.stdin.close()
        procs = [c.proc for c in self.children if c.proc is not None]
        waits = [asyncio.create_task(p.wait()) for p in procs]
        if waits:
            _, late = await asyncio.wait(waits, timeout=self.stop_timeout)
            for proc in procs:
                if proc.returncode is None:
                    log.warning("worker process pid %d did not stop in time; killed", proc.pid)
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
            if late:
                await asyncio.wait(late, timeout=5.0)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []


class ParentLink:
    """In a worker process: reads the parent's wake-ups from stdin and stops the process at end of
    file (the parent stopped it, or died). A runtime Component."""

    name = "parent link"

    def __init__(self, stop: asyncio.Event, *, inbox: Callable[[], None], delivery: Callable[[], None]) -> None:
        self.stop_event = stop
        self.inbox = inbox
        self.delivery = delivery
        self._task: asyncio.Task[None] | None = None
        self._transport: asyncio.ReadTransport | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        self._transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        self._task = asyncio.create_task(self._follow(reader), name="parent link")

    async def _follow(self, reader: asyncio.StreamReader) -> None:
        while chunk := await reader.read(256):
            if INBOX[0] in chunk:
                self.inbox()
            if DELIVERY[0] in chunk:
                self.delivery()
        log.info("worker process: the parent closed the link; stopping")
        self.stop_event.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._transport is not None:
            self._transport.close()


def die_with_parent() -> None:
    """Linux: SIGTERM this process when its parent dies (a second guard beside stdin's end of file)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
