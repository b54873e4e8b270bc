"""Essentials first on Telegram (a real PTB Application against the fake Bot API): the minimal path
to a submitted case in at most 25 prompts, then /details adds a round after submission.

A prompt is one bot message the submitter answers (a question, an "add another?", the details
now-or-later choice, the review's Submit button); presses and messages are counted too (a
multi-choice question takes its ticks and Done)."""

from __future__ import annotations

import re

from intake import engine
from intake.app import App
from intake.cases import REF_PATTERN
from tests.bot.conftest import Chat, Runner
from tests.bot.drive import assert_asked, step
from tests.bot.fakebotapi import FakeBotAPI

CHAT = 515151
LIMIT = 25


async def test_minimal_path_then_details_after_submission(app: App, runner: Runner, fake: FakeBotAPI) -> None:
    q = app.questionnaire
    chat = Chat(runner, CHAT)
    await chat.say("/start")
    draft = engine.start("en")
    assert_asked(chat, q, draft)
    assert "Essentials 1/" in chat.last_text() and "Section" not in chat.last_text()
    prompts = 0
    sent_before = len(fake.sent(CHAT))
    while engine.next_prompt(q, draft).kind != "review":
        draft = await step(chat, q, draft, minimal=True, details=False)
        prompts += 1
        assert_asked(chat, q, draft)
    assert "The essentials are complete" in chat.last_text() and "/details" in chat.last_text()
    calls = await chat.press("Submit the case")
    prompts += 1
    found = re.search(REF_PATTERN, calls[-1].params["text"])
    assert found and prompts <= LIMIT, prompts
    reference = found.group(0)
    print(f"\nminimal path (Telegram): {prompts} prompts, {len(fake.sent(CHAT)) - sent_before} bot messages after the welcome")

    # later, at their own pace: /details opens a round on the submitted case
    await chat.say("/details")
    assert "Details: Your organisation · " in chat.last_text()
    await chat.say("A shelter for survivors of forced labour.")
    assert "Is there a more secure way to reach you?" in chat.last_text()
    await chat.say("/review")
    assert f"Your details were added to case {reference}" in chat.last_text()
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(reference)
        assert case is not None and case.status == "submitted"
        assert case.draft["answers"]["org_description"] == "A shelter for survivors of forced labour."
        kinds = [m.kind for m in await uow.messages.for_case(case.id)]
    assert "details" in kinds
