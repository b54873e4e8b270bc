"""The questionnaire file: the default carries the whole content reference; errors name the place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from intake.questionnaire import FieldType, Group, QuestionnaireError, load, load_default

SHARED = Path(__file__).resolve().parents[2] / "shared" / "questionnaire.md"


def test_default_has_every_section_and_id() -> None:
    q = load_default()
    assert [s.id for s in q.sections] == [
        "safety", "organisation", "consent", "overview", "perpetrators", "abuse",
        "jurisdictions", "evidence", "accountability", "risk", "outcome",
    ]
    items = q.items_by_id()
    if SHARED.exists():  # the content reference sits beside the repository
        ids = set(re.findall(r"`([a-z][a-z0-9_]+)`", SHARED.read_text()))
        missing = sorted(i for i in ids - {"country", "ftm"} if i not in items)
        assert missing == []
    for needed in ("perpetrators", "abuse_locations", "evidence"):
        group = items[needed]
        assert isinstance(group, Group) and group.min == 1
    assert items["perp_nationality"].multiple  # type: ignore[union-attr]
    assert items["abuse_dates"].range  # type: ignore[union-attr]
    assert items["ev_file"].type == FieldType.FILES  # type: ignore[union-attr]


def test_labels_are_unique() -> None:
    labels = [q.short("en").casefold() for q in load_default().questions().values()]
    assert len(labels) == len(set(labels))


def test_errors_name_file_and_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: x\nversion: 1\ntitle: T\nsections:\n  - id: s\n    title: S\n    items:\n"
        "      - {kind: question, id: a, type: single_choice, text: A}\n"
        "      - {kind: question, id: b, type: text, text: B, when: {q: zz, eq: 1}}\n"
    )
    with pytest.raises(QuestionnaireError) as err:
        load(bad)
    message = str(err.value)
    assert str(bad) in message and "sections[0=s]" in message and "no options" in message
    bad.write_text("id: x\nversion: 1\ntitle: T\nsections:\n  - id: s\n    title: S\n    items:\n      - {kind: question, id: b, type: text, text: B, when: {q: zz, eq: 1}}\n")
    with pytest.raises(QuestionnaireError, match="not an earlier question"):
        load(bad)
    bad.write_text("id: [unclosed")
    with pytest.raises(QuestionnaireError, match="not valid YAML"):
        load(bad)
    with pytest.raises(QuestionnaireError, match="cannot read"):
        load(tmp_path / "missing.yaml")


def test_text_falls_back_to_english() -> None:
    q = load_default()
    assert q.sections[0].title.get("de") == q.sections[0].title.get("en")  # a language without a translation


def test_leave_blank_questions_are_optional_and_take_a_blank(tmp_path: Path) -> None:
    questions = load_default().questions().values()
    says_blank = {q.id for q in questions if "leave blank" in " ".join([q.text.get("en"), q.help.get("en") if q.help else ""]).casefold()}
    assert says_blank and says_blank == {q.id for q in questions if q.blank_skips}
    assert all(not q.required for q in questions if q.blank_skips)
    head = "id: x\nversion: 1\ntitle: T\nsections:\n  - id: s\n    title: S\n    items:\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text(head + "      - {kind: question, id: a, type: text, text: A, required: true, blank_skips: true}\n")
    with pytest.raises(QuestionnaireError, match="'blank_skips' needs an optional question"):
        load(bad)
    bad.write_text(head + "      - {kind: question, id: a, type: text, text: A, unit: percent}\n")
    with pytest.raises(QuestionnaireError, match="'unit' is only for number questions"):
        load(bad)


def test_a_place_kind_at_sea_comes_before_the_country() -> None:
    group = load_default().items_by_id()["abuse_locations"]
    assert isinstance(group, Group)
    ids = [i.id for i in group.items]
    assert ids.index("loc_type") < ids.index("loc_sea_area") < ids.index("loc_country")
    country = next(i for i in group.items if i.id == "loc_country")
    assert country.required and country.optional_when is not None and country.optional_when.eq == "at_sea"  # type: ignore[union-attr]
    assert load_default().questions()["loc_sea_area"].type == FieldType.SEA_AREA
