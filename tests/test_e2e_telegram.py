"""Issue 3, as an operator sees it: `intake run` (a real subprocess) pointed at a Bot API-compatible
server (the fake, on loopback in this process) serves the whole questionnaire to a Telegram user
pressing buttons and typing, and the submitted case appears in `intake review list --json` and
`intake review show REF --json` with every answer. Ctrl-C then stops it cleanly."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from intake import engine
from intake.cases import REF_PATTERN
from intake.engine import Draft
from intake.questionnaire import FieldType, load_default
from tests.bot.fakebotapi import Call, FakeBotAPI
from tests.e2e_support import IntakeRun, intake_cli, wait_for
from tests.support import CHOICES, answer_for
from tests.test_cli import env_for

Q = load_default()
TOKEN = "987654:E2E-operator-token"
CHAT = 515151



class TelegramUser:
    """A person in a private chat with the bot served by `intake run`, through the fake server."""

    def __init__(self, fake: FakeBotAPI, run: IntakeRun, chat_id: int) -> None:
        self.fake = fake
        self.run = run
        self.chat_id = chat_id

    def _sent_since(self, mark: int) -> list[Call]:
        return [c for c in self.fake.calls[mark:] if c.method == "sendMessage" and c.status == 200 and c.chat_id == self.chat_id]

    def newest_bot_message(self) -> dict[str, Any]:
        ids = [mid for (cid, mid) in self.fake.messages if cid == self.chat_id]
        assert ids, "the bot has not written in this chat"
        return self.fake.messages[(self.chat_id, max(ids))]

    def find_button(self, label: str) -> tuple[dict[str, Any], str]:
        """The newest bot message with a button labelled `label` (or `✓ label`), and its data."""
        msg = self.newest_bot_message()
        for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] in (label, f"✓ {label}"):
                    return msg, str(button["callback_data"])
        raise AssertionError(f"no button {label!r} on the bot's newest message: {msg.get('text', '')[-500:]!r}")

    async def say(self, text: str, *, expect_text: str) -> list[Call]:
        """Type a message; wait until the bot sent one containing `expect_text` (refusals fail at once)."""
        mark = len(self.fake.calls)
        await self.fake.inject(TOKEN, self.fake.text_message(self.chat_id, text))

        def answered() -> list[Call] | None:
            sent = self._sent_since(mark)
            for call in sent:
                body = str(call.params.get("text", ""))
                assert not body.startswith("✗ "), f"the bot refused {text!r}: {body}"
                if expect_text in body:
                    return sent
            return None

        return await wait_for(answered, f"the bot's answer to {text!r}", self.run)

    async def press(self, label: str) -> list[Call]:
        """Press a button on the bot's newest message; wait until the press was answered (the last thing the bot does)."""
        message, data = self.find_button(label)
        mark = len(self.fake.calls)
        update = self.fake.callback(self.chat_id, data, message)
        query_id = update["callback_query"]["id"]
        await self.fake.inject(TOKEN, update)

        def answered() -> list[Call] | None:
            calls = self.fake.calls[mark:]
            done = any(c.method == "answerCallbackQuery" and str(c.params.get("callback_query_id")) == query_id for c in calls)
            return self._sent_since(mark) if done else None

        return await wait_for(answered, f"the press on {label!r}", self.run)

    def assert_asked(self, draft: Draft) -> None:
        prompt = engine.next_prompt(Q, draft)
        text = str(self.newest_bot_message().get("text", ""))
        assert prompt.text in text, (prompt.text, text[-500:])


def expect(draft: Draft, action: engine.Action) -> Draft:
    outcome = engine.apply(Q, draft, action)
    assert outcome.ok, outcome.error
    return outcome.draft


async def step(user: TelegramUser, draft: Draft, add_more: set[str]) -> Draft:
    """Answer the current prompt as a person would (buttons for choices, text otherwise), mirrored on the engine."""
    prompt = engine.next_prompt(Q, draft)
    assert prompt.kind in ("question", "add", "details"), prompt.kind
    if prompt.kind == "details":  # the details now: every question is asked
        after = expect(draft, engine.Choose("details"))
        await user.press(prompt.options[0].text)
        return after
    if prompt.kind == "add":
        yes = (prompt.path or "") in add_more
        add_more.discard(prompt.path or "")
        await user.press("Yes" if yes else "No")
        return expect(draft, engine.Choose("yes" if yes else "no"))
    qid = prompt.question_id or ""
    match prompt.field_type:
        case FieldType.YES_NO:
            choice = CHOICES.get(qid, "yes")
            await user.press("Yes" if choice == "yes" else "No")
            return expect(draft, engine.Choose(choice))
        case FieldType.SINGLE_CHOICE:
            await user.press(prompt.options[0].text)
            return expect(draft, engine.Choose(prompt.options[0].id))
        case FieldType.MULTI_CHOICE:
            for option in prompt.options[:2]:
                await user.press(option.text)
                draft = expect(draft, engine.Toggle(option.id))
            await user.press("Done")
            return expect(draft, engine.Command("done"))
        case FieldType.FILES:
            await user.press("Skip")
            return expect(draft, engine.Command("skip"))
    action = answer_for(prompt)
    assert isinstance(action, engine.Answer)
    after = expect(draft, action)
    await user.say(action.text, expect_text=engine.next_prompt(Q, after).text)
    return after


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    server = FakeBotAPI()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def run_env(tmp_path: Path, db_url: str, fake: FakeBotAPI) -> dict[str, str]:
    env = env_for(tmp_path, db_url)
    env.update(INTAKE_TELEGRAM_TOKEN=TOKEN, INTAKE_TELEGRAM_API_URL=fake.url)
    env.update(INTAKE_TELEGRAM_CHAT_INTERVAL="0")  # 90+ answers in one chat at test speed; pacing: tests/bot/test_pacing.py
    return env


async def test_intake_run_serves_the_questionnaire_over_telegram(tmp_path: Path, fake: FakeBotAPI, run_env: dict[str, str]) -> None:
    run = IntakeRun(run_env, tmp_path / "intake-run.log")
    try:
        # up: polling the fake with our token, the command menu registered
        await wait_for(lambda: any(c.token == TOKEN and c.method == "getUpdates" for c in fake.calls) or None, "the bot to poll", run)
        assert any(c.token == TOKEN and c.method == "setMyCommands" for c in fake.calls)

        user = TelegramUser(fake, run, CHAT)
        draft = engine.start("en")
        first = engine.next_prompt(Q, draft)
        sent = await user.say("/start", expect_text=first.text)
        assert "Welcome" in str(sent[0].params["text"])
        assert "Essentials 1/" in user.newest_bot_message()["text"]

        add_more = {"perpetrators"}  # a second perpetrator: the repeat group, as a person would add one
        steps = 0
        while engine.next_prompt(Q, draft).kind != "review":
            draft = await step(user, draft, add_more)
            user.assert_asked(draft)
            steps += 1
        assert not add_more and len(draft.answers["perpetrators"]) == 2
        assert steps > 90
        assert "Submit the case" in [text for text, _ in user.fake.sent(CHAT)[-1].buttons]

        receipt = await user.press("Submit the case")
        assert receipt, "no receipt after Submit"
        found = re.search(REF_PATTERN, str(receipt[-1].params["text"]))
        assert found, receipt[-1].params["text"]
        ref = found.group(0)

        # what the operator sees, while `intake run` is still serving
        listed = await asyncio.to_thread(intake_cli, ["review", "list", "--json"], run_env)
        assert listed.returncode == 0, listed.stderr
        queue = json.loads(listed.stdout)
        assert [item["reference"] for item in queue] == [ref]
        assert queue[0]["status"] == "submitted" and queue[0]["channel"] == "telegram"
        assert queue[0]["answers"] == draft.answers

        shown = await asyncio.to_thread(intake_cli, ["review", "show", ref, "--json"], run_env)
        assert shown.returncode == 0, shown.stderr
        view = json.loads(shown.stdout)
        assert view["reference"] == ref and view["status"] == "submitted" and view["channel"] == "telegram"
        assert view["answers"] == draft.answers
        assert view["missing"] == []

        code = await run.interrupt()
        output = run.output()
        assert code == 0, output[-3000:]
        assert "Traceback" not in output, output[-3000:]
        assert TOKEN not in output  # the token never reaches the log
    finally:
        run.kill()
