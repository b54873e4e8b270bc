"""The email channel on the pipeline (issue 8): duplicates, a crash between every pair of steps of
`receive`, staff alerts by email with Telegram off, a reused Message-ID, relay sessions reused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from intake import lifecycle
from intake.app import App
from intake.settings import Settings
from tests.conftest import TEST_KEY
from tests.mail.conftest import ADDRESS, SENDER, Harness
from tests.mail.support import complete_answers, flat_text, form_text, message, text_of
from tests.support import FixedClock

STAFF = "alerts@ngo-staff.example"
STEPS = ["found", "kept", "applied", "queued", "done"]


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        env="test", data_dir=tmp_path / "data", database_url=db_url, secret_keys=TEST_KEY, mail_address=ADDRESS,
        autoreply_per_hour=100, staff_alert_email=STAFF, public_url="https://console.ngo.example",
        _env_file=None,  # type: ignore[call-arg]
    )


async def state(app: App) -> dict[str, Any]:
    """Everything a retried input could double: cases, thread, files, answers, queued mail, audit."""
    async with app.store.read() as uow:
        submitter = await uow.submitters.find(channel="email", identity=SENDER)
        cases = list(await uow.cases.for_submitter(submitter.id)) if submitter else []
        out: dict[str, Any] = {"cases": [(c.reference, c.status, c.draft.get("answers")) for c in cases]}
        for c in cases:
            out[c.reference + ":thread"] = sorted((m.kind, m.body, m.verified) for m in await uow.messages.for_case(c.id))
            out[c.reference + ":files"] = sorted(a.sha256 for a in await uow.attachments.for_case(c.id))
            out[c.reference + ":audit"] = sorted(a.action for a in await uow.audit.for_case(c.id))
        out["outbox"] = sorted((r.channel, r.kind, r.status) for r in await uow.outbox.list(limit=1000))
        out["inbox"] = sorted(r.status for r in await uow.inbox.list())
    return out


async def first_contact(mail: Harness) -> tuple[str, str]:
    raw, _ = message("We document forced labour on fishing vessels.")
    (reply,) = await mail.exchange(raw)
    return str(reply["Subject"])[1:13], str(reply["Message-ID"])


async def test_the_same_email_twice_is_one_result_and_one_reply(mail: Harness) -> None:
    raw, _ = message("Organisation name: Twice NGO", attachments=[("a.pdf", "application/pdf", b"%PDF-1.4 one")])
    assert (await mail.send(raw)).data == 250
    assert (await mail.send(raw)).data == 250  # the sending server retried after a lost 250
    relayed = raw.replace(b"From: ", b"Received: from mx2.example.org by intake; Mon, 2 Nov 2026 12:00:00 +0000\r\nFrom: ", 1)
    assert (await mail.send(relayed)).data == 250  # the same message by another hop: a trace header more
    await mail.pump()
    after = await state(mail.app)
    assert after["inbox"] == ["done"]
    assert len(mail.relay.messages) == 1
    (ref, _, answers), = after["cases"]
    assert answers == {"org_name": "Twice NGO"} and len(after[ref + ":files"]) == 1


async def test_a_reused_message_id_with_new_content_is_kept(mail: Harness) -> None:
    ref, our_mid = await first_contact(mail)
    one, mid = message("Organisation name: First NGO", subject=f"Re: [{ref}]", in_reply_to=our_mid,
                       attachments=[("one.txt", "text/plain", b"first file")])
    two, _ = message("Case title: Second message", subject=f"Re: [{ref}]", in_reply_to=our_mid, msgid=mid,
                     attachments=[("two.txt", "text/plain", b"second file")])
    assert len(await mail.exchange(one)) == 1
    assert len(await mail.exchange(two)) == 1  # same Message-ID, other content: a message of its own
    after = await state(mail.app)
    assert after["inbox"] == ["done", "done", "done"]
    bodies = [body for _, body, _ in after[ref + ":thread"]]
    assert sum("First NGO" in b for b in bodies) == 1 and sum("Second message" in b for b in bodies) == 1
    assert len(after[ref + ":files"]) == 2
    answers = after["cases"][0][2]
    assert answers["org_name"] == "First NGO" and answers["case_title"] == "Second message"


class Crash(Exception):
    """The fault the test injects."""


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("scenario", ["first_contact", "form_and_submit", "thread_reply"])
async def test_a_crash_between_any_two_steps_leaves_one_state_and_one_reply(mail: Harness, clock: FixedClock, step: str, scenario: str) -> None:
    """The crash rolls back the whole receive: after the retry, the state and the mail sent are
    exactly those of an uninterrupted run (run in a second, fault-free world for comparison)."""
    q = mail.app.questionnaire
    ref = our_mid = ""
    if scenario != "first_contact":
        ref, our_mid = await first_contact(mail)
    if scenario == "thread_reply":
        async with mail.app.store.write() as uow:
            case = await uow.cases.by_reference(ref, lock=True)
            assert case is not None
            case.status = lifecycle.NEEDS_INFO
            await uow.cases.save(case, now=clock())
    answers, expected = complete_answers(q)
    body = {"first_contact": "Our narrative.", "form_and_submit": form_text(q, answers) + "\nSUBMIT\n", "thread_reply": "The port was Lagos."}[scenario]
    raw, _ = message(body, subject=f"Re: [{ref}]" if ref else "A case", in_reply_to=our_mid or None,
                     attachments=[("evidence.pdf", "application/pdf", b"%PDF-1.4 " + scenario.encode())])
    before = len(mail.relay.messages)
    crashes: list[str] = []

    def fault(name: str) -> None:
        if name == step and not crashes:
            crashes.append(name)
            raise Crash(name)

    mail.app.receiver.fault = fault
    assert (await mail.send(raw)).data == 250
    await mail.pump()
    assert crashes == [step]
    assert len(mail.relay.messages) == before  # nothing was sent for the crashed attempt
    async with mail.app.store.read() as uow:
        (row,) = [r for r in await uow.inbox.list() if r.raw == raw]
    assert row.status == "new" and row.error == "Crash"
    clock.advance(seconds=2)
    await mail.pump()  # the retry
    mail.app.receiver.fault = None
    await mail.pump()
    new = mail.relay.messages[before:]
    after = await state(mail.app)
    assert len(new) == (1 if scenario == "first_contact" else 2), [str(m["Subject"]) for m in new]  # + the staff alert
    assert all(v == "done" for v in after["inbox"])
    (reference, status, stored), = after["cases"]
    files = after[reference + ":files"]
    thread = after[reference + ":thread"]
    assert len(files) == 1
    assert sum(1 for kind, text, _ in thread if text.startswith(body[:12])) == 1
    if scenario == "form_and_submit":
        assert status == lifecycle.SUBMITTED and stored == expected.answers
        assert sorted(str(m["To"]) for m in new) == sorted([SENDER, STAFF])
        assert after[reference + ":audit"].count("case.submitted") == 1
    elif scenario == "thread_reply":
        (ack,) = [m for m in new if str(m["To"]) == SENDER]
        assert status == lifecycle.SUBMITTED and "added to case" in flat_text(ack)
    else:
        assert status == lifecycle.DRAFT and "Organisation name:" in text_of(new[0])


async def test_staff_alerts_reach_the_alert_address_with_telegram_off(mail: Harness) -> None:
    assert mail.app.settings.telegram_token is None and mail.app.cases.alert_channels == ["staff_email"]
    ref, our_mid = await first_contact(mail)
    answers, _ = complete_answers(mail.app.questionnaire)
    raw, _ = message(form_text(mail.app.questionnaire, answers) + "\nSUBMIT\n", subject=f"Re: [{ref}]", in_reply_to=our_mid)
    out = await mail.exchange(raw)
    (alert,) = [m for m in out if str(m["To"]) == STAFF]
    assert str(alert["Subject"]) == f"[{ref}] New case submitted"
    body = text_of(alert)
    assert f"https://console.ngo.example/cases/{ref}" in body
    assert body.strip().count("\n") <= 3  # the reference and the link, nothing else
    for value in answers.values():  # no case content at all
        assert len(value) < 6 or value not in body
    assert mail.relay.envelopes[-2:].count((ADDRESS, [STAFF])) == 1
    # a reply on a case waiting for information: the reply alert, again without content
    async with mail.app.store.write() as uow:
        case = await uow.cases.by_reference(ref, lock=True)
        assert case is not None
        case.status = lifecycle.NEEDS_INFO
        await uow.cases.save(case, now=mail.app.clock())
    raw, _ = message("Secret detail about the port.", subject=f"Re: [{ref}] question", in_reply_to=our_mid)
    out = await mail.exchange(raw)
    (alert,) = [m for m in out if str(m["To"]) == STAFF]
    assert str(alert["Subject"]) == f"[{ref}] The submitter replied" and "Secret" not in text_of(alert)


async def test_one_relay_session_carries_a_batch(mail: Harness) -> None:
    for n in range(6):
        raw, _ = message(f"hello {n}", sender=f"s{n}@example.org")
        assert (await mail.send(raw, mail_from=f"s{n}@example.org")).data == 250
    await mail.pump()
    assert len(mail.relay.messages) == 6
    assert mail.channel.sender.pool.opened <= 2  # sessions are reused, not one per mail
