"""Issue 9: replies written the way real mail clients write them, each taken from the first
contact to a submitted case whose answers equal exactly what was typed, in two replies (the form
filled in, then SUBMIT above the quoted review).

Styles: Gmail plain text (answers inline under the quoted labels, the quote re-wrapped at 76),
Outlook (top-posted, hard-wrapped at 76, the original unquoted under a "From: … Sent: …" block),
Thunderbird (format=flowed, inline answers, a signature), Apple Mail (top-posted above
"On … wrote:" and a `>` quote), a phone's HTML-only client (answers in <div>s, our mail in a
<blockquote>), and a top-posting person who types SUBMIT above the quoted review."""

from __future__ import annotations

import html
import textwrap
from email.message import EmailMessage

import pytest

from intake import engine, lifecycle
from intake.questionnaire import Questionnaire
from mail.form import label_for
from tests.mail.conftest import Harness
from tests.mail.support import complete_answers, flat_text, message, text_of

STYLES = ["gmail", "outlook", "thunderbird", "apple", "html_phone", "top_poster"]
ON_WROTE = "On Mon, 2 Nov 2026 at 12:00, Cases <cases@intake.example> wrote:"
OUTLOOK_BLOCK = "________________________________\nFrom: Cases <cases@intake.example>\nSent: Monday, 2 November 2026 12:00\nTo: ngo@example.org\nSubject: {subject}\n"


def labelled(q: Questionnaire, answers: dict[str, str]) -> list[tuple[str, str]]:
    return [(label_for(q, engine.parse_path(k), "en"), v) for k, v in answers.items()]


def quote(text: str, width: int | None = None) -> str:
    lines: list[str] = []
    for line in text.split("\n"):
        lines.extend(textwrap.wrap(line, width) if width and len(line) > width else [line])
    return "\n".join(("> " + line).rstrip() for line in lines)


def inline(ours: str, pairs: list[tuple[str, str]], *, width: int | None) -> str:
    """Our mail quoted, each answer typed (unquoted) under its quoted label; labels our mail did not
    carry (questions opened by earlier answers) typed below the quote."""
    lines = ours.split("\n")
    out: list[str] = []
    rest = dict(pairs)
    for line in lines:
        out.append(quote(line, width))
        head = line.split(":", 1)[0].replace(" (optional)", "").strip()
        if line.rstrip().endswith(":") and head in rest:
            out.extend(rest.pop(head).split("\n"))  # the quoted hint follows at once, as people type
    tail = [f"{label}: {value}\n" for label, value in rest.items()]
    return "\n".join(out) + "\n\n" + "\n".join(tail)


def flowed(text: str) -> str:
    """RFC 3676 encoding: long lines soft-broken at 66 with a trailing space, quotes kept."""
    out: list[str] = []
    for line in text.split("\n"):
        prefix = ""
        while line.startswith(">"):
            prefix += ">"
            line = line[1:].lstrip(" ")
        pad = prefix + (" " if prefix else "")
        if line == "-- " or len(line) <= 66:
            out.append(pad + line)
            continue
        parts = textwrap.wrap(line, 66, break_on_hyphens=False, drop_whitespace=False)
        out.extend(pad + p if p.endswith(" ") or i == len(parts) - 1 else pad + p + " " for i, p in enumerate(parts))
    return "\n".join(out)


def typed(label: str, value: str, width: int | None = None) -> str:
    line = f"{label}: {value}"
    if width is None or "\n" in value:
        return line
    return "\n".join(textwrap.wrap(line, width, break_on_hyphens=False))


def reply(style: str, ours: EmailMessage, pairs: list[tuple[str, str]] | None, submit: bool = False) -> tuple[str, str | None]:
    """(plain body, HTML body) of a reply in `style` to our mail `ours`: the answers, or SUBMIT."""
    body = text_of(ours)
    subject = str(ours["Subject"])
    top = "SUBMIT" if submit else "\n\n".join(typed(label, value, 76 if style == "outlook" else None) for label, value in pairs or [])
    if style == "gmail" and not submit:
        return inline(body, pairs or [], width=76) + "\n-- \nField Office\n", None
    if style == "thunderbird" and not submit:
        return flowed(inline(body, pairs or [], width=None) + "\n-- \nJane Doe, Field Office"), None
    if style == "outlook":
        return top + "\n\nKind regards,\nField Office\n\n" + OUTLOOK_BLOCK.format(subject=subject) + "\n" + body, None
    if style == "html_phone":
        divs = "".join(f"<div>{html.escape(line) or '<br>'}</div>" for line in top.split("\n"))
        quoted = "".join(f"<div>{html.escape(line) or '<br>'}</div>" for line in body.split("\n"))
        return "", f"<html><body>{divs}<div><br></div><div>Sent from my phone</div><blockquote type=\"cite\">{quoted}</blockquote></body></html>"
    # apple, top_poster, and SUBMIT in every style: above "On … wrote:" and the quote
    return top + "\n\n" + ON_WROTE + "\n\n" + quote(body) + "\n", None


@pytest.mark.parametrize("style", STYLES)
async def test_client_style_reaches_submitted_with_exactly_the_typed_answers(mail: Harness, style: str) -> None:
    q = mail.app.questionnaire
    raw, _ = message("We document forced labour on fishing vessels.")
    (form,) = await mail.exchange(raw)
    ref = str(form["Subject"])[1:13]
    answers, expected = complete_answers(q)
    pairs = labelled(q, answers)
    plain, markup = reply(style, form, pairs)
    if style == "thunderbird":
        raw, _ = message(plain, subject="Re: " + str(form["Subject"]), in_reply_to=str(form["Message-ID"]))
        raw = raw.replace(b"Content-Type: text/plain; charset=\"utf-8\"", b"Content-Type: text/plain; charset=\"utf-8\"; format=flowed")
        assert b"format=flowed" in raw
    else:
        raw, _ = message(plain, html=markup, subject="Re: " + str(form["Subject"]), in_reply_to=str(form["Message-ID"]))
    (ready,) = await mail.exchange(raw)
    assert "reply SUBMIT" in flat_text(ready) and "Not accepted" not in text_of(ready), text_of(ready)[:3000]
    plain, markup = reply(style, ready, None, submit=True)
    raw, _ = message(plain, html=markup, subject="Re: " + str(ready["Subject"]), in_reply_to=str(ready["Message-ID"]))
    (done,) = await mail.exchange(raw)
    assert "has been sent to our staff" in flat_text(done), text_of(done)[:3000]
    assert "Not accepted" not in text_of(done) and "Accepted:" not in text_of(done)  # nothing re-read from the quoted review
    async with mail.app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
    assert case is not None and case.status == lifecycle.SUBMITTED
    assert case.draft["answers"] == expected.answers
