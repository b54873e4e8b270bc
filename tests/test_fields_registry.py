"""The field registry: one entry per type, used by the engine; every error shows an accepted example."""

from __future__ import annotations

import dataclasses
import importlib
import inspect

import pytest

from intake import engine, fields
from intake.engine import Answer
from intake.fields import REGISTRY, InvalidAnswer
from intake.questionnaire import FieldType, load_default
from tests.test_engine import advance_to

Q = load_default()
TYPED = [q for q in Q.questions().values() if q.type not in (FieldType.TEXT, FieldType.LONG_TEXT, FieldType.FILES)]


def test_one_entry_per_type_with_its_keyboard() -> None:
    assert set(REGISTRY) == set(FieldType)
    assert all(kind.type == ftype for ftype, kind in REGISTRY.items())
    keyboards = {ftype: kind.keyboard for ftype, kind in REGISTRY.items()}
    assert keyboards[FieldType.SINGLE_CHOICE] == "options" and keyboards[FieldType.MULTI_CHOICE] == "checkboxes"
    assert keyboards[FieldType.YES_NO] == "yes_no" and keyboards[FieldType.FILES] == "files"
    assert keyboards[FieldType.COUNTRY] == keyboards[FieldType.DATE] == keyboards[FieldType.SEA_AREA] == "none"
    assert [t for t, k in REGISTRY.items() if k.collects] == [FieldType.MULTI_CHOICE, FieldType.FILES]


@pytest.mark.parametrize("question", TYPED, ids=lambda q: q.id)
def test_every_error_shows_an_example_that_is_accepted(question: object) -> None:
    from intake.questionnaire import Question

    assert isinstance(question, Question)
    example = fields.example(question, "en")
    value = fields.parse(question, example)
    assert fields.display(question, value, "en")
    with pytest.raises(InvalidAnswer) as err:
        fields.parse(question, "§ certainly not an answer §")
    assert example in err.value.message, (question.id, err.value.message)


def test_hints_say_the_form() -> None:
    questions = Q.questions()
    assert fields.hint(questions["org_country"], "en") == "(a country name or code)"
    assert "since March 2022" in fields.hint(questions["abuse_dates"], "en")
    assert "51%" in fields.hint(questions["owner_share"], "en")
    assert fields.hint(questions["org_name"], "en") == ""


def test_prompts_carry_keyboard_hint_and_example() -> None:
    prompt = engine.next_prompt(Q, advance_to(engine.start(), "org_country"))
    assert prompt.keyboard == "none" and prompt.hint == "(a country name or code)" and prompt.example == "Nigeria"
    prompt = engine.next_prompt(Q, advance_to(engine.start(), "source_basis"))
    assert prompt.keyboard == "checkboxes" and prompt.multi
    prompt = engine.next_prompt(Q, engine.start())
    assert prompt.keyboard == "yes_no"


def test_the_engine_looks_types_up_in_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    text = REGISTRY[FieldType.TEXT]
    shouting = dataclasses.replace(text, parse=lambda q, raw, t: raw.upper(), display=lambda q, v, t: f"«{v}»")
    monkeypatch.setitem(REGISTRY, FieldType.TEXT, shouting)
    draft = advance_to(engine.start(), "org_name")
    outcome = engine.apply(Q, draft, Answer("Quiet Org"))
    assert outcome.ok and outcome.draft.answers["org_name"] == "QUIET ORG"
    lines = [line for s in engine.summary(Q, outcome.draft) for line in s.lines if line.path == "org_name"]
    assert lines[0].value == "«QUIET ORG»"


def test_engine_modules_do_not_branch_on_field_types() -> None:
    for name in ("apply", "slots", "targets", "view"):
        module = importlib.import_module(f"intake.engine.{name}")
        source = inspect.getsource(module)
        assert "def " in source and "FieldType." not in source, module.__name__
