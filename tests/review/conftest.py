"""Fixtures for the staff side: submitted cases made through the real case service, staff
accounts with a cheap argon2id cost, and the review and auth services over the test database."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
from argon2 import PasswordHasher

from intake import engine
from intake.app import App
from intake.cases import CaseService
from review.auth import AuthService
from review.service import Actor, ReviewService
from tests.support import answer_for, fill_form

PASSWORD = "correct horse battery"
_template: dict[str, Any] = {}
_names = itertools.count(1)


def cheap_hasher() -> PasswordHasher:
    """argon2id with a tiny cost, so login tests stay fast (production uses the library default)."""
    return PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


async def _drive(cases: CaseService, channel: str, who: str) -> None:
    turn = await cases.resume(channel, who)
    while turn.prompt.kind != "review":
        turn = await cases.act(channel, who, answer_for(turn.prompt))
        assert turn.ok, turn.error


async def make_case(app: App, channel: str = "terminal", *, who: str | None = None, answers: dict[str, str] | None = None) -> str:
    """Submit a complete case through the case service; `answers` (path → raw text) go through
    the engine's validation like any channel's. Returns the case reference."""
    who = who or f"{channel}-submitter-{next(_names)}"
    if "draft" not in _template:
        await _drive(app.cases, channel, who)
        async with app.store.read() as uow:
            submitter = await uow.submitters.find(channel=channel, identity=who)
            assert submitter is not None
            case = await uow.cases.open_draft(submitter.id)
            assert case is not None
            _template["draft"] = copy.deepcopy(case.draft)
    else:
        turn = await app.cases.resume(channel, who)
        async with app.store.write() as uow:
            assert turn.case_id is not None
            case = await uow.cases.get(turn.case_id, lock=True)
            case.draft = copy.deepcopy(_template["draft"])
            await uow.cases.save(case, now=app.clock())
    if answers:
        results = (await fill_form(app, channel, who, answers)).results
        assert all(v is None for v in results.values()), results
    turn = await app.cases.act(channel, who, engine.Command("submit"))
    assert turn.submitted and turn.reference, turn
    return turn.reference


@pytest.fixture
def auth(app: App) -> AuthService:
    return AuthService(app.store, clock=app.clock, hasher=cheap_hasher())


@pytest.fixture
def review(app: App) -> ReviewService:
    return ReviewService(app.store, app.questionnaire, clock=app.clock)


async def add_staff(auth: AuthService, email: str, role: str = "reviewer") -> Actor:
    record = await auth.add_staff(email, PASSWORD, role)
    return Actor(record.id, record.email, record.role, "127.0.0.1")


@pytest.fixture
async def alice(auth: AuthService) -> Actor:
    return await add_staff(auth, "alice@example.org", "reviewer")


@pytest.fixture
async def bob(auth: AuthService) -> Actor:
    return await add_staff(auth, "bob@example.org", "reviewer")


@pytest.fixture
async def admin(auth: AuthService) -> Actor:
    return await add_staff(auth, "root@example.org", "admin")
