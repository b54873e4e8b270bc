"""Driving the questionnaire through a chat by buttons and text, mirrored on the pure engine, so a
test knows what the bot must ask next and what the database must hold at the end."""

from __future__ import annotations

from intake import engine
from intake.engine import Draft
from intake.questionnaire import FieldType, Questionnaire
from tests.bot.conftest import Chat, Runner
from tests.support import CHOICES, answer_for


def expect(draft: Draft, action: engine.Action, q: Questionnaire) -> Draft:
    outcome = engine.apply(q, draft, action)
    assert outcome.ok, outcome.error
    return outcome.draft


async def step(
    chat: Chat, q: Questionnaire, draft: Draft, *, add_more: set[str] | None = None, runner: Runner | None = None, details: bool = True,
    minimal: bool = False,
) -> Draft:
    """Answer the current prompt the way a person would (buttons for choices, text otherwise); at
    the choice after the essentials (or a details round): details now, unless `details` is False.
    `minimal`: skip every question that can be skipped."""
    prompt = engine.next_prompt(q, draft)
    assert prompt.kind in ("question", "add", "details"), prompt.kind
    if prompt.kind == "details":
        option = prompt.options[0 if details else 1]
        await chat.press(option.text, runner=runner)
        return expect(draft, engine.Choose(option.id), q)
    if minimal and prompt.kind == "question" and prompt.can_skip:
        await chat.press("Skip", runner=runner)
        return expect(draft, engine.Command("skip"), q)
    if prompt.kind == "add":
        yes = add_more is not None and prompt.path in add_more
        if yes and add_more is not None:
            add_more.discard(prompt.path or "")
        await chat.press("Yes" if yes else "No", runner=runner)
        return expect(draft, engine.Choose("yes" if yes else "no"), q)
    qid = prompt.question_id or ""
    match prompt.field_type:
        case FieldType.YES_NO:
            choice = CHOICES.get(qid, "yes")
            await chat.press("Yes" if choice == "yes" else "No", runner=runner)
            return expect(draft, engine.Choose(choice), q)
        case FieldType.SINGLE_CHOICE:
            await chat.press(prompt.options[0].text, runner=runner)
            return expect(draft, engine.Choose(prompt.options[0].id), q)
        case FieldType.MULTI_CHOICE:
            for option in prompt.options[:2]:
                await chat.press(option.text, runner=runner)
                draft = expect(draft, engine.Toggle(option.id), q)
            await chat.press("Done", runner=runner)
            return expect(draft, engine.Command("done"), q)
        case FieldType.FILES:
            await chat.press("Skip", runner=runner)
            return expect(draft, engine.Command("skip"), q)
    action = answer_for(prompt)
    assert isinstance(action, engine.Answer)
    await chat.say(action.text, runner=runner)
    return expect(draft, action, q)


def assert_asked(chat: Chat, q: Questionnaire, draft: Draft) -> None:
    """The bot's newest message shows the prompt the engine says comes next."""
    prompt = engine.next_prompt(q, draft)
    assert prompt.text in chat.last_text(), (prompt.text, chat.last_text())
