"""Two processes on one database, redelivered updates, staff follow-ups, 429s, commands, groups."""

from __future__ import annotations

import asyncio

from intake import engine
from intake.app import App
from intake.app import build as build_core
from intake.channels import OutboxRecord
from tests.bot.conftest import Chat, Runner, RunnerFactory
from tests.bot.drive import assert_asked, step
from tests.bot.fakebotapi import FakeBotAPI
from tests.support import answer_for

CHAT = 616161


async def draft_answers(app: App, chat_id: int) -> dict[str, object]:
    async with app.store.read() as uow:
        sub = await uow.submitters.find(channel="telegram", identity=str(chat_id))
        assert sub is not None
        case = await uow.cases.open_draft(sub.id)
    assert case is not None
    return case.draft["answers"]


async def test_two_applications_take_turns_on_one_chat(app: App, make_runner: RunnerFactory, fake: FakeBotAPI) -> None:
    q = app.questionnaire
    core2 = build_core(app.settings, clock=app.clock)
    try:
        one = await make_runner(app, "111:one")
        two = await make_runner(core2, "222:two")
        chat = Chat(one, CHAT)
        await chat.say("/start")
        draft = engine.start("en")
        for i in range(23):  # the first pass, the details choice, then the organisation round: a text question next
            draft = await step(chat, q, draft, runner=(one, two)[i % 2])
            assert_asked(chat, q, draft)
        assert await draft_answers(app, CHAT) == draft.answers

        # the same update reaching both processes at once is applied once
        prompt = engine.next_prompt(q, draft)
        action = answer_for(prompt)
        assert isinstance(action, engine.Answer)
        update = fake.text_message(CHAT, action.text)
        before = len(fake.sent(CHAT))
        u1 = await fake.inject(one.token, update)
        u2 = await fake.inject(two.token, update)
        await asyncio.gather(one.wait_handled(u1), two.wait_handled(u2))
        draft = engine.apply(q, draft, action).draft
        assert len(fake.sent(CHAT)) == before + 1
        assert await draft_answers(app, CHAT) == draft.answers

        # different chats concurrently on both processes
        others = [Chat(one, 7001), Chat(two, 7002), Chat(one, 7003), Chat(two, 7004)]
        await asyncio.gather(*(c.say("/start") for c in others))
        drafts = [engine.start("en") for _ in others]

        async def run(c: Chat, d: engine.Draft) -> engine.Draft:
            for _ in range(6):
                d = await step(c, q, d)
            return d

        drafts = list(await asyncio.gather(*(run(c, d) for c, d in zip(others, drafts, strict=True))))
        for c, d in zip(others, drafts, strict=True):
            assert await draft_answers(app, c.chat_id) == d.answers
    finally:
        await core2.store.close()


async def test_every_update_twice(app: App, runner: Runner, fake: FakeBotAPI) -> None:
    q = app.questionnaire
    once, twice = Chat(runner, 8001), Chat(runner, 8002, copies=2)
    drafts = []
    for chat in (once, twice):
        await chat.say("/start")
        draft = engine.start("en")
        for _ in range(30):  # includes multi-choice toggles, single choices and text
            draft = await step(chat, q, draft)
        drafts.append(draft)
        assert await draft_answers(app, chat.chat_id) == draft.answers
    assert drafts[0].answers == drafts[1].answers
    methods = ("sendMessage", "editMessageText", "editMessageReplyMarkup")
    assert len(fake.sent(8002, methods)) == len(fake.sent(8001, methods))
    assert [c.params["text"] for c in fake.sent(8002)] == [c.params["text"] for c in fake.sent(8001)]


async def submitted_case(app: App, identity: str) -> str:
    turn = await app.cases.resume("telegram", identity)
    while turn.prompt.kind != "review":
        turn = await app.cases.act("telegram", identity, answer_for(turn.prompt))
    turn = await app.cases.act("telegram", identity, engine.Command("submit"))
    assert turn.submitted and turn.reference
    return turn.reference


async def ask_followup(app: App, reference: str, text: str) -> str:
    """What the review side does: case to needs_info and an outbox row for the submitter (as review.service queues it)."""
    async with app.store.write() as uow:
        case = await uow.cases.by_reference(reference, lock=True)
        assert case is not None
        case.status = "needs_info"
        await uow.cases.save(case, now=app.clock())
        return await uow.outbox.enqueue(
            channel="telegram", kind="followup", case_id=case.id, submitter_id=case.submitter_id, payload={"text": text, "reference": reference}, now=app.clock()
        )


async def outbox_row(app: App, row_id: str) -> OutboxRecord:
    async with app.store.read() as uow:
        return {r.id: r for r in await uow.outbox.list()}[row_id]


async def test_followup_delivered_and_reply_threaded(app: App, runner: Runner, fake: FakeBotAPI) -> None:
    reference = await submitted_case(app, str(CHAT))
    row_id = await ask_followup(app, reference, "In which city did the recruitment happen?")
    await runner.drain()
    followup = fake.sent(CHAT)[-1]
    assert reference in followup.params["text"] and "In which city" in followup.params["text"]
    async with app.store.read() as uow:
        rows = {r.id: r for r in await uow.outbox.list()}
    assert rows[row_id].status == "sent"

    chat = Chat(runner, CHAT)
    calls = await chat.say("It was in Lagos.", reply_to=followup.result)
    assert reference in calls[-1].params["text"]
    doc = fake.add_file(b"%PDF-1.4 reply evidence", suffix="pdf")
    calls = await chat.send_update(fake.file_message(CHAT, doc, filename="ticket.pdf", reply_to=followup.result))
    assert "added to case" in calls[-1].params["text"]
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(reference)
        assert case is not None
        thread = await uow.messages.for_case(case.id)
        files = await uow.attachments.for_case(case.id)
    assert case.status == "submitted"
    bodies = [m.body for m in thread if m.direction == "in"]
    assert "It was in Lagos." in bodies and any("ticket.pdf" in b for b in bodies)
    assert any(f.filename == "ticket.pdf" for f in files)


async def test_outbox_honours_429_and_marks_failures(app: App, runner: Runner, fake: FakeBotAPI) -> None:
    reference = await submitted_case(app, str(CHAT))
    await runner.drain()  # the staff alert
    assert runner.bot_core.delivery.channels == ["staff_telegram", "telegram"]
    fake.fail("sendMessage", retry_after=3, chat_id=CHAT)
    row_id = await ask_followup(app, reference, "A question")

    async def tried() -> bool:
        return (await outbox_row(app, row_id)).attempts == 1

    await runner.drain()
    await runner.tracker.until(tried)
    row = await outbox_row(app, row_id)
    assert row.status == "pending" and "429" in (row.last_error or "")
    assert (row.next_attempt_at - app.clock()).total_seconds() == 3
    assert not any("A question" in t for t in fake.texts(CHAT))  # not before retry_after
    app.clock.advance(seconds=3)  # type: ignore[attr-defined]
    await runner.drain()
    assert any("A question" in t for t in fake.texts(CHAT))
    assert (await outbox_row(app, row_id)).status == "sent"

    # a refusal (the user blocked the bot) is a visible failure
    row2 = await ask_followup(app, reference, "Another question")
    fake.fail("sendMessage", status=403, description="Forbidden: bot was blocked by the user", chat_id=CHAT)
    await runner.drain()
    async with app.store.read() as uow:
        failed = {r.id: r for r in await uow.outbox.list(status="failed")}
    assert row2 in failed and "Forbidden" in (failed[row2].last_error or "")


async def test_reply_429_retried_after_telegrams_wait(app: App, runner: Runner, fake: FakeBotAPI) -> None:
    chat = Chat(runner, CHAT)
    fake.fail("sendMessage", retry_after=1, chat_id=CHAT)
    calls = await chat.say("/help")
    assert [c.status for c in calls if c.method == "sendMessage"] == [429]  # queued again, not waited out in the worker
    async with app.store.read() as uow:
        [row] = await uow.outbox.list(status="pending")
    assert (row.next_attempt_at - app.clock()).total_seconds() == 1
    mark = len(fake.calls)
    app.clock.advance(seconds=1)  # type: ignore[attr-defined]
    await runner.drain()
    calls = chat.since(mark)
    assert [c.status for c in calls if c.method == "sendMessage"] == [200]
    assert "/start" in calls[-1].params["text"]


async def test_commands(app: App, runner: Runner, fake: FakeBotAPI) -> None:
    chat = Chat(runner, CHAT, lang="es")
    await chat.say("/status")
    assert "no tiene casos" in chat.last_text()  # Telegram's language_code: Spanish
    await chat.say("/start")
    calls = await chat.say("/language")
    assert "Español" in [b[0] for b in calls[-1].buttons]
    await chat.press("Français")
    async with app.store.read() as uow:
        sub = await uow.submitters.find(channel="telegram", identity=str(CHAT))
        assert sub is not None and sub.lang == "fr"
    await chat.say("/cancel")
    await chat.press("Non, le garder")  # now in French
    assert await app.cases.current("telegram", str(CHAT)) is not None
    await chat.say("/cancel")
    await chat.press("Oui, supprimer mon brouillon")
    assert await app.cases.current("telegram", str(CHAT)) is None

    reference = await submitted_case(app, str(CHAT))
    await chat.say("/status")
    assert reference in chat.last_text()
    calls = await chat.say("/delete")
    assert f"Retirer {reference}" in [b[0] for b in calls[-1].buttons]
    await chat.press(f"Retirer {reference}")
    await chat.press(f"Oui, retirer {reference}")
    statuses = await app.cases.statuses("telegram", str(CHAT))
    assert [s.status for s in statuses if s.reference == reference] == ["withdrawn"]
    await chat.say("/nonsense")
    assert "/start" in chat.last_text()


async def test_groups_ignored_and_stale_buttons(app: App, runner: Runner, fake: FakeBotAPI) -> None:
    before = len(fake.calls)
    await runner.send(fake.text_message(-100123, "/start", chat_type="group"))
    await runner.send(fake.text_message(-100123, "hello", chat_type="group"))
    assert not [c for c in fake.calls[before:] if c.method == "sendMessage"]
    assert await app.cases.statuses("telegram", "-100123") == []

    chat = Chat(runner, CHAT)
    await chat.say("/start")
    old_message, old_data = chat.find_button("Yes")
    await chat.press("Yes")  # channel safe
    draft_before = await draft_answers(app, CHAT)
    # pressing the first question's button again does not answer the second question
    calls = await chat.send_update(fake.callback(CHAT, old_data, old_message))
    assert await draft_answers(app, CHAT) == draft_before
    assert "immediate danger" in calls[-1].params["text"].lower() or "danger" in calls[-1].params["text"].lower()


async def test_staff_chat_help_and_sender_failures(app: App, runner: Runner, fake: FakeBotAPI) -> None:
    from tests.bot.conftest import STAFF_CHAT

    # the staff chat's /help is answered there (through the outbox, like every message)
    await runner.send(fake.text_message(STAFF_CHAT, "/help", chat_type="group"))
    assert fake.texts(STAFF_CHAT) == ["This chat receives alerts about new cases and replies. Open the console to read them."]
    assert await app.cases.statuses("telegram", str(STAFF_CHAT)) == []

    # Telegram unreachable or failing (5xx): retried later; an unknown chat: undeliverable
    reference = await submitted_case(app, str(CHAT))
    await runner.drain()
    fake.fail("sendMessage", status=502, description="Bad Gateway", chat_id=CHAT)
    row_id = await ask_followup(app, reference, "A question")

    async def tried() -> bool:
        return (await outbox_row(app, row_id)).attempts == 1

    await runner.drain()
    await runner.tracker.until(tried)
    row = await outbox_row(app, row_id)
    assert row.status == "pending" and row.last_error == "NetworkError"
    fake.fail("sendMessage", status=400, description="Bad Request: chat not found", chat_id=CHAT)
    app.clock.advance(seconds=5)  # type: ignore[attr-defined]
    await runner.drain()
    row = await outbox_row(app, row_id)
    assert row.status == "failed" and row.last_error == "BadRequest: chat not found"
