"""The same perpetrator across cases, on each database: links found through the blind index,
the report's shape, confirmations audited and gathered into a perpetrator view."""

from __future__ import annotations

import pytest

from casework.links import Linker
from casework.screening import ScreeningError
from intake.app import App
from tests.casework import fixtures
from tests.casework.conftest import add_case, perps_case

P = [p["perp"] for p in fixtures.PERPETRATORS]


async def test_links_between_cases(app: App, linker: Linker) -> None:
    a = await add_case(app, perps_case(P[0], P[13]))  # Petrov Ivan (1970, RU); vessel Sea Star IMO 9074729
    b = await add_case(app, perps_case(P[20], P[1]))  # Peter Smith; Иван Петров with passport
    c = await add_case(app, perps_case(P[3]))  # Ivan Petrov born 1992 in Belarus: a namesake
    d = await add_case(app, perps_case({"perp_kind": "vessel", "perp_name": "Morning Sun", "vessel_imo": "IMO9074729"}))
    await add_case(app, perps_case(P[0]), status="draft")  # drafts are never linked
    for ref in (a, b, c):
        await linker.link_case(ref)
    report = (await linker.link_case(d)).to_dict()
    assert report == {"reference": d, "links": [{"perpetrator": 1, "other_reference": a, "other_perpetrator": 2, "score": report["links"][0]["score"], "match": True}]}
    links = (await linker.links(a)).to_dict()["links"]
    by_other = {(x["other_reference"], x["perpetrator"], x["other_perpetrator"]): x for x in links}
    assert by_other[(b, 1, 2)]["match"] is True
    assert by_other[(d, 2, 1)]["match"] is True
    assert by_other[(c, 1, 1)]["match"] is False
    assert set(links[0]) == {"perpetrator", "other_reference", "other_perpetrator", "score", "match"}


async def test_confirmed_links_build_the_perpetrator_view(app: App, linker: Linker) -> None:
    a = await add_case(app, perps_case(P[0]))
    b = await add_case(app, perps_case(P[1]))
    c = await add_case(app, perps_case(P[2]))
    for ref in (a, b, c):
        await linker.link_case(ref)
    await linker.decide(a, 1, b, 1, "confirmed", actor_id="staff-1")
    await linker.decide(c, 1, b, 1, "confirmed", actor_id="staff-1")
    view = await linker.perpetrator_view(a, 1)
    assert {(v["reference"], v["perpetrator"]) for v in view} == {(a, 1), (b, 1), (c, 1)}
    assert view[0]["name"] == "Petrov Ivan"
    await linker.decide(c, 1, b, 1, "dismissed", actor_id="staff-1")
    assert {v["reference"] for v in await linker.perpetrator_view(a, 1)} == {a, b}
    with pytest.raises(ScreeningError):
        await linker.decide(a, 1, c, 9, "confirmed", actor_id="staff-1")
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(b)
        assert case is not None
        actions = [e.action for e in await uow.audit.for_case(case.id)]
    assert actions.count("link.confirmed") == 2 and actions.count("link.dismissed") == 1


async def test_the_index_holds_no_names(app: App, linker: Linker) -> None:
    from sqlalchemy import select

    from storage.models_casework import PerpetratorKey

    ref = await add_case(app, perps_case(P[0]))
    await linker.link_case(ref)
    async with app.store.read() as uow:
        keys = (await uow.session.scalars(select(PerpetratorKey.key_index))).all()
    assert keys and all(len(k) == 64 and "petrov" not in k.lower() for k in keys)
