"""End to end, as `intake run` serves it: the channel's components running in the loop, a case
taken from the first mail to `submitted` only by replying to the mails that reach the relay."""

from __future__ import annotations

import asyncio
import hashlib

from intake import lifecycle
from intake.app import App
from mail import runtime
from mail.relay import Relay
from mail.server import MailServer
from tests.mail.conftest import CaptureRelay, smtp_send
from tests.mail.support import complete_answers, flat_text, form_text, message, text_of


async def test_first_mail_to_submitted_by_replying(app: App, relay_server: tuple[CaptureRelay, int]) -> None:
    relay, relay_port = relay_server
    app.settings.smtp_port = 0
    app.settings.relay_url = f"smtp://127.0.0.1:{relay_port}"
    components = app.components() + await runtime.components(app)
    names = [c.name for c in components]
    assert names[-1] == "smtp" and {"delivery worker", "inbox worker"} <= set(names)  # the core's parts, then the mail server
    for component in components:
        await component.start()
    server = components[-1]
    assert isinstance(server, MailServer)
    try:
        async def send(raw: bytes) -> None:
            result = await asyncio.to_thread(smtp_send, server.port, raw)
            assert result.data == 250

        evidence = b"%PDF-1.7 contract scan" * 50
        raw, _ = message("We hold evidence of debt bondage on a fishing fleet.", attachments=[("contract.pdf", "application/pdf", evidence)])
        await send(raw)
        (form,) = await relay.wait(1)
        ref = str(form["Subject"])[1:13]
        answers, expected = complete_answers(app.questionnaire)
        reply = form_text(app.questionnaire, answers) + "\n\n> " + text_of(form).replace("\n", "\n> ")
        raw, _ = message(reply, subject="Re: " + str(form["Subject"]), in_reply_to=str(form["Message-ID"]))
        await send(raw)
        ready = (await relay.wait(2))[1]
        assert "reply SUBMIT" in flat_text(ready)
        raw, _ = message("SUBMIT", subject="Re: " + str(ready["Subject"]), in_reply_to=str(ready["Message-ID"]))
        await send(raw)
        done = (await relay.wait(3))[2]
        assert ref in str(done["Subject"]) and "has been sent to our staff" in flat_text(done)
    finally:
        for component in reversed(components):
            await component.stop()
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        files = await uow.attachments.for_case(case.id)
        inbox = await uow.inbox.list()
    assert case.status == lifecycle.SUBMITTED
    assert case.draft["answers"] == expected.answers
    assert [f.sha256 for f in files] == [hashlib.sha256(evidence).hexdigest()]
    assert {r.status for r in inbox} == {"done"} and len(inbox) == 3


def test_relay_url_forms() -> None:
    assert Relay.from_url("smtp://127.0.0.1:25") == Relay("127.0.0.1", 25)
    assert Relay.from_url("smtps://user:p%40ss@mail.example.org") == Relay("mail.example.org", 465, True, False, "user", "p@ss")
    assert Relay.from_url("smtp+starttls://mail.example.org:587").start_tls is True
