"""Shared by the end-to-end tests: `intake run` as a subprocess, bounded waiting, the CLI."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

WAIT_S = 30.0
T = TypeVar("T")


class IntakeRun:
    """`python -m intake run` as a subprocess, its output in a log file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "intake", "run"], env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    async def interrupt(self, timeout: float = WAIT_S) -> int:
        """Ctrl-C, then wait for the exit without blocking the loop (the relay lives in it)."""
        self.proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            assert time.monotonic() < deadline, f"intake run did not stop within {timeout}s of SIGINT:\n{self.output()[-3000:]}"
            await asyncio.sleep(0.05)
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self._log.close()


async def wait_for(check: Callable[[], T | None], what: str, run: IntakeRun, timeout: float = WAIT_S) -> T:
    """Poll `check` until it returns something (bounded), failing early if `intake run` died."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        if run.proc.poll() is not None:
            pytest.fail(f"intake run exited ({run.proc.returncode}) while waiting for {what}:\n{run.output()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}:\n{run.output()[-3000:]}")
        await asyncio.sleep(0.02)


def intake_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "intake", *args], env=env, capture_output=True, text=True, timeout=60, check=False)


async def terminate(run: IntakeRun, timeout: float = WAIT_S) -> tuple[int, float]:
    """SIGTERM (what a container runtime sends), then wait for the exit; returns (exit code, seconds)."""
    started = time.monotonic()
    run.proc.send_signal(signal.SIGTERM)
    while run.proc.poll() is None:
        assert time.monotonic() - started < timeout, f"intake run did not stop within {timeout}s of SIGTERM:\n{run.output()[-3000:]}"
        await asyncio.sleep(0.02)
    return run.proc.returncode, time.monotonic() - started

