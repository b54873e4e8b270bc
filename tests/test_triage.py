"""Triage facts come from the questions tagged in the questionnaire, computed in one place."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from intake import engine
from intake.questionnaire import QuestionnaireError, TriageTag, load, load_default
from intake.triage import TriageFacts, tagged_answers, triage_facts, triage_questions

Q = load_default()


def answers_for(pairs: dict[str, str]) -> dict[str, object]:
    """Answers stored through the engine's own parser (the bulk path), so values are real."""
    draft = engine.start()
    for key, raw in pairs.items():
        outcome = engine.set_answer(Q, draft, engine.parse_path(key), raw)
        assert outcome.ok, (key, outcome.error)
        draft = outcome.draft
    return draft.answers


def test_the_default_questionnaire_tags_each_fact() -> None:
    tags = triage_questions(Q)
    assert tags[TriageTag.ABUSE_FORMS] == ["abuse_forms"]
    assert sorted(tags[TriageTag.COUNTRIES]) == ["loc_country", "loc_sea_area"]
    assert tags[TriageTag.MINORS] == ["victims_minors"] and tags[TriageTag.DANGER] == ["immediate_danger"]
    assert tags[TriageTag.ONGOING] == ["abuse_ongoing"]
    assert tags[TriageTag.TITLE] == ["case_title"] and tags[TriageTag.SUMMARY] == ["case_summary"]


def test_facts_of_a_case() -> None:
    answers = answers_for({
        "immediate_danger": "yes",
        "case_title": "Fishing fleet",
        "case_summary": "Crew held on board for two years.",
        "abuse_ongoing": "Don't know",
        "abuse_forms": "debt bondage, forced labour",
        "victims_minors": "no",
        "abuse_locations.0.loc_type": "worksite",
        "abuse_locations.0.loc_country": "Thailand",
        "abuse_locations.1.loc_type": "at sea",
        "abuse_locations.1.loc_sea_area": "EEZ of Ghana",
        "abuse_locations.2.loc_type": "at sea",
        "abuse_locations.2.loc_sea_area": "high seas",
        "abuse_locations.3.loc_type": "worksite",
        "abuse_locations.3.loc_country": "TH",
    })
    facts = triage_facts(Q, answers)
    assert facts == TriageFacts(
        abuse_forms=["forced_labour", "debt_bondage"],
        countries=["TH", "GH"],
        minors=False,
        danger=True,
        ongoing=None,
        title="Fishing fleet",
        summary="Crew held on board for two years.",
    )
    assert json.loads(json.dumps(facts.as_dict()))["countries"] == ["TH", "GH"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.danger = False  # type: ignore[misc]


def test_unanswered_and_skipped_are_unknown() -> None:
    assert triage_facts(Q, {}) == TriageFacts()
    facts = triage_facts(Q, answers_for({"victims_minors": "unknown", "immediate_danger": "no", "abuse_ongoing": "yes"}))
    assert facts.minors is None and facts.danger is False and facts.ongoing is True
    skipped = triage_facts(Q, {"abuse_locations": [{"loc_type": "at_sea", "loc_country": None, "loc_sea_area": {"kind": "high_seas"}}]})
    assert skipped.countries == []
    assert tagged_answers(Q, {"case_title": None}) == []


def test_tags_are_checked_when_the_questionnaire_loads(tmp_path: Path) -> None:
    head = "id: x\nversion: 1\ntitle: T\nsections:\n  - id: s\n    title: S\n    items:\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text(head + "      - {kind: question, id: a, type: text, text: A, triage: countries}\n")
    with pytest.raises(QuestionnaireError, match="triage 'countries' needs a question of type country, sea_area"):
        load(bad)
    bad.write_text(head + "      - {kind: question, id: a, type: text, text: A, triage: title}\n"
                          "      - {kind: question, id: b, type: text, text: B, triage: title}\n")
    with pytest.raises(QuestionnaireError, match="belongs on one question"):
        load(bad)
    bad.write_text(head + "      - {kind: question, id: a, type: text, text: A, triage: nonsense}\n")
    with pytest.raises(QuestionnaireError, match="triage"):
        load(bad)
    good = tmp_path / "good.yaml"
    good.write_text(head + "      - {kind: question, id: a, type: yes_no, text: A, triage: danger}\n"
                           "      - {kind: question, id: b, type: yes_no, text: B, triage: danger}\n")
    q = load(good)
    assert triage_facts(q, {"a": False, "b": True}).danger is True  # several questions: any yes
    assert triage_facts(q, {"a": False}).danger is False
