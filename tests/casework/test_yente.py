"""Screening through yente's /match API (INTAKE_YENTE_URL) against a fake yente on loopback."""

from __future__ import annotations

import pytest

from casework.screening import Screener
from casework.settings import CaseworkSettings
from casework.yente import YenteClient, YenteError
from intake.app import App
from tests.casework import fakeyente, fixtures
from tests.casework.conftest import add_case, perps_case


async def test_screening_through_yente(app: App) -> None:
    ref = await add_case(app, perps_case(fixtures.PERPETRATORS[0]["perp"], fixtures.PERPETRATORS[13]["perp"]))
    async with fakeyente.serve() as (url, seen):
        cfg = CaseworkSettings(_env_file=None, yente_url=url + "/", yente_dataset="sanctions", yente_api_key="test-key")  # type: ignore[call-arg]
        report = (await Screener(app, cfg).screen(ref)).to_dict()
    [request] = seen
    assert request["dataset"] == "sanctions" and request["params"]["algorithm"] == "logic-v2"
    assert request["body"]["queries"]["1"] == {"schema": "Person", "properties": {
        "name": ["Petrov Ivan"], "birthDate": ["1970-03-02"], "nationality": ["ru"]}}
    petrov, vessel = report["perpetrators"]
    assert (petrov["candidates"][0]["entity_id"], petrov["candidates"][0]["match"]) == ("fx-petrov", True)
    assert "name_match" in petrov["candidates"][0]["explanation"]["agreed"]
    assert vessel["candidates"][0]["entity_id"] == "fx-oceanglory" and vessel["candidates"][0]["match"]
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        events = [e.detail for e in await uow.audit.for_case(case.id) if e.action == "case.screened"]
    candidates = petrov["candidates"] + vessel["candidates"]
    assert events == [{"perpetrators": 2, "candidates": len(candidates), "matches": sum(c["match"] for c in candidates), "source": "yente"}]


async def test_yente_errors_say_nothing_of_the_case() -> None:
    from followthemoney import model

    query = model.make_entity("Person")
    query.id = "q"
    query.add("name", "Ivan Petrov")
    async with fakeyente.serve() as (url, _):
        with pytest.raises(YenteError, match="HTTP 403"):
            await YenteClient(url, api_key="wrong").match({"1": query})
    with pytest.raises(YenteError, match="unreachable"):
        await YenteClient(url, api_key="test-key", timeout=2).match({"1": query})
