"""Chat wipe (issue 11): /wipe, confirmed, deletes every message of the private chat the chat log
keeps — the bot's and the submitter's — and says what Telegram refused (older than 48 hours) and
how to clear the rest by hand. Against the fake Bot API, which records deleteMessage calls and
refuses some."""

from __future__ import annotations

from bot import render
from intake import engine, languages
from intake.app import App
from intake.i18n import translator
from tests.bot.conftest import Chat, Runner
from tests.bot.drive import step
from tests.bot.fakebotapi import FakeBotAPI

CHAT = 616161


def _plain(text: str) -> str:
    return text.replace(languages.RLI, "").replace(languages.PDI, "")


async def test_wipe_deletes_ours_and_theirs_and_reports_refusals(app: App, runner: Runner, fake: FakeBotAPI) -> None:
    chat = Chat(runner, CHAT)
    await chat.say("/start")
    draft = engine.start("en")
    for _ in range(3):
        draft = await step(chat, app.questionnaire, draft)
    typed = await chat.say("/wipe")
    assert "Delete the messages of this conversation" in typed[-1].params["text"]
    ours = {c.result["message_id"] for c in fake.sent(CHAT)}
    theirs = {mid for (cid, mid) in fake.messages if cid == CHAT} - ours  # what the submitter sent (kept by the fake)
    async with app.store.read() as uow:
        submitter = await uow.submitters.find(channel="telegram", identity=str(CHAT))
        assert submitter is not None
        log = await uow.chatlog.for_submitter(submitter.id)
    logged = {mid for entry in log for mid in entry["message_ids"]}
    assert ours <= logged and len(logged - ours) >= 2  # the submitter's /start and /wipe at least
    fake.fail("deleteMessage", status=400, description="Bad Request: message can't be deleted for everyone", times=2)
    fake.fail("deleteMessage", status=400, description="Bad Request: message to delete not found", times=1)

    await chat.press("Yes, delete the messages")
    await runner.drain()
    deletions = [c for c in fake.calls if c.method == "deleteMessage" and c.chat_id == CHAT]
    assert {int(c.params["message_id"]) for c in deletions} == logged  # ours and theirs, each once
    assert len(deletions) == len(logged)
    report = chat.last_text()
    assert f"{len(logged) - 2} messages were deleted." in report  # one already gone counts as deleted
    assert "2 messages could not be deleted" in report and "48 hours" in report and "Clear history" in report
    del theirs


async def test_wipe_can_be_declined_and_speaks_the_language(app: App, runner: Runner, fake: FakeBotAPI) -> None:
    chat = Chat(runner, CHAT, lang="ar")
    await chat.say("/start")
    t = translator("ar")
    await chat.say("/wipe")
    assert t("Delete the messages of this conversation, yours and ours? Note your case reference first. "
             "Your cases stay with our staff; only this chat is cleared.") in _plain(chat.last_text())
    await chat.press(languages.isolate(t("No, keep them"), "ar"))
    assert not [c for c in fake.calls if c.method == "deleteMessage"]
    assert _plain(chat.last_text()) == t("Nothing was deleted.")
    await chat.say("/wipe")
    await chat.press(languages.isolate(t("Yes, delete the messages"), "ar"))
    await runner.drain()
    deletions = [c for c in fake.calls if c.method == "deleteMessage"]
    assert len(deletions) >= 6  # /start, welcome, question, /wipe twice, the two confirmations, "nothing was deleted"
    report = chat.last_text()
    assert report.startswith(languages.RLI)
    assert _plain(report) == render.wipe_report(len(deletions), 0, "ar")
