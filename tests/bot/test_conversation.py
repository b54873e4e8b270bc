"""The questionnaire as a Telegram chat: a real PTB Application against the fake Bot API."""

from __future__ import annotations

import re

from intake import engine
from intake.app import App
from intake.cases import REF_PATTERN
from tests.bot.conftest import STAFF_CHAT, Chat, Runner
from tests.bot.drive import assert_asked, expect, step
from tests.bot.fakebotapi import FakeBotAPI

CHAT = 424242


async def test_full_questionnaire_by_buttons_and_text(app: App, runner: Runner, fake: FakeBotAPI) -> None:
    q = app.questionnaire
    chat = Chat(runner, CHAT)
    commands = [c for c in fake.calls if c.method == "setMyCommands"]
    assert commands and [c["command"] for c in commands[0].params["commands"]][:2] == ["start", "resume"]

    await chat.say("/start")
    assert "Welcome" in chat.texts()[0]
    draft = engine.start("en")
    assert_asked(chat, q, draft)
    assert "Essentials 1/" in chat.last_text() and "Section 1 of" not in chat.last_text()
    add_more = {"perpetrators"}  # a second perpetrator: the repeat group
    steps = 0
    while engine.next_prompt(q, draft).kind != "review":
        draft = await step(chat, q, draft, add_more=add_more)
        assert_asked(chat, q, draft)
        steps += 1
    assert not add_more and len(draft.answers["perpetrators"]) == 2
    calls = await chat.press("Submit the case")
    receipt = calls[-1].params["text"]
    found = re.search(REF_PATTERN, receipt)
    assert found and "What happens next" in receipt and "Staying safe" in receipt
    reference = found.group(0)

    async with app.store.read() as uow:
        case = await uow.cases.by_reference(reference)
        assert case is not None and case.status == "submitted" and case.channel == "telegram"
        assert case.draft["answers"] == draft.answers
        submitter = await uow.submitters.get(case.submitter_id)
        assert await uow.submitters.identity(submitter.id) == str(CHAT)
        log = await uow.chatlog.for_submitter(submitter.id)
    ids = {mid for entry in log for mid in entry["message_ids"]}
    sent_ids = {c.result["message_id"] for c in fake.sent(CHAT)}
    assert sent_ids <= ids  # every message we sent is kept for wiping later
    assert {entry["direction"] for entry in log} == {"in", "out"}  # and the submitter's own messages
    assert steps > 90

    # the staff alert (sent by the delivery worker with the receipt): reference, abuse forms,
    # countries, console link; no names, no narrative
    assert len(fake.texts(STAFF_CHAT)) == 1
    alert = fake.texts(STAFF_CHAT)[-1]
    assert reference in alert and f"https://intake.example.org/cases/{reference}" in alert
    assert "Forced labour" in alert and "Nigeria (NG)" in alert
    assert "Sample text" not in alert and "sample answer" not in alert


async def test_invalid_back_skip(app: App, runner: Runner) -> None:
    q = app.questionnaire
    chat = Chat(runner, CHAT)
    await chat.say("/start")
    draft = engine.start("en")
    while engine.next_prompt(q, draft).question_id != "contact_email":
        draft = await step(chat, q, draft)
    # invalid answer: the engine's error and the same question again
    calls = await chat.say("not an address")
    assert len(calls) == 1 and calls[0].params["text"].startswith("✗ ")
    assert engine.next_prompt(q, draft).text in calls[0].params["text"]
    # back: the previous question again, then forward
    await chat.press("« Back")
    draft = expect(draft, engine.Command("back"), q)
    assert_asked(chat, q, draft)
    assert "Current answer: Sample text contact_name" in chat.last_text()
    await chat.press("Keep current answer")
    draft = expect(draft, engine.Command("keep"), q)
    draft = await step(chat, q, draft)  # the email, valid this time
    assert engine.next_prompt(q, draft).question_id == "consent_status"  # the first pass: essentials only
    # skip an optional question (in the organisation's details round)
    while engine.next_prompt(q, draft).question_id != "contact_secure_channel":
        draft = await step(chat, q, draft)
    prompt = engine.next_prompt(q, draft)
    assert prompt.can_skip and "Details: Your organisation" in chat.last_text()
    await chat.press("Skip")
    draft = expect(draft, engine.Command("skip"), q)
    assert_asked(chat, q, draft)
    turn = await app.cases.current("telegram", str(CHAT))
    assert turn is not None and turn.prompt.path == engine.next_prompt(q, draft).path
    async with app.store.read() as uow:
        sub = await uow.submitters.find(channel="telegram", identity=str(CHAT))
        assert sub is not None
        case = await uow.cases.open_draft(sub.id)
    assert case is not None and case.draft["answers"] == draft.answers
    assert case.draft["answers"]["contact_secure_channel"] is None


async def test_edit_from_review(app: App, runner: Runner) -> None:
    chat = Chat(runner, CHAT)
    turn = await app.cases.resume("telegram", str(CHAT))
    from tests.support import answer_for

    while turn.prompt.kind != "review":
        turn = await app.cases.act("telegram", str(CHAT), answer_for(turn.prompt))
    await chat.say("/review")
    assert "Review your answers" in chat.texts()[0]
    calls = await chat.press("✎ 2. Your organisation")
    assert "Editing · Your organisation" in calls[-1].params["text"] and "Current answer: Sample text org_name" in calls[-1].params["text"]
    await chat.say("Renamed Organisation")
    # the rest of the section, kept as it was, then back at the review screen
    for _ in range(20):
        if "Please check your answers" in chat.last_text():
            break
        assert "Editing · Your organisation" in chat.last_text()
        await chat.press("Keep current answer")
    assert "Please check your answers" in chat.last_text()
    async with app.store.read() as uow:
        sub = await uow.submitters.find(channel="telegram", identity=str(CHAT))
        assert sub is not None
        case = await uow.cases.open_draft(sub.id)
    assert case is not None and case.draft["answers"]["org_name"] == "Renamed Organisation"
    calls = await chat.press("Submit the case")
    assert "Your case reference is" in calls[-1].params["text"]


async def test_long_answer_split_by_telegram_is_joined(app: App, runner: Runner) -> None:
    q = app.questionnaire
    chat = Chat(runner, CHAT)
    await chat.say("/start")
    draft = engine.start("en")
    while engine.next_prompt(q, draft).question_id != "org_description":
        draft = await step(chat, q, draft)
    first, second = "word " * 800, "the rest of it"
    await chat.say(first.strip())
    calls = await chat.say(second)
    assert "added this message to your previous answer" in calls[-1].params["text"]
    async with app.store.read() as uow:
        sub = await uow.submitters.find(channel="telegram", identity=str(CHAT))
        assert sub is not None
        case = await uow.cases.open_draft(sub.id)
    assert case is not None
    assert case.draft["answers"]["org_description"] == first.strip() + "\n" + second
    assert "contact_secure_channel" not in case.draft["answers"]  # the next question is still open
