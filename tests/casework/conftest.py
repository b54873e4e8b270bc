"""Fixtures for casework: cases written straight through the repositories (answers as the engine
stores them), a loaded fixture list, and the screening and link services over the test database."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from casework import lists
from casework.links import Linker
from casework.screening import Screener
from casework.settings import CaseworkSettings
from intake.app import App
from tests.casework import fixtures
from tests.review.conftest import auth  # noqa: F401  (the staff fixture, for the web tests)

_refs = itertools.count(1)


async def add_case(app: App, answers: dict[str, Any], *, status: str = "submitted") -> str:
    """A case holding `answers`, in `status`; returns its reference."""
    reference = f"CW-{next(_refs):05d}"
    async with app.store.write() as uow:
        submitter = await uow.submitters.get_or_create(channel="terminal", identity=f"cw-{reference}", lang="en", now=app.clock())
        await uow.cases.create(submitter_id=submitter.id, channel="terminal", reference=reference, questionnaire_id=app.questionnaire.id,
                               questionnaire_version=app.questionnaire.version, lang="en", draft={"answers": answers, "lang": "en"},
                               status=status, now=app.clock())
    return reference


def perps_case(*perps: dict[str, Any]) -> dict[str, Any]:
    """A case naming these perpetrators, whose survivors consented in writing (so it may be exported)."""
    return {"perpetrators": list(perps), "consent_status": "written"}


@pytest.fixture
def cw_settings() -> CaseworkSettings:
    return CaseworkSettings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def screener(app: App, cw_settings: CaseworkSettings) -> Screener:
    return Screener(app, cw_settings)


@pytest.fixture
def linker(app: App, cw_settings: CaseworkSettings) -> Linker:
    return Linker(app, cw_settings)


@pytest.fixture
async def loaded(app: App, tmp_path: Path) -> App:
    """The fixture list loaded: FtM lines as `fixture_sdn`, the CSV table as `fixture_csv`."""
    await lists.load(app.store, fixtures.write_ftm(tmp_path / "entities.ftm.json"), dataset="fixture_sdn", now=app.clock())
    await lists.load(app.store, fixtures.write_csv(tmp_path / "targets.simple.csv"), dataset="fixture_csv", now=app.clock())
    return app
