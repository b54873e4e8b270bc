"""Precision and recall of casework matching on the fixture (`python -m bench.casework`).

Screening: every fixture perpetrator is a case screened against the fixture list (FtM lines and
targets.simple.csv, loaded through `intake sanctions load`'s code); a `match: true` candidate is
right when it is the list entity the perpetrator really is. Linking: the same cases linked to each
other; a `match: true` link is right when both perpetrators are the same identity. Runs on a
fresh SQLite database in a temporary folder; prints the counts and the figures."""

from __future__ import annotations

import asyncio
import base64
import itertools
import sys
import tempfile
import time
from pathlib import Path

from casework import lists
from casework.links import Linker
from casework.screening import Screener
from casework.settings import CaseworkSettings
from intake import app as core
from intake.settings import Settings
from tests.casework import fixtures


def ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def settings_for(folder: Path) -> Settings:
    return Settings(env="test", data_dir=folder, secret_keys=base64.b64encode(b"b" * 32).decode(), _env_file=None)  # type: ignore[call-arg]


async def measure(folder: Path) -> dict[str, float]:
    app = core.build(settings_for(folder))
    await app.store.prepare(now=app.clock())
    cw = CaseworkSettings(_env_file=None)  # type: ignore[call-arg]
    try:
        await lists.load(app.store, fixtures.write_ftm(folder / "entities.ftm.json"), dataset="fixture_sdn", now=app.clock())
        await lists.load(app.store, fixtures.write_csv(folder / "targets.simple.csv"), dataset="fixture_csv", now=app.clock())
        refs: list[tuple[str, str]] = []
        for n, p in enumerate(fixtures.PERPETRATORS):
            ref = f"BENCH-{n:03d}"
            async with app.store.write() as uow:
                sub = await uow.submitters.get_or_create(channel="terminal", identity=ref, lang="en", now=app.clock())
                await uow.cases.create(submitter_id=sub.id, channel="terminal", reference=ref, questionnaire_id="default", questionnaire_version=1,
                                       lang="en", draft={"answers": {"perpetrators": [p["perp"]]}}, status="submitted", now=app.clock())
            refs.append((ref, p["who"]))
        screener, linker = Screener(app, cw), Linker(app, cw)
        await screener.screen(refs[0][0])  # warm up: the name matcher loads its reference data once per process
        tp = fp = fn = 0
        started = time.perf_counter()
        for ref, who in refs:
            report = (await screener.screen(ref)).to_dict()
            matched = {c["entity_id"] for c in report["perpetrators"][0]["candidates"] if c["match"]}
            truth = fixtures.LISTED.get(who)
            tp += int(truth in matched)
            fp += len(matched - {truth})
            fn += int(truth is not None and truth not in matched)
        screen_ms = (time.perf_counter() - started) * 1000 / len(refs)
        found: set[frozenset[str]] = set()
        for ref, _ in refs:
            for link in (await linker.link_case(ref)).to_dict()["links"]:
                if link["match"]:
                    found.add(frozenset((ref, link["other_reference"])))
        truth_pairs = {frozenset((a, b)) for (a, wa), (b, wb) in itertools.combinations(refs, 2) if wa == wb}
        ltp = len(found & truth_pairs)
        lfp, lfn = len(found - truth_pairs), len(truth_pairs - found)
    finally:
        await app.store.close()
    return {"screen_tp": tp, "screen_fp": fp, "screen_fn": fn, "screen_precision": ratio(tp, tp + fp), "screen_recall": ratio(tp, tp + fn),
            "link_tp": ltp, "link_fp": lfp, "link_fn": lfn, "link_precision": ratio(ltp, ltp + lfp), "link_recall": ratio(ltp, ltp + lfn),
            "screen_ms_per_case": screen_ms, "perpetrators": len(refs)}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        core.migrate(settings_for(Path(tmp)).sqlalchemy_url)
        r = asyncio.run(measure(Path(tmp)))
    print(f"casework matching on the fixture ({int(r['perpetrators'])} perpetrators, {len(fixtures.FTM_ENTITIES) + len(fixtures.CSV_ROWS)} list records)")
    print(f"  screening: precision {r['screen_precision']:.3f}  recall {r['screen_recall']:.3f}  "
          f"(tp {int(r['screen_tp'])}, fp {int(r['screen_fp'])}, fn {int(r['screen_fn'])}); {r['screen_ms_per_case']:.1f} ms per case")
    print(f"  linking:   precision {r['link_precision']:.3f}  recall {r['link_recall']:.3f}  "
          f"(tp {int(r['link_tp'])}, fp {int(r['link_fp'])}, fn {int(r['link_fn'])})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
