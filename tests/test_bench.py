"""The benchmark harness does not rot: `python -m bench --list`, and the SMTP table at tiny sizes
(`--quick`: real `intake run`, real aiosmtpd floors, smtplib clients) prints its rows and goals
and writes them as JSON, on SQLite and on PostgreSQL when configured. Figures are not checked:
this is the instrument, not the measurement."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, PG_URL

ROOT = Path(__file__).resolve().parent.parent


def bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)


def test_bench_lists_every_table() -> None:
    out = bench("--list")
    assert out.returncode == 0, out.stderr
    names = [line.split()[0] for line in out.stdout.splitlines()]
    assert names == ["telegram", "smtp", "email", "pages", "memory", "scaleout", "micro"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_bench_smtp_table_quick_writes_json(tmp_path: Path, backend: str) -> None:
    db = ["--database-url", PG_URL] if backend == "postgresql" and PG_URL else ["--database-url", ""]
    out = bench("smtp", "--quick", "--json", str(tmp_path / "bench.json"), "--work", str(tmp_path / "work"), *db)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "accepted msg/s vs. durable floor" in out.stdout and "## Goals" in out.stdout
    record = json.loads((tmp_path / "bench.json").read_text())
    [table] = record["tables"]
    assert table["name"] == "smtp" and table["skipped"] is None
    assert {"cpus", "loadavg", "date"} <= set(record["machine"]) and table["load"]["before"]
    rows = {r["label"]: r for r in table["rows"]}
    durable = rows["accepted msg/s vs. durable floor"]
    assert durable["median"] > 0 and durable["floor_median"] > 0 and durable["ratio"] == pytest.approx(durable["median"] / durable["floor_median"])
    assert [g["text"] for g in table["goals"]][0].startswith("SMTP accept")


def test_bench_postgresql_only_table_skips_cleanly_without_postgresql() -> None:
    out = bench("scaleout", "--quick", "--database-url", "")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "skipped: needs PostgreSQL" in out.stdout
