"""Loops (RFC 3834), forged replies, the auto-reply limit, staff follow-ups, failures and retries."""

from __future__ import annotations

import pytest

from intake import lifecycle
from intake.app import App
from intake.delivery import backoff
from mail.relay import Relay
from tests.mail.conftest import ADDRESS, SENDER, Harness
from tests.mail.support import flat_text, message, text_of
from tests.support import FixedClock


async def cases_of(app: App, identity: str) -> list[object]:
    async with app.store.read() as uow:
        submitter = await uow.submitters.find(channel="email", identity=identity)
        return list(await uow.cases.for_submitter(submitter.id)) if submitter else []


@pytest.mark.parametrize(
    ("headers", "mail_from", "sender"),
    [
        ({"Auto-Submitted": "auto-replied"}, SENDER, SENDER),
        ({"Auto-Submitted": "auto-generated; type=vacation"}, SENDER, SENDER),
        ({"Precedence": "bulk"}, SENDER, SENDER),
        ({"Precedence": "list"}, SENDER, SENDER),
        ({"List-Id": "<ngos.lists.example.org>"}, SENDER, SENDER),
        ({"List-Unsubscribe": "<mailto:leave@example.org>"}, SENDER, SENDER),
        ({"X-Auto-Response-Suppress": "All"}, SENDER, SENDER),
        ({}, "", SENDER),  # null return path: a bounce
        ({}, "MAILER-DAEMON@mx.example.org", "MAILER-DAEMON@mx.example.org"),
        ({}, ADDRESS, ADDRESS),  # our own address
    ],
)
async def test_automated_mail_gets_no_reply_but_is_kept(mail: Harness, headers: dict[str, str], mail_from: str, sender: str) -> None:
    raw, _ = message("I am out of the office until Monday.", headers=headers, sender=sender)
    result = await mail.send(raw, mail_from=mail_from)
    assert result.data == 250
    await mail.pump()
    assert mail.relay.messages == []
    async with mail.app.store.read() as uow:
        rows = await uow.inbox.list()
    assert len(rows) == 1 and rows[0].status == "done" and rows[0].raw == b"" and rows[0].size == len(raw)  # content destroyed once handled, size kept
    assert await cases_of(mail.app, sender.lower()) == []


async def test_forged_reply_does_not_change_the_case(mail: Harness) -> None:
    raw, _ = message("first")
    reply = (await mail.exchange(raw))[0]
    ref = str(reply["Subject"])[1:13]
    raw, _ = message("Organisation name: Real NGO", subject=f"Re: [{ref}]", in_reply_to=str(reply["Message-ID"]))
    await mail.exchange(raw)
    forged, _ = message("Organisation name: Evil Corp\nSUBMIT", subject=f"Re: [{ref}] form", sender="attacker@evil.example",
                        in_reply_to=str(reply["Message-ID"]))
    out = await mail.exchange(forged, mail_from="attacker@evil.example")
    assert out == []  # no reply to the forger
    async with mail.app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        thread = await uow.messages.for_case(case.id)
    assert case.draft["answers"]["org_name"] == "Real NGO" and case.status == lifecycle.DRAFT
    forged_kept = [m for m in thread if "Evil Corp" in m.body]  # same pinned clock: order by content
    assert len(thread) == 3 and len(forged_kept) == 1 and not forged_kept[0].verified
    assert all(m.verified for m in thread if m is not forged_kept[0])


async def test_first_contact_cap_bounds_backscatter_but_not_the_conversation(mail: Harness, clock: FixedClock) -> None:
    mail.app.receiver.first_contact_per_hour = 2
    for n in range(4):  # four unsolicited first contacts (e.g. forged senders): two answered
        raw, _ = message(f"message {n}", sender=f"someone{n}@example.org")
        assert (await mail.send(raw, mail_from=f"someone{n}@example.org")).data == 250
    await mail.pump()
    answered = sorted(str(m["To"]) for m in mail.relay.messages)
    assert len(answered) == 2 and len(set(answered)) == 2
    ours = next(str(m["Message-ID"]) for m in mail.relay.messages if str(m["To"]) == answered[0])
    for n in range(6):  # the conversation in a thread we started is never throttled
        raw, _ = message(f"Organisation name: NGO {n}", sender=answered[0], subject="Re: form", in_reply_to=ours)
        assert len(await mail.exchange(raw, mail_from=answered[0])) == 1
    async with mail.app.store.read() as uow:
        rows = await uow.inbox.list()
    assert len(rows) == 10 and {r.status for r in rows} == {"done"}  # the unanswered ones are kept in the inbox
    clock.advance(hours=1, seconds=1)
    raw, _ = message("an hour later", sender="someone9@example.org")
    assert len(await mail.exchange(raw, mail_from="someone9@example.org")) == 1


async def test_staff_follow_up_is_threaded_and_the_answer_requeues(mail: Harness) -> None:
    raw, _ = message("first")
    form = (await mail.exchange(raw))[0]
    ref = str(form["Subject"])[1:13]
    async with mail.app.store.write() as uow:
        case = await uow.cases.by_reference(ref, lock=True)
        assert case is not None
        case.status = lifecycle.NEEDS_INFO  # as the review service leaves it after "request info"
        await uow.cases.save(case, now=mail.app.clock())
        await uow.outbox.enqueue(channel="email", kind="followup", payload={"text": "Which port did the vessel use?", "reference": ref},
                                 now=mail.app.clock(), case_id=case.id, submitter_id=case.submitter_id)
    await mail.pump()
    follow = mail.relay.messages[-1]
    assert str(follow["Subject"]).startswith(f"[{ref}] A question about your case {{") and follow["To"] == SENDER
    assert str(follow["Reply-To"]).startswith(f"cases+{ref}.")  # the case's capability
    assert follow["In-Reply-To"] == form["Message-ID"]  # the last email of the thread
    assert "Auto-Submitted" not in follow and "Which port did the vessel use?" in text_of(follow)
    answer, _ = message("Lagos, mostly.", subject="Re: a question", in_reply_to=str(follow["Message-ID"]))
    await mail.exchange(answer)
    async with mail.app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None and case.status == lifecycle.SUBMITTED
        thread = await uow.messages.for_case(case.id)
    assert [m.verified for m in thread if m.body.startswith("Lagos")] == [True]


async def test_outbox_retries_with_backoff_then_fails_permanently(mail: Harness, clock: FixedClock) -> None:
    real = mail.channel.sender.relay
    mail.channel.sender.relay = Relay("127.0.0.1", 1)  # nothing listens there
    raw, _ = message("first")
    assert (await mail.send(raw)).data == 250
    await mail.pump()
    async with mail.app.store.read() as uow:
        row = (await uow.outbox.list(status="pending"))[0]
    assert row.attempts == 1 and row.next_attempt_at == clock() + backoff(1) and row.last_error and "unreachable" in row.last_error
    mail.channel.sender.relay = real
    mail.relay.refuse = "550 5.1.1 mailbox unavailable"
    clock.advance(seconds=6)
    await mail.pump()
    async with mail.app.store.read() as uow:
        failed = await uow.outbox.list(status="failed")
    assert [f.id for f in failed] == [row.id] and "550" in (failed[0].last_error or "")
    mail.relay.refuse = None
    async with mail.app.store.write() as uow:
        await uow.outbox.requeue(row.id, now=clock())
    await mail.pump()
    assert len(mail.relay.messages) == 1


async def test_processing_failure_is_kept_as_failed_and_retryable(mail: Harness, monkeypatch: pytest.MonkeyPatch, clock: FixedClock) -> None:
    async def boom(*args: object, **kwargs: object) -> object:
        raise RuntimeError("Organisation name: secret content")

    monkeypatch.setattr(mail.app.receiver, "receive", boom)
    raw, _ = message("Organisation name: Kept NGO")
    assert (await mail.send(raw)).data == 250
    for _ in range(5):  # retried with backoff, then kept as failed
        await mail.pump()
        clock.advance(seconds=61)
    async with mail.app.store.read() as uow:
        (row,) = await uow.inbox.list()
    assert row.status == "failed" and row.error == "failed 5 times: RuntimeError"
    monkeypatch.undo()
    async with mail.app.store.write() as uow:
        await uow.inbox.requeue(row.id, now=mail.app.clock())
    await mail.pump()
    async with mail.app.store.read() as uow:
        (row,) = await uow.inbox.list()
    assert row.status == "done" and len(mail.relay.messages) == 1


async def test_reply_on_submitted_case_lands_on_thread_with_attachment(mail: Harness) -> None:
    raw, _ = message("first")
    form = (await mail.exchange(raw))[0]
    ref = str(form["Subject"])[1:13]
    async with mail.app.store.write() as uow:
        case = await uow.cases.by_reference(ref, lock=True)
        assert case is not None
        case.status = lifecycle.SUBMITTED
        await uow.cases.save(case, now=mail.app.clock())
    photo = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    raw, _ = message("One more photo.", subject=f"[{ref}] more", in_reply_to=str(form["Message-ID"]), attachments=[("photo.png", "image/png", photo), ("run.exe", "application/octet-stream", b"MZ\x90\x00")])
    ack = (await mail.exchange(raw))[0]
    assert "added to case" in flat_text(ack)
    async with mail.app.store.read() as uow:
        files = await uow.attachments.for_case(case.id)
        thread = await uow.messages.for_case(case.id)
    assert sorted((f.filename, f.sniffed_type, f.executable) for f in files) == [("photo.png", "image/png", False), ("run.exe", "application/x-msdownload", True)]
    assert any(m.body.startswith("One more photo") for m in thread)
