"""The measuring instrument shared by every table: interleaved repetitions, median/min/max, the
ratio to a floor measured in the same run, goals, the printed table and the JSON record."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

Trial = Callable[[], Awaitable[dict[str, float]]]


@dataclass
class Row:
    """One measured figure: its samples (one per repetition) and, when it has one, its floor's."""

    label: str
    unit: str
    samples: list[float]
    floor_label: str | None = None
    floor_samples: list[float] | None = None
    note: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def floor_median(self) -> float | None:
        return statistics.median(self.floor_samples) if self.floor_samples else None

    @property
    def ratio(self) -> float | None:
        m, f = self.median, self.floor_median
        if m is None or f is None or f == 0:
            return None
        return m / f

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(median=self.median, min=min(self.samples) if self.samples else None, max=max(self.samples) if self.samples else None,
                 floor_median=self.floor_median, ratio=self.ratio)
        return d


@dataclass
class Goal:
    """A goal of the issue: `ratio` compared with `limit` (`<=` or `>=`); None = not measured."""

    text: str
    ratio: float | None
    limit: float
    op: str = "<="
    note: str = ""

    @property
    def met(self) -> bool:
        if self.ratio is None:
            return False
        return self.ratio <= self.limit if self.op == "<=" else self.ratio >= self.limit

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met}


@dataclass
class Table:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    load: dict[str, list[float]] = field(default_factory=dict)

    def row(self, label: str, unit: str, samples: list[float], floor: tuple[str, list[float]] | None = None, note: str = "") -> Row:
        r = Row(label, unit, list(samples), floor[0] if floor else None, list(floor[1]) if floor else None, note)
        self.rows.append(r)
        return r

    def goal(self, text: str, ratio: float | None, limit: float, op: str = "<=", note: str = "") -> Goal:
        g = Goal(text, ratio, limit, op, note)
        self.goals.append(g)
        return g

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "skipped": self.skipped, "params": self.params, "seconds": self.seconds,
                "load": self.load, "notes": self.notes, "rows": [r.to_dict() for r in self.rows], "goals": [g.to_dict() for g in self.goals]}


@dataclass
class Context:
    """What every table gets: the parsed arguments, where to put scratch files and profiles."""

    args: argparse.Namespace
    work: Path
    profile_dir: Path | None
    pg_url: str | None  # INTAKE_BENCH_DATABASE_URL (postgresql+psycopg://…) or None

    @property
    def reps(self) -> int:
        return int(self.args.reps)

    @property
    def quick(self) -> bool:
        return bool(self.args.quick)


async def interleave(trials: dict[str, Trial], reps: int) -> dict[str, dict[str, list[float]]]:
    """Run each trial once per repetition, rotating the order every repetition (so drift in the
    machine's load falls on every variant alike); returns variant → metric → samples."""
    out: dict[str, dict[str, list[float]]] = {name: {} for name in trials}
    names = list(trials)
    for rep in range(reps):
        order = names[rep % len(names):] + names[: rep % len(names)]
        for name in order:
            print(f"  · {name} (repetition {rep + 1}/{reps})", end="", file=sys.stderr, flush=True)
            started = time.perf_counter()
            result = await trials[name]()
            print(f" {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
            for metric, value in result.items():
                out[name].setdefault(metric, []).append(value)
    return out


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    a = abs(value)
    text = f"{value:.0f}" if a >= 1000 else f"{value:.1f}" if a >= 10 else f"{value:.2f}" if a >= 0.1 else f"{value:.4f}"
    return text


def ratio_text(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.3f}"


def print_table(table: Table, out: Any = None) -> None:
    out = out or sys.stdout
    print(f"\n## {table.title}", file=out)
    if table.params:
        print("   " + ", ".join(f"{k}={v}" for k, v in table.params.items()), file=out)
    if table.skipped:
        print(f"   skipped: {table.skipped}", file=out)
        return
    head = f"{'row':<44} {'median':>10} {'min':>10} {'max':>10} {'unit':<10} {'floor':>10}  {'ratio':>7}  floor is"
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in table.rows:
        lo = min(r.samples) if r.samples else None
        hi = max(r.samples) if r.samples else None
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "—"
        print(f"{r.label[:44]:<44} {fmt(r.median):>10} {fmt(lo):>10} {fmt(hi):>10} {r.unit:<10} {fmt(r.floor_median):>10}  {ratio:>7}  "
              f"{r.floor_label or ''}{'  (' + r.note + ')' if r.note else ''}", file=out)
    for g in table.goals:
        print(f"   goal: {g.text}: {'MET' if g.met else 'NOT MET'} ({ratio_text(g.ratio)} {g.op} {g.limit}){'  ' + g.note if g.note else ''}", file=out)
    for n in table.notes:
        print(f"   note: {n}", file=out)
    print(f"   ({table.seconds:.0f} s; load average {table.load.get('before', [])} → {table.load.get('after', [])})", file=out)


def print_summary(tables: list[Table], out: Any = None) -> None:
    out = out or sys.stdout
    print("\n## Goals", file=out)
    for t in tables:
        if t.skipped:
            print(f"   [skip] {t.title}: {t.skipped}", file=out)
        for g in t.goals:
            mark = "[met]   " if g.met else "[NOT met]"
            print(f"   {mark} {g.text}: ratio {ratio_text(g.ratio)} (goal {g.op} {g.limit}){'  ' + g.note if g.note else ''}", file=out)


def machine() -> dict[str, Any]:
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "python": sys.version.split()[0], "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(), "loadavg": list(os.getloadavg()),
    }


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]
