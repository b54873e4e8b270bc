"""Telegram in the submitter's language: first contact takes `language_code`, the whole
questionnaire typed in Spanish and Arabic ends in the English run's answers, every text and
button is in the language (Arabic isolated right to left), /language offers the core's list, the
command menu is registered per language, and a staff follow-up is framed in the case's language."""

from __future__ import annotations

import re
from typing import Any

import pytest

from intake import engine, languages
from intake.app import App
from intake.cases import REF_PATTERN
from intake.i18n import translator
from intake.questionnaire import FieldType
from tests.bot.conftest import Chat, Runner
from tests.bot.fakebotapi import FakeBotAPI
from tests.bot.test_delivery import ask_followup
from tests.test_i18n_localise import Q, _typed

CHAT = 515151


def _label(text: str, lang: str) -> str:
    """A button label as the bot shows it in `lang`."""
    return languages.isolate(translator(lang)(text), lang)


async def _typed_questionnaire(app: App, chat: Chat, lang: str) -> tuple[str, dict[str, Any]]:
    """Answers everything by typing in `lang` (the files question by its translated Skip button),
    checks each question is asked in `lang`, submits; returns the reference and the engine's answers."""
    await chat.say("/start")
    draft = engine.start(lang)
    while (prompt := engine.next_prompt(Q, draft)).kind != "review":
        assert prompt.text in chat.last_text(), (prompt.text, chat.last_text())
        action = _typed(prompt, lang)
        if prompt.kind == "question" and prompt.field_type == FieldType.FILES:
            await chat.press(_label("Skip", lang))
        else:
            assert isinstance(action, engine.Answer)
            await chat.say(action.text)
        outcome = engine.apply(Q, draft, action)
        assert outcome.ok, outcome.error
        draft = outcome.draft
    calls = await chat.press(_label("Submit the case", lang))
    found = re.search(REF_PATTERN, calls[-1].params["text"])
    assert found, calls[-1].params["text"]
    return found.group(0), draft.answers


def _english_answers() -> dict[str, Any]:
    draft = engine.start("en")
    while (prompt := engine.next_prompt(Q, draft)).kind != "review":
        draft = engine.apply(Q, draft, _typed(prompt, "en")).draft
    return draft.answers


@pytest.mark.parametrize("lang", ["es", "ar"])
async def test_questionnaire_typed_in_the_language_of_the_client(app: App, runner: Runner, fake: FakeBotAPI, lang: str) -> None:
    chat = Chat(runner, CHAT, lang=f"{lang}-XX")  # Telegram sends IETF tags; the region is ignored
    reference, answers = await _typed_questionnaire(app, chat, lang)
    assert answers == _english_answers()
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(reference)
        assert case is not None and case.status == "submitted" and case.lang == lang
        assert case.draft["answers"] == answers

    texts = chat.texts()
    t, en = translator(lang), translator("en")
    welcome = "Send /language to change it, /help for all commands."
    assert t("Language: {name}. " + welcome, name=languages.get(lang).native_name) in texts[0].replace(languages.RLI, "").replace(languages.PDI, "")
    receipt = "Thank you. Your case has been sent to our staff."
    assert t(receipt) != en(receipt) and any(t(receipt) in x for x in texts)
    if lang == "ar":  # every line of every message starts right to left
        for text in texts:
            for line in text.split("\n"):
                assert not line.strip() or (line.startswith(languages.RLI) and line.endswith(languages.PDI)), line
        buttons = [b["text"] for c in fake.sent(CHAT) for row in (c.params.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
        assert buttons and all(b.startswith(languages.RLI) for b in buttons)
    else:
        assert not any(languages.RLI in x for x in texts)

    # staff write in English; the wrapper goes out in the case's language, their text as written
    question = "In which city did the recruitment happen?"
    await ask_followup(app, reference, question)
    await runner.drain()
    raw = fake.sent(CHAT)[-1].params["text"]
    if lang == "ar":
        assert all(line.startswith(languages.RLI) for line in raw.split("\n") if line.strip())
    sent = raw.replace(languages.RLI, "").replace(languages.PDI, "")
    assert t("Our staff have a question about your case {ref}:", ref=reference) in sent
    assert question in sent and t("Reply to this message to answer (text or files).") in sent

    # the receipt offers to wipe the chat (issue 11), in the language
    await chat.press(_label("Delete this conversation", lang))
    offer = t("Delete the messages of this conversation, yours and ours? Note your case reference first. "
              "Your cases stay with our staff; only this chat is cleared.")
    assert offer in chat.last_text().replace(languages.RLI, "").replace(languages.PDI, "")
    chat.find_button(_label("Yes, delete the messages", lang))


async def test_language_menu_is_the_core_list_and_changes_everything(app: App, runner: Runner, fake: FakeBotAPI) -> None:
    chat = Chat(runner, CHAT, lang="en")
    await chat.say("/start")
    first = engine.next_prompt(Q, engine.start("en")).text
    assert first in chat.last_text()
    await chat.say("/language")
    menu = fake.sent(CHAT)[-1].params["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in menu] == [x.native_name for x in languages.LANGUAGES]
    calls = await chat.press("Русский")
    ru = translator("ru")
    assert any(ru("Language: {name}.", name="Русский") in c.params.get("text", "") for c in calls)
    assert engine.next_prompt(Q, engine.start("ru")).text in chat.last_text()  # the same question, now in Russian
    assert ru("Skip") != "Skip"


async def test_command_menu_per_language(runner: Runner, fake: FakeBotAPI) -> None:
    menus = {c.params.get("language_code"): c.params["commands"] for c in fake.calls if c.method == "setMyCommands"}
    assert set(menus) == {None, "es", "fr", "ru", "ar"}
    for code, commands in menus.items():
        t = translator(code or "en")
        assert commands[0]["command"] == "start"
        assert commands[0]["description"] == t("Begin a case, or return to the one in progress")
    assert menus["ar"][0]["description"] != menus[None][0]["description"]
