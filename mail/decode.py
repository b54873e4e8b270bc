"""The email decoder: one stored inbox row → one `Inbound` → `receive`, with the reply renderer.

Parsing (MIME, HTML, the reply parser, the form) runs in a worker thread, so a big message never
stalls the SMTP server or the console on the event loop. The decoder works out:

- the identity (the `From:` address, else the envelope sender) and why the mail is automated
  (RFC 3834 rules in `mail.loops`): machine mail changes nothing and gets no reply;
- the case it names: a reference in the subject or in a `+tag` of the recipient address, and the
  thread keys (`References`, then `In-Reply-To`, the latter tried first by the core);
- the form answers, read against the language of the sender's open draft (English labels are
  always accepted), and whether the person asked to SUBMIT;
- the attachments, each keyed by the message's dedup key and position (stored once);
- the `Authentication-Results` our own MTA recorded (`INTAKE_MAIL_TRUSTED_AUTHSERV_ID`): audited
  with the message; a failed DMARC check proves nothing and starts nothing (`Inbound.forged`).

`receive` then applies all of it in one transaction (see `intake.receive.Receiver._form`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from dataclasses import dataclass

from intake import languages
from intake.app import App
from intake.cases import REF_PATTERN, IncomingFile
from intake.channels import Channel, InboxRecord
from intake.engine import Draft
from intake.inbound import Inbound, Intent
from intake.questionnaire import Questionnaire
from mail import authentication
from mail.capability import proven_reference
from mail.form import norm, parse_form, sent_lines, unquote, wants_submit, wants_withdraw
from mail.formtext import wrap_lines
from mail.loops import no_autoreply_reason, split_address
from mail.notice import notice_body
from mail.parse import ParsedMessage, dedup_key
from mail.reply import render_reply, thread_meta
from mail.sender import our_message_id
from mail.worker import parse_bounded

log = logging.getLogger(__name__)
CHANNEL = Channel.EMAIL
REF_RE = re.compile(r"\[?\s*(" + REF_PATTERN + r")\s*\]?", re.IGNORECASE)


@dataclass
class Reading:
    """What the form reader found in a message body."""

    answers: dict[str, str]
    submit: bool


def read_form(q: Questionnaire, langs: str | tuple[str, ...], msg: ParsedMessage, sent_body: str | None = None) -> Reading:
    """The answers, labels in `langs` (the chosen language first, then the draft's) and in English.
    Replying to a mail of ours whose text we know (`sent_body`), the whole body is read against
    it: what we sent is never an answer, a label of ours with the person's answer below it counts.
    Otherwise the newest part of the message (quotes stripped), else the whole body unquoted.
    CPU-bound: called in a worker thread."""
    sent = sent_lines(sent_body) if sent_body else None
    answers: dict[str, str] = {}
    wanted = (langs,) if isinstance(langs, str) else langs
    for language in dict.fromkeys([*wanted, "en"]):
        if sent is not None:
            found = parse_form(q, language, msg.text, sent=sent)
        else:
            found = parse_form(q, language, msg.reply) or parse_form(q, language, _unquoted(msg.text))
        for key, value in found.items():
            answers.setdefault(key, value)
    return Reading(answers, wants_submit(msg.reply, wanted))


def _unquoted(text: str) -> str:
    """The whole body with its `>` quote markers removed (only read when the newest part has no answers)."""
    return "\n".join(unquote(line) for line in text.split("\n"))


def language_asked(msg: ParsedMessage, sent_body: str | None) -> str | None:
    """The language the person asks for: a `LANGUAGE: es` line (or the form's language line
    changed) in the newest part of the message, else — replying to a mail of ours whose text we
    know — a language line of the quoted form that is not as we sent it."""
    if code := languages.from_language_line(msg.reply):
        return code
    if sent_body is None:
        return None
    ours = sent_lines(sent_body)
    changed = [unquote(line) for line in msg.text.split("\n") if norm(unquote(line)) not in ours]
    return languages.from_language_line("\n".join(changed))


def reference_of(subject: str, rcpt_tos: list[str]) -> str | None:
    """The case reference named in the subject, else in a `+tag` of a recipient address."""
    m = REF_RE.search(subject)
    if m:
        return m.group(1).upper()
    for address in rcpt_tos:
        local = split_address(address)[0]
        if "+" in local:
            m = REF_RE.search(local.split("+", 1)[1])
            if m:
                return m.group(1).upper()
    return None


def files_of(msg: ParsedMessage, key: str) -> list[IncomingFile]:
    """The message's attachments as evidence files, each keyed by the message's dedup key and its
    position, so a message processed twice stores them once and a reused Message-ID does not
    collide with the first message's files."""
    return [
        IncomingFile(
            filename=part.filename, data=part.data, content_type=part.declared_type, sniffed_type=part.sniffed_type,
            executable=part.executable, source_key=f"{key}#{n}",
        )
        for n, part in enumerate(msg.attachments)
    ]


class MailDecoder:
    """The inbox worker's reader of `channel="email"` rows."""

    channel = CHANNEL

    def __init__(self, app: App) -> None:
        self.app = app
        self.q = app.questionnaire
        self.address = app.settings.mail_address
        self.keys = app.settings.master_keys()
        self.domain = split_address(self.address)[1] or "localhost"
        self.trusted_authserv_id = app.settings.mail_trusted_authserv_id

    async def handle(self, row: InboxRecord) -> None:
        """Decode the row and hand it to `receive`; a row without any sender address needs nothing."""
        msg = await parse_bounded(row.raw)
        mail_from = str(row.envelope.get("mail_from") or "")
        identity = msg.from_addr or (mail_from.strip("<>").lower() if "@" in mail_from else None)
        if identity is None:
            log.info("inbox %s: no sender address; nothing to do", row.id)
            return
        key = str(row.envelope.get("key") or "") or await asyncio.to_thread(dedup_key, row.raw)
        rcpt_tos = [str(r) for r in row.envelope.get("rcpt_tos") or []]
        thread_keys = [m for m in msg.references if m not in msg.in_reply_to] + msg.in_reply_to  # the core tries the last first
        proven_ref = proven_reference(self.keys, msg.subject, rcpt_tos)
        stored, reused, proven, sent_body = await self._context(identity, msg, proven_ref, thread_keys)
        auth = authentication.read(msg.auth_results, self.trusted_authserv_id)
        forged = auth is not None and auth.dmarc_failed
        if forged:
            proven = set()  # a failed DMARC check: the From: is not the sender's; nothing is proven
        chosen = await asyncio.to_thread(language_asked, msg, sent_body)
        lang = await asyncio.to_thread(languages.choose, explicit=chosen, stored=stored, hint=msg.lang, text=msg.reply)
        reading = await asyncio.to_thread(read_form, self.q, tuple(dict.fromkeys(x for x in (lang, stored) if x)), msg, sent_body)
        external = msg.message_id
        if external is not None and reused:
            external = f"{external}#{key.rsplit(':', 1)[-1][:16]}"  # a reused Message-ID: this message is another one
        withdraw = wants_withdraw(msg.reply) and bool(proven)  # only a reply that proves its case (token, or a reply to our mail)
        inbound = Inbound(
            intent=Intent.WITHDRAW if withdraw else Intent.FORM,
            key=key,
            lang=lang,
            lang_chosen=chosen is not None,
            text=msg.text,
            files=files_of(msg, key),
            answers=reading.answers,
            submit=reading.submit,
            reference=proven_ref or reference_of(msg.subject, rcpt_tos),
            thread_keys=thread_keys,
            proven=proven,
            auth=auth.as_detail() if auth is not None else None,
            forged=forged,
            external_key=external,
            automated=no_autoreply_reason(msg, mail_from=mail_from, intake=self.address),
            meta=thread_meta(msg.message_id, msg.references),
        )
        result = await self.app.receiver.receive(
            CHANNEL, identity, inbound, render=functools.partial(render_reply, self.q), inbox_id=row.id,
        )
        log.info(
            "inbox %s: %s (case %s, %d answers, defects %d)", row.id,
            "duplicate" if result.duplicate else "forged sender (DMARC failed), nothing started" if forged and result.case_id is None else
            ("submitted" if result.submitted else ("thread" if result.threaded else "draft")),
            result.case_id or "-", len(result.results), len(msg.defects),
        )

    async def _context(
        self, identity: str, msg: ParsedMessage, proven_ref: str | None, thread_keys: list[str],
    ) -> tuple[str | None, bool, set[str], str | None]:
        """The language already known for the sender (their open draft's, else that of the case the
        message names, else the one recorded for them), None for a stranger;
        whether the Message-ID is already on a case thread (then this is a different message
        reusing it: the same message twice is stopped by the inbox's dedup key); and the cases the
        message proves (a valid token, or a reply to a Message-ID of ours); and the text of our mail
        it replies to, to read the reply against."""
        lang: str | None = None
        reused = False
        proven: set[str] = set()
        sent_body: str | None = None
        async with self.app.store.read() as uow:
            if proven_ref is not None:
                named = await uow.cases.by_reference(proven_ref)
                if named is not None:
                    proven.add(named.id)
                    lang = named.lang
            for mid in thread_keys[-20:]:
                ours = await uow.outbox.case_for_external(mid)
                if ours is not None:
                    proven.add(ours)
            for mid in reversed(msg.in_reply_to or thread_keys[-1:]):
                case_id = await uow.outbox.case_for_external(mid)
                if case_id is None:
                    continue
                for row in await uow.outbox.list(case_id=case_id, status="sent", limit=100):
                    if our_message_id(row.id, self.domain) != mid:
                        continue
                    if isinstance(row.payload.get("body"), str):
                        sent_body = row.payload["body"]
                    elif row.channel == CHANNEL.value:  # a staff notice: its text is built again as the sender built it
                        named_case = await uow.cases.get(case_id)
                        answers = Draft.model_validate(named_case.draft or {})
                        sent_body = wrap_lines(notice_body(self.q, row.kind, row.payload, named_case.reference, named_case.lang, answers))
                break
            submitter = await uow.submitters.find(channel=CHANNEL, identity=identity)
            draft = await uow.cases.open_draft(submitter.id) if submitter is not None else None
            if draft is not None:
                lang = draft.lang
            elif lang is None and submitter is not None:
                lang = submitter.lang
            if msg.message_id is not None:
                reused = await uow.messages.case_for_external(msg.message_id) is not None
        return lang, reused, proven, sent_body
