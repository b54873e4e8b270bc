"""Issue 9: every line of every form we send fits in 78 columns, in every language, and the form
carries the recommended identifiers (marked optional) with their full question text."""

from __future__ import annotations

import pytest

from intake import engine
from intake.forms import select
from intake.questionnaire import Question, Questionnaire, load_default
from mail.form import parse_form, sent_lines
from mail.formtext import render_form, wrap_lines
from mail.notice import notice_body
from mail.reply import details_form, form_help
from tests.mail.support import complete_answers

LANGS = ["en", "es", "fr", "ru", "ar"]
RECOMMENDED = ["perp_name_native", "perp_aliases", "perp_dob", "perp_birth_country", "perp_nationality", "id_doc_type",
               "id_doc_number", "id_doc_country", "pos_title", "pos_employer", "pos_country", "ent_reg_number",
               "ent_jurisdiction", "vessel_imo", "vessel_flag", "vessel_callsign", "vessel_mmsi"]


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    return load_default()


def forms(q: Questionnaire, lang: str) -> dict[str, str]:
    """Every form we send, in `lang`: first contact, a follow-up, the details after SUBMIT, a staff
    follow-up reopening every question, with the text around them."""
    fresh = engine.start(lang)
    _, full = complete_answers(q, "en")
    full = full.model_copy(update={"lang": lang})
    half = engine.set_answer(q, fresh, ("org_name",), "Helping Hands").draft
    everything = [item.id for item in q.items_by_id().values()]
    return {
        "first": wrap_lines(form_help(lang)) + "\n" + render_form(q, select(q, fresh, "first"), lang, language_line=True),
        "followup": render_form(q, select(q, half, "followup"), lang),
        "details": wrap_lines("\n\n".join(details_form(q, full))),
        "reopened": wrap_lines(notice_body(q, "followup", {"text": "More, please.", "reopen": everything}, "HT-AAAA-BBBB", lang, full)),
    }


@pytest.mark.parametrize("lang", LANGS)
def test_every_line_of_every_form_fits_in_78_columns(q: Questionnaire, lang: str) -> None:
    for name, text in forms(q, lang).items():
        long = [line for line in text.split("\n") if len(line) > 78]
        assert not long, (name, long)


@pytest.mark.parametrize("lang", LANGS)
def test_first_form_asks_essentials_and_recommended_identifiers_with_their_question_text(q: Questionnaire, lang: str) -> None:
    entries = select(q, engine.start(lang), "first")
    ids = [e.question.id for e in entries]
    for qid in RECOMMENDED:
        assert qid in ids, qid
    assert all(e.question.essential or e.question.recommended for e in entries)
    text = render_form(q, entries, lang, language_line=True)
    for e in entries:
        if e.question.recommended:
            assert not e.required or e.virtual  # offered, never demanded
    for qid in ("perp_dob", "vessel_imo", "ent_reg_number"):
        question = q.items_by_id()[qid]
        assert isinstance(question, Question)
        assert " ".join(question.text.get(lang).split()) in " ".join(text.split())


@pytest.mark.parametrize("lang", LANGS)
def test_a_filled_in_form_reads_back_every_label_even_the_ones_we_broke(q: Questionnaire, lang: str) -> None:
    """Each label of the form, answered inline under the quoted form, is read back to its path —
    in Russian several labels are longer than a line and are broken after a separator."""
    entries = select(q, engine.start(lang), "first")
    body = render_form(q, entries, lang, language_line=True)
    filled: list[str] = []
    for line in body.split("\n"):
        filled.append("> " + line)
        if line.endswith(":") and not line.startswith(" "):
            filled.append(f"answer {len(filled)}")
    found = parse_form(q, lang, "\n".join(filled), sent=sent_lines(body))
    assert set(found) == {e.key for e in entries}
    assert all(v.startswith("answer ") for v in found.values())


def test_the_first_form_is_short(q: Questionnaire) -> None:
    text = render_form(q, select(q, engine.start("en"), "first"), "en", language_line=True)
    assert len(text.split("\n")) < 200
    assert "copy the lines of “Alleged perpetrator 1”" in " ".join(text.split())


def test_follow_up_forms_are_short_and_keep_offering_the_identifiers(q: Questionnaire) -> None:
    half = engine.set_answer(q, engine.start("en"), ("org_name",), "Helping Hands").draft
    followup = select(q, half, "followup")
    assert "org_name" not in [e.question.id for e in followup]  # answered: not asked again
    assert {"perp_dob", "perp_nationality", "vessel_imo", "id_doc_number"} <= {e.question.id for e in followup}
    _, full = complete_answers(q)
    reopened = select(q, full, "reopened", reopened=["perp_dob"])
    assert [e.key for e in reopened] == ["perpetrators.0.perp_dob"]
    text = render_form(q, reopened, "en")
    assert "copy the lines" not in text  # only the reopened question: no block to copy
    assert "To add another ID document" in render_form(q, select(q, full, "reopened", reopened=["perp_id_docs"]), "en")
