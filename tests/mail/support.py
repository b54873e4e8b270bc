"""Building test emails and a complete, valid filled-in form."""

from __future__ import annotations

import itertools
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from intake import engine
from intake.engine import Draft
from intake.questionnaire import FieldType, Question, Questionnaire
from mail.form import label_for
from tests.mail.conftest import ADDRESS, SENDER

_counter = itertools.count(1)

RAW_BY_TYPE = {
    FieldType.TEXT: "Sample text {qid}",
    FieldType.LONG_TEXT: "A longer answer for {qid}.\nSecond line.",
    FieldType.EMAIL: "contact@example.org",
    FieldType.URL: "https://example.org/report",
    FieldType.NUMBER: "12",
    FieldType.COUNTRY: "Nigeria",
    FieldType.DATE: "2021-03",
}
YES_NO = {"is_channel_safe": "yes", "immediate_danger": "no", "declaration": "yes", "identities_held": "no", "anonymised_ack": "yes"}
SPECIAL = {"abuse_dates": "2019 to 2021", "org_name": "Asociación Niñez Libre", "contact_name": "Zoë Ñúñez"}


def message(
    body: str = "Hello, we want to report a case.",
    *,
    subject: str = "A case",
    sender: str = SENDER,
    msgid: str | None = None,
    in_reply_to: str | None = None,
    html: str | None = None,
    charset: str = "utf-8",
    attachments: list[tuple[str, str, bytes]] | None = None,
    headers: dict[str, str] | None = None,
    crlf: bool = True,
) -> tuple[bytes, str]:
    """A test email as bytes, and its Message-ID."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ADDRESS
    msg["Subject"] = subject
    mid = msgid or make_msgid(f"t{next(_counter)}", domain="example.org")
    msg["Message-ID"] = mid
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    for name, value in (headers or {}).items():
        msg[name] = value
    if html is not None and body == "":
        msg.set_content(html, subtype="html", charset=charset)
    else:
        msg.set_content(body, charset=charset)
        if html is not None:
            msg.add_alternative(html, subtype="html", charset=charset)
    for filename, ctype, data in attachments or []:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    raw = msg.as_bytes()
    if crlf:
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return raw, mid


def raw_value(question: Question) -> str:
    if question.id in SPECIAL:
        return SPECIAL[question.id]
    match question.type:
        case FieldType.YES_NO:
            return YES_NO.get(question.id, "no")
        case FieldType.SINGLE_CHOICE:
            return "1"
        case FieldType.MULTI_CHOICE:
            return "1, 2"
    return RAW_BY_TYPE[question.type].format(qid=question.id)


def complete_answers(q: Questionnaire, lang: str = "en") -> tuple[dict[str, str], Draft]:
    """Raw answers (path → text) to every applicable question, and the draft the engine makes of them."""
    draft = engine.start(lang)
    raw: dict[str, str] = {}
    for _ in range(10):
        added = False
        for slot in engine.slots(q, draft):
            if slot.kind != "question" or slot.key in raw:
                continue
            question = slot.item
            assert isinstance(question, Question)
            if question.type == FieldType.FILES:
                continue
            raw[slot.key] = raw_value(question)
            outcome = engine.set_answer(q, draft, slot.path, raw[slot.key])
            assert outcome.ok, (slot.key, outcome.error)
            draft = outcome.draft
            added = True
        if not added:
            break
    assert not engine.missing(q, draft)
    return raw, draft


def form_text(q: Questionnaire, answers: dict[str, Any], *, style: str = "inline", lang: str = "en") -> str:
    """A filled-in form: one labelled line per answer (`inline`), the answer on the next line
    (`nextline`), or labels in another case and spacing with numbering (`sloppy`)."""
    lines: list[str] = []
    for n, (key, value) in enumerate(answers.items(), 1):
        label = label_for(q, engine.parse_path(key), lang)
        if style == "nextline":
            lines += [f"{label}:", str(value), ""]
        elif style == "sloppy":
            lines += [f"{n}.  {label.upper().replace(' ', '  ')} :   {value}", ""]
        else:
            lines += [f"{label}: {value}", ""]
    return "\n".join(lines)


def answers_of(draft: Draft) -> dict[str, Any]:
    return draft.answers


def text_of(msg: EmailMessage) -> str:
    """The text body of a captured mail with LF line ends."""
    return str(msg.get_content()).replace("\r\n", "\n")


def flat_text(msg: EmailMessage) -> str:
    """The text body with every run of whitespace as one space (our mails wrap at 78 columns)."""
    return " ".join(text_of(msg).split())
