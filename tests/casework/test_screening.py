"""Loading lists (FtM lines and targets.simple.csv, reload replaces) and screening cases on each
database: the report's shape, scores that follow identifiers, staff decisions remembered and audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from casework import lists
from casework.screening import Screener, ScreeningError, rescreen_all
from intake.app import App
from storage.casework import SanctionsRepository
from tests.casework import fixtures
from tests.casework.conftest import add_case, perps_case


async def test_load_counts_skips_unmatchable_and_reload_replaces(app: App, tmp_path: Path) -> None:
    path = fixtures.write_ftm(tmp_path / "e.json")
    seen: list[int] = []
    n = await lists.load(app.store, path, dataset="fixture_sdn", now=app.clock(), on_bytes=seen.append)
    assert n == 12  # the Sanction and Address records are not matchable
    assert seen[-1] == path.stat().st_size
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert await lists.load(app.store, path, dataset="fixture_sdn", now=app.clock()) == 1
    n_csv = await lists.load(app.store, fixtures.write_csv(tmp_path / "t.csv"), dataset="fixture_csv", now=app.clock())
    async with app.store.read() as uow:
        repo = SanctionsRepository(uow.session)
        assert {d["name"]: d["entities"] for d in await repo.datasets()} == {"fixture_sdn": 1, "fixture_csv": n_csv}
        assert n_csv == 3
        [vessel] = await repo.by_entity_ids(["cx-haifeng"])
        assert vessel.data["properties"]["imoNumber"] == ["IMO8814275"] and vessel.data["programs"] == ["US SDN"]


async def test_not_a_list(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("hello\n", encoding="utf-8")
    with pytest.raises(lists.ListFormatError):
        lists.sniff(path)


async def test_screen_report_shape_and_verdicts(loaded: App, screener: Screener) -> None:
    by_who = {}
    for p in fixtures.PERPETRATORS:
        by_who.setdefault(p["who"], p["perp"])
    ref = await add_case(loaded, perps_case(by_who["petrov"], by_who["oceanglory-other"], by_who["zhang"], by_who["smith"]))
    report = (await screener.screen(ref)).to_dict()
    assert report["reference"] == ref and [p["index"] for p in report["perpetrators"]] == [1, 2, 3, 4]
    petrov, glory, zhang, smith = report["perpetrators"]
    assert petrov["name"] == "Petrov Ivan"
    top = petrov["candidates"][0]
    assert set(top) == {"entity_id", "caption", "score", "match", "datasets", "explanation"}
    assert (top["entity_id"], top["match"], top["datasets"]) == ("fx-petrov", True, ["fixture_sdn"])
    assert "name_match" in top["explanation"]["agreed"]
    namesake = next(c for c in petrov["candidates"] if c["entity_id"] == "fx-petrov-ua")
    assert not namesake["match"] and {"dob_year_disjoint", "country_mismatch"} <= set(namesake["explanation"]["disagreed"])
    assert [(c["entity_id"], c["match"]) for c in glory["candidates"]] == [("fx-oceanglory", False)]
    assert "identifier_mismatch" in glory["candidates"][0]["explanation"]["disagreed"]
    assert zhang["candidates"][0]["entity_id"] == "fx-zhang" and zhang["candidates"][0]["match"]
    assert smith["candidates"] == []
    stored = (await screener.stored(ref)).to_dict()
    assert [[c["entity_id"] for c in p["candidates"]] for p in stored["perpetrators"]] == [[c["entity_id"] for c in p["candidates"]] for p in report["perpetrators"]]


async def test_decisions_are_remembered_and_audited(loaded: App, screener: Screener) -> None:
    ref = await add_case(loaded, perps_case(fixtures.PERPETRATORS[0]["perp"]))
    await screener.screen(ref)
    await screener.decide(ref, 1, "fx-petrov", "confirmed", actor_id="staff-1")
    await screener.decide(ref, 1, "fx-petrov-ua", "dismissed", actor_id="staff-1")
    report = (await screener.screen(ref)).to_dict()
    decisions = {c["entity_id"]: c["explanation"]["decision"] for c in report["perpetrators"][0]["candidates"]}
    assert decisions == {"fx-petrov": "confirmed", "fx-petrov-ua": "dismissed"}
    with pytest.raises(ScreeningError):
        await screener.decide(ref, 7, "fx-petrov", "confirmed", actor_id="staff-1")
    with pytest.raises(ScreeningError):
        await screener.decide(ref, 1, "fx-petrov", "maybe", actor_id="staff-1")
    async with loaded.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        events = [(e.action, e.detail) for e in await uow.audit.for_case(case.id)]
    assert ("screening.confirmed", {"perpetrator": 1, "entity_id": "fx-petrov"}) in events
    assert [a for a, _ in events].count("case.screened") == 2
    assert all("Petrov" not in str(d) for _, d in events)  # ids and outcomes only


async def test_rescreen_all_covers_cases_under_review(loaded: App) -> None:
    await add_case(loaded, perps_case(fixtures.PERPETRATORS[0]["perp"]))
    await add_case(loaded, perps_case(fixtures.PERPETRATORS[4]["perp"]), status="draft")
    assert await rescreen_all(loaded) == 1


async def test_case_changed_hook(loaded: App) -> None:
    from casework.hooks import case_changed
    from casework.links import Linker

    a = await add_case(loaded, perps_case(fixtures.PERPETRATORS[0]["perp"]))
    b = await add_case(loaded, perps_case(fixtures.PERPETRATORS[1]["perp"]))
    assert await case_changed(loaded, a) and await case_changed(loaded, b)
    assert not await case_changed(loaded, "HT-NONE-0000")
    stored = (await Screener(loaded).stored(b)).to_dict()
    assert stored["perpetrators"][0]["candidates"][0]["entity_id"] in ("fx-petrov", "fx-petrov-ua")
    assert [(x.other_reference, x.match) for x in (await Linker(loaded).links(b)).links] == [(a, True)]


async def test_load_memory_does_not_grow_with_the_file(app: App, tmp_path: Path) -> None:
    import json
    import tracemalloc

    def write(path: Path, n: int) -> Path:
        with path.open("w", encoding="utf-8") as fh:
            for i in range(n):
                fh.write(json.dumps({"id": f"bulk-{i}", "schema": "Person", "datasets": ["bulk"], "properties": {
                    "name": [f"Person{i} Family{i % 997}"], "birthDate": [f"19{50 + i % 50}-01-01"], "nationality": ["ru"]}}) + "\n")
        return path

    peaks = []
    for n in (400, 4000):
        path = write(tmp_path / f"bulk{n}.json", n)
        tracemalloc.start()
        assert await lists.load(app.store, path, dataset="bulk", now=app.clock()) == n
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # ten times the entities, about the same peak: memory follows the batch, not the file
    assert peaks[1] < peaks[0] * 2, peaks
