"""Files through the Bot API file path, and the bot process stopped and started again."""

from __future__ import annotations

import hashlib

from intake import engine
from intake.app import App
from intake.app import build as build_core
from tests.blob_support import stored_blobs
from tests.bot.conftest import Chat, Runner, RunnerFactory
from tests.bot.drive import assert_asked, step
from tests.bot.fakebotapi import FakeBotAPI
from tests.support import answer_for

CHAT = 515151
PDF = b"%PDF-1.4\n" + b"PLAINTEXT-EVIDENCE-MARKER " * 400
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"PHOTO-MARKER-BYTES " * 300


async def test_document_and_photo_stored_encrypted(app: App, runner: Runner, fake: FakeBotAPI) -> None:
    identity = str(CHAT)
    turn = await app.cases.resume("telegram", identity)
    while turn.prompt.question_id != "perp_photo":
        turn = await app.cases.act("telegram", identity, answer_for(turn.prompt))
    chat = Chat(runner, CHAT)
    doc, photo = fake.add_file(PDF, suffix="pdf"), fake.add_file(JPEG, suffix="jpg")
    calls = await chat.send_update(fake.file_message(CHAT, doc, filename="contract.pdf"))
    assert "Saved contract.pdf" in calls[-1].params["text"] and "Done" in [b[0] for b in calls[-1].buttons]
    await chat.send_update(fake.file_message(CHAT, photo, kind="photo"))
    assert [c.params["path"] for c in fake.calls if c.method == "download"] == [doc.path, photo.path]
    await chat.press("Done")
    async with app.store.read() as uow:
        sub = await uow.submitters.find(channel="telegram", identity=identity)
        assert sub is not None
        case = await uow.cases.open_draft(sub.id)
        assert case is not None
        stored = await uow.attachments.for_case(case.id)
        by_name = {a.filename: a for a in stored}
        assert by_name["contract.pdf"].sha256 == hashlib.sha256(PDF).hexdigest()
        photo_rec = next(a for a in stored if a.filename.startswith("photo-"))
        assert photo_rec.sha256 == hashlib.sha256(JPEG).hexdigest()
        assert await uow.attachments.read(case.id, by_name["contract.pdf"].id) == PDF
        assert await uow.attachments.read(case.id, photo_rec.id) == JPEG
        assert all(a.question_path and a.question_path.endswith("perp_photo") for a in stored)
        answer = case.draft["answers"]["perpetrators"][0]["perp_photo"]
    assert sorted(answer) == sorted(a.id for a in stored)
    blobs = await stored_blobs(app)
    assert len(blobs) >= 2
    for data in blobs.values():
        assert b"PLAINTEXT-EVIDENCE-MARKER" not in data and b"PHOTO-MARKER-BYTES" not in data


async def test_extra_evidence_and_too_big(app: App, runner: Runner, fake: FakeBotAPI) -> None:
    chat = Chat(runner, CHAT)
    await chat.say("/start")
    doc = fake.add_file(PDF, suffix="pdf")
    calls = await chat.send_update(fake.file_message(CHAT, doc, filename="extra.pdf"))
    assert "extra evidence" in calls[-1].params["text"]
    big = fake.add_file(b"x" * 10, suffix="mp4")
    calls = await chat.send_update(fake.file_message(CHAT, big, filename="video.mp4", size=25 * 1024 * 1024))
    assert "20 MB" in calls[-1].params["text"] and "email" in calls[-1].params["text"]
    assert [c.params["path"] for c in fake.calls if c.method == "download"] == [doc.path]


async def test_restart_resumes_at_the_same_question(app: App, make_runner: RunnerFactory, fake: FakeBotAPI) -> None:
    q = app.questionnaire
    first = await make_runner(app)
    chat = Chat(first, CHAT)
    await chat.say("/start")
    draft = engine.start("en")
    for _ in range(8):
        draft = await step(chat, q, draft)
    await first.stop()

    # a new process: a new core on the same database, a new Application
    core2 = build_core(app.settings, clock=app.clock)
    try:
        second = await make_runner(core2)
        chat2 = Chat(second, CHAT)
        await chat2.say("/resume")
        assert_asked(chat2, q, draft)
        for _ in range(4):
            draft = await step(chat2, q, draft)
            assert_asked(chat2, q, draft)
        turn = await core2.cases.current("telegram", str(CHAT))
        assert turn is not None
        async with core2.store.read() as uow:
            sub = await uow.submitters.find(channel="telegram", identity=str(CHAT))
            assert sub is not None
            case = await uow.cases.open_draft(sub.id)
        assert case is not None and case.draft["answers"] == draft.answers
        await second.stop()
    finally:
        await core2.store.close()
