"""Issue 4, as an operator sees it: with `intake run` (a real subprocess), `smtplib` to its SMTP port
takes a case from the first message to `submitted` only by replying to the mails that arrive at the
relay (a second aiosmtpd in this process), and the case appears in `intake review show REF --json`
with every answer and the attachment's hash. Ctrl-C then stops it cleanly."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from intake.cases import REF_PATTERN
from intake.questionnaire import load_default
from tests.e2e_support import IntakeRun, intake_cli, wait_for
from tests.mail.conftest import CaptureRelay, smtp_send, start_relay
from tests.mail.support import complete_answers, flat_text, form_text, text_of
from tests.test_cli import env_for, intake

Q = load_default()
INTAKE_ADDRESS = "cases@localhost"  # `intake run`'s default INTAKE_MAIL_ADDRESS
SENDER = "field-office@ngo.example.org"
STAFF = "reviewer@hr-org.example"



def mail(body: str, *, subject: str, in_reply_to: str | None = None, attachment: tuple[str, str, bytes] | None = None) -> bytes:
    """A message as a mail client writes it (CRLF line ends)."""
    msg = EmailMessage()
    msg["From"] = f"Field Office <{SENDER}>"
    msg["To"] = INTAKE_ADDRESS
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid("e2e", domain="ngo.example.org")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body)
    if attachment is not None:
        filename, ctype, data = attachment
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def quoted(original: EmailMessage) -> str:
    return "\n\n> " + text_of(original).replace("\n", "\n> ")


@pytest.fixture
async def relay() -> AsyncIterator[tuple[CaptureRelay, int]]:
    catcher, server, port = await start_relay()
    try:
        yield catcher, port
    finally:
        server.close()
        await server.wait_closed()


async def test_intake_run_takes_a_case_by_email_to_submitted(tmp_path: Path, db_url: str, relay: tuple[CaptureRelay, int]) -> None:
    catcher, relay_port = relay
    env = env_for(tmp_path, db_url)
    env.update(INTAKE_RELAY_URL=f"smtp://127.0.0.1:{relay_port}")
    smtp_port = int(env["INTAKE_SMTP_PORT"])
    run = IntakeRun(env, tmp_path / "intake-run.log")

    async def send(raw: bytes) -> None:
        result = await asyncio.to_thread(smtp_send, smtp_port, raw, mail_from=SENDER, rcpt=[INTAKE_ADDRESS])
        assert result.rcpt == [250] and result.data == 250, result

    async def next_mail(count: int, what: str) -> EmailMessage:
        """The `count`-th mail to reach the relay (bounded wait); nothing else may have arrived."""
        await wait_for(lambda: len(catcher.messages) >= count or None, what, run)
        assert len(catcher.messages) == count, [str(m["Subject"]) for m in catcher.messages]
        assert catcher.envelopes[count - 1][1] == [SENDER]
        return catcher.messages[count - 1]

    try:
        await wait_for(lambda: "started smtp" in run.output() or None, "the SMTP server to start", run)

        # 1. the first message: a narrative and a piece of evidence
        evidence = b"%PDF-1.7\n% scanned recruitment contract\n" + bytes(range(256)) * 40
        narrative = "We hold evidence of debt bondage on a fishing fleet operating out of Lagos."
        await send(mail(narrative, subject="Report of forced labour", attachment=("contract.pdf", "application/pdf", evidence)))
        form = await next_mail(1, "the auto-reply with the form")
        found = re.search(r"\[(" + REF_PATTERN + r")\]", str(form["Subject"]))
        assert found, form["Subject"]
        ref = found.group(1)
        assert str(form["Auto-Submitted"]).startswith("auto-replied")
        assert "Organisation name:" in text_of(form)

        # 2. the form filled in, quoting the auto-reply under it, threaded by In-Reply-To
        answers, expected = complete_answers(Q)
        await send(mail(form_text(Q, answers) + quoted(form), subject="Re: " + str(form["Subject"]), in_reply_to=str(form["Message-ID"])))
        ready = await next_mail(2, "the 'reply SUBMIT' mail")
        assert ref in str(ready["Subject"]) and "reply SUBMIT" in flat_text(ready), text_of(ready)[:2000]

        # 3. SUBMIT
        await send(mail("SUBMIT", subject="Re: " + str(ready["Subject"]), in_reply_to=str(ready["Message-ID"])))
        done = await next_mail(3, "the confirmation")
        assert ref in str(done["Subject"]) and "has been sent to our staff" in flat_text(done), text_of(done)[:2000]

        # what the operator sees, while `intake run` is still serving
        shown = await asyncio.to_thread(intake_cli, ["review", "show", ref, "--json"], env)
        assert shown.returncode == 0, shown.stderr
        view = json.loads(shown.stdout)
        assert view["reference"] == ref and view["status"] == "submitted" and view["channel"] == "email"
        assert view["answers"] == expected.answers
        assert view["missing"] == []
        assert [(a["filename"], a["sha256"], a["size"]) for a in view["attachments"]] == [
            ("contract.pdf", hashlib.sha256(evidence).hexdigest(), len(evidence))
        ]
        inbound = [m["body"] or "" for m in view["thread"] if m["direction"] == "in"]
        assert any(narrative in body for body in inbound), inbound  # the first message is kept on the case

        # 4. staff reopen the date of birth from the terminal; the submitter gets it as a form
        added = await asyncio.to_thread(intake, ["staff", "add", STAFF, "--role", "reviewer", "--password-stdin"], env,
                                        "correct horse battery staple 42\n")
        assert added.returncode == 0, added.stderr
        asked = await asyncio.to_thread(intake_cli, ["review", "request-info", ref, "Could you add the date of birth?",
                                                     "--reopen", "perp_dob", "--as", STAFF], env)
        assert asked.returncode == 0, asked.stderr
        follow = await next_mail(4, "the staff follow-up")
        assert "Alleged perpetrator 1 — Date of birth (optional):" in text_of(follow), text_of(follow)
        assert "What is their date of birth?" in text_of(follow)

        # 5. answered the way Gmail writes it: the follow-up quoted, the answer typed under its label
        lines = []
        for line in text_of(follow).split("\n"):
            lines.append(("> " + line).rstrip())
            if line.startswith("Alleged perpetrator 1 — Date of birth"):
                lines.append("about 1975-06")
        await send(mail("\n".join(lines) + "\n\n-- \nField Office\n", subject="Re: " + str(follow["Subject"]),
                        in_reply_to=str(follow["Message-ID"])))
        ack = await next_mail(5, "the acknowledgement")
        assert "Added to the case:" in text_of(ack), text_of(ack)
        shown = await asyncio.to_thread(intake_cli, ["review", "show", ref, "--json"], env)
        view = json.loads(shown.stdout)
        assert view["status"] == "submitted"  # back in the queue
        assert view["answers"]["perpetrators"][0]["perp_dob"] == {"date": "1975-06", "approx": True}
        history = [m["body"] for m in view["thread"] if m["kind"] == "answers"]
        assert len(history) == 1 and "Date of birth" in history[0] and "before: 2021-03" in " ".join(history[0].split())

        code = await run.interrupt()
        output = run.output()
        assert code == 0, output[-3000:]
        assert "Traceback" not in output, output[-3000:]
        assert len(catcher.messages) == 5  # nothing more was sent
    finally:
        run.kill()
