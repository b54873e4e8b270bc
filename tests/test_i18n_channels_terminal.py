"""`intake chat --lang L` as a subprocess: the whole questionnaire typed in Spanish, French, Russian
and Arabic (country names, yes/no words, dates with local month names) ends in a submitted case
whose normalised answers equal the English run's, and the terminal's own texts are in L."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from intake import engine
from intake.i18n import translator
from intake.questionnaire import FieldType
from tests.test_cli import env_for, intake
from tests.test_i18n_localise import Q, _typed


def typed_lines(lang: str) -> tuple[list[str], dict[str, Any]]:
    """The lines a submitter writing in `lang` types, computed with the engine, and the answers stored."""
    draft = engine.start(lang)
    lines: list[str] = []
    while (prompt := engine.next_prompt(Q, draft)).kind != "review":
        action = _typed(prompt, lang)
        if isinstance(action, engine.Answer):
            lines.append(action.text)
            if prompt.kind == "question" and prompt.field_type == FieldType.LONG_TEXT:
                lines.append(".")
        else:
            assert isinstance(action, engine.Command)
            lines.append(f"/{action.name}")
        outcome = engine.apply(Q, draft, action)
        assert outcome.ok, f"{lang}: {prompt.question_id}: {outcome.error}"
        draft = outcome.draft
    return lines, draft.answers


@pytest.mark.parametrize("lang", ["es", "fr", "ru", "ar"])
def test_chat_in_each_language_submits_the_english_answers(tmp_path: Path, db_url: str, lang: str) -> None:
    english_lines, english = typed_lines("en")
    lines, answers = typed_lines(lang)
    assert answers == english and lines != english_lines  # typed differently, read the same
    env = env_for(tmp_path, db_url)
    run = intake(["chat", "--as", f"ngo-{lang}", "--lang", lang], env, "\n".join([*lines, "/submit"]) + "\n")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "✗" not in run.stdout, run.stdout[-3000:]  # no answer was refused
    refs = [line.split()[1] for line in run.stdout.splitlines() if line.startswith("REFERENCE ")]
    assert len(refs) == 1, run.stdout[-2000:]
    t, en = translator(lang), translator("en")
    for text in ("Thank you. Your case has been sent to our staff.", "Review"):
        assert t(text) != en(text) and t(text) in run.stdout  # the terminal's own texts are in the language
    first_question = engine.next_prompt(Q, engine.start(lang))
    assert first_question.text in run.stdout  # and the questions

    shown = intake(["review", "show", refs[0], "--json"], env)
    assert shown.returncode == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert view["status"] == "submitted" and view["answers"] == english


def test_chat_refuses_an_unknown_language(tmp_path: Path, db_url: str) -> None:
    run = intake(["chat", "--lang", "klingon"], env_for(tmp_path, db_url), "/quit\n")
    assert run.returncode == 2
    assert "Unknown language 'klingon'" in run.stderr and "es (Español)" in run.stderr


def test_chat_accepts_a_language_name(tmp_path: Path, db_url: str) -> None:
    run = intake(["chat", "--as", "x", "--lang", "Español"], env_for(tmp_path, db_url), "/quit\n")
    assert run.returncode == 0, run.stderr
    assert translator("es")("Case draft {ref}. Your answers are saved after each one; /quit and come back any time.", ref="") .split()[0] in run.stdout
