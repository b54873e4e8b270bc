"""Our keyboards as Bot API JSON: the fast conversion says exactly what PTB's `to_dict` says."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import payloads, render
from intake import engine
from intake.app import App
from tests.support import answer_for


def test_every_keyboard_of_a_questionnaire_walk_matches_to_dict(app: App) -> None:
    q, draft, seen = app.questionnaire, engine.start("en"), 0
    for _ in range(60):
        prompt = engine.next_prompt(q, draft)
        if prompt.kind not in ("question", "add"):
            break
        for lang in ("en", "ar"):
            keyboard = render.keyboard(prompt, lang)
            if keyboard is not None:
                assert payloads.keyboard_json(keyboard) == keyboard.to_dict()
                seen += 1
        outcome = engine.apply(q, draft, answer_for(prompt))
        if not outcome.ok:
            outcome = engine.apply(q, draft, engine.Command("skip"))
        if not outcome.ok:
            break
        draft = outcome.draft
    assert seen > 3


def test_other_buttons_fall_back_to_to_dict() -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("site", url="https://example.org")], [InlineKeyboardButton("x", callback_data="c:1:done")]])
    assert payloads.keyboard_json(keyboard) == keyboard.to_dict()
    assert payloads.keyboard_json(None) is None
