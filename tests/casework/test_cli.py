"""`intake sanctions load|screen|decide|datasets` and `intake review links` as subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

from intake.app import App
from intake.settings import Settings
from tests.casework import fixtures
from tests.casework.conftest import add_case, perps_case
from tests.review.test_export import env_for, intake

P = [p["perp"] for p in fixtures.PERPETRATORS]


async def test_sanctions_and_links_commands(app: App, settings: Settings, tmp_path: Path) -> None:
    a = await add_case(app, perps_case(P[0], P[20]))
    b = await add_case(app, perps_case(P[2]))
    env = env_for(settings, tmp_path)
    cwd = Path(__file__).resolve().parents[2]

    done = intake(["sanctions", "load", str(fixtures.write_ftm(tmp_path / "sdn.ftm.json")), "--dataset", "fixture_sdn"], env, cwd)
    assert done.returncode == 0, done.stderr
    assert "dataset fixture_sdn: 12 entities loaded; 2 case(s) screened again" in done.stdout
    done = intake(["sanctions", "load", str(fixtures.write_csv(tmp_path / "targets.simple.csv")), "--no-rescreen"], env, cwd)
    assert done.returncode == 0 and "dataset targets: 3 entities loaded" in done.stdout, done.stderr
    listed = json.loads(intake(["sanctions", "datasets", "--json"], env, cwd).stdout)
    assert {d["name"]: d["entities"] for d in listed} == {"fixture_sdn": 12, "targets": 3}

    screen = intake(["sanctions", "screen", a, "--json"], env, cwd)
    assert screen.returncode == 0, screen.stderr
    report = json.loads(screen.stdout)
    assert set(report) == {"reference", "perpetrators"} and report["reference"] == a
    first = report["perpetrators"][0]
    assert set(first) == {"index", "name", "candidates"} and first["index"] == 1
    top = first["candidates"][0]
    assert set(top) == {"entity_id", "caption", "score", "match", "datasets", "explanation"}
    assert top["entity_id"] == "fx-petrov" and top["match"] is True and 0.0 <= top["score"] <= 1.0
    assert report["perpetrators"][1]["candidates"] == []

    decide = intake(["sanctions", "decide", a, "1", "fx-petrov", "confirmed"], env, cwd)
    assert decide.returncode == 0, decide.stderr
    bad = intake(["sanctions", "screen", "HT-NOPE-0000", "--json"], env, cwd)
    assert bad.returncode == 1 and "no case" in bad.stderr

    assert intake(["review", "links", b, "--json"], env, cwd).returncode == 0
    links = json.loads(intake(["review", "links", a, "--json"], env, cwd).stdout)
    assert links == {"reference": a, "links": [{"perpetrator": 1, "other_reference": b, "other_perpetrator": 1,
                                                 "score": links["links"][0]["score"], "match": True}]}
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(a)
        assert case is not None
        actions = [(e.action, e.actor_kind) for e in await uow.audit.for_case(case.id)]
    assert ("screening.confirmed", "cli") in actions and actions.count(("case.screened", "system")) == 1
