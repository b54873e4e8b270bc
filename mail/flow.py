"""The inbox worker: turns stored messages into case updates and queues the replies.

For each inbox row: parse it (never fails), find its case — the reference in the subject, then
`In-Reply-To`/`References` against Message-IDs we know, then the sender's open draft — and then:

- automated mail (RFC 3834: bounces, auto-replies, list mail, our own address) changes nothing and
  gets no reply; it stays in the inbox, linked to the case when one was found;
- a message naming a case of another sender is kept on that case as *unverified*, nothing merged;
- a message on a submitted case lands on its thread (and requeues a case waiting for information);
- otherwise the guided flow: the draft is created or resumed, the message and its attachments are
  kept on it, form answers go through the case service, and the reply lists what was accepted,
  what was invalid and why, and what is still required — or confirms / submits.

A row that raises is marked `failed` with a reason naming the step and the exception type, never
its content; `intake mail retry` puts it back.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from intake import engine, lifecycle
from intake.app import App
from intake.cases import REF_PATTERN, IncomingFile
from intake.engine import Draft
from intake.i18n import translator
from intake.questionnaire import Question
from mail.form import label_for, parse_form, render_form, summary_text, unquote, wants_submit
from mail.loops import no_autoreply_reason, split_address
from mail.parse import ParsedMessage, parse_message
from storage.mail import MailQueries
from storage.repositories import CaseRecord, InboxRecord

log = logging.getLogger(__name__)
CHANNEL = "email"
REF_RE = re.compile(r"\[?\s*(" + REF_PATTERN + r")\s*\]?", re.IGNORECASE)
LEASE = timedelta(minutes=5)


@dataclass
class Reply:
    """An email to queue for the sender."""

    kind: str  # form | ack
    subject: str
    body: str


def safety_note(lang: str) -> str:
    t = translator(lang)
    return t(
        "A note on safety: email is not end-to-end encrypted. Your provider and ours can read it, and it stays in your "
        "mailbox. Do not write the names of victims or witnesses. If this mailbox may be watched, stop here and reach us "
        "more safely: use Signal or our Telegram bot, as listed on our website, from a device only you control."
    )


class MailFlow:
    """Processes inbox rows through the case service; queues replies in the outbox."""

    def __init__(self, app: App, *, wake_outbox: Callable[[], None] | None = None) -> None:
        self.app = app
        self.q = app.questionnaire
        self.address = app.settings.mail_address
        self.domain = split_address(self.address)[1] or "localhost"
        self.wake_outbox = wake_outbox or (lambda: None)

    async def run_once(self, limit: int = 20) -> int:
        """Process the due inbox rows; returns how many were claimed."""
        async with self.app.store.write() as uow:
            ids = await MailQueries(uow).claim_inbox(now=self.app.clock(), lease=LEASE, limit=limit)
        for inbox_id in ids:
            await self.process(inbox_id)
        return len(ids)

    async def process(self, inbox_id: str) -> None:
        """Process one inbox row; on error mark it failed with a reason (no content)."""
        step = "load"
        try:
            async with self.app.store.read() as uow:
                record = await uow.inbox.get(inbox_id)
            if record.status != "new":
                return
            step = "parse"
            parsed = parse_message(record.raw)
            step = "handle"
            case_id, outcome = await self._handle(record, parsed)
            async with self.app.store.write() as uow:
                await uow.inbox.mark_done(inbox_id, now=self.app.clock(), case_id=case_id)
            log.info("inbox %s done: %s (case %s, defects %d)", inbox_id, outcome, case_id or "-", len(parsed.defects))
        except Exception as exc:  # noqa: BLE001 - any failure goes to the failed queue a human sees
            reason = f"failed at {step}: {type(exc).__name__}"
            log.warning("inbox %s %s", inbox_id, reason)
            try:
                async with self.app.store.write() as uow:
                    await uow.inbox.mark_failed(inbox_id, error=reason, now=self.app.clock())
            except Exception as mark_exc:  # noqa: BLE001 - the database is down: the lease expires and it is retried
                log.warning("inbox %s could not be marked failed (%s); will retry", inbox_id, type(mark_exc).__name__)

    # ---- routing -------------------------------------------------------------------------------

    async def _handle(self, record: InboxRecord, msg: ParsedMessage) -> tuple[str | None, str]:
        mail_from = str(record.envelope.get("mail_from") or "")
        identity = msg.from_addr or (mail_from.strip("<>").lower() if "@" in mail_from else None)
        automated = no_autoreply_reason(msg, mail_from=mail_from, intake=self.address)
        if identity is None:
            return None, "no sender address"
        case, owned = await self._thread(msg, identity)
        if automated is not None:
            return (case.id if case and owned else None), f"automated ({automated}); no reply"
        if case is not None and not owned:
            await self.app.cases.submitter_reply(CHANNEL, identity, body=msg.text, reference=case.reference, external_key=msg.message_id)
            return case.id, "unverified sender; kept on the case unmerged"
        if case is not None and case.status != lifecycle.DRAFT:
            return await self._on_open_case(case, identity, msg)
        return await self._guided(case, identity, msg)

    async def _thread(self, msg: ParsedMessage, identity: str) -> tuple[CaseRecord | None, bool]:
        """The case this message belongs to, and whether the sender is its submitter."""
        async with self.app.store.read() as uow:
            case: CaseRecord | None = None
            m = REF_RE.search(msg.subject)
            if m:
                case = await uow.cases.by_reference(m.group(1).upper())
            if case is None:
                for mid in list(reversed(msg.in_reply_to)) + list(reversed(msg.references)):
                    case_id = await uow.messages.case_for_external(mid)
                    if case_id is not None:
                        try:
                            case = await uow.cases.get(case_id)
                        except LookupError:
                            case = None
                        if case is not None:
                            break
            submitter = await uow.submitters.find(channel=CHANNEL, identity=identity)
            if case is None and submitter is not None:
                case = await uow.cases.open_draft(submitter.id)
        owned = case is not None and submitter is not None and case.submitter_id == submitter.id
        return case, owned

    # ---- a case already submitted --------------------------------------------------------------

    async def _on_open_case(self, case: CaseRecord, identity: str, msg: ParsedMessage) -> tuple[str | None, str]:
        if case.status == lifecycle.WITHDRAWN:
            await self.app.cases.submitter_reply(CHANNEL, identity, body=msg.text, reference=case.reference, external_key=msg.message_id)
            return case.id, "message on a withdrawn case kept"
        # the thread message and its files in one transaction
        await self.app.cases.submitter_reply(
            CHANNEL, identity, body=msg.text, reference=case.reference, external_key=msg.message_id, files=self._files(msg)
        )
        t = translator(case.lang)
        body = t("Thank you. Your message has been added to case {ref} and our staff will read it.", ref=case.reference)
        if msg.attachments:
            body += "\n" + t.plural("{n} attached file was kept with it.", "{n} attached files were kept with it.", len(msg.attachments))
        await self._queue(case, identity, msg, Reply("ack", self._subject(case.reference, msg, t("Your message was received")), body))
        return case.id, "added to the case thread"

    # ---- the guided flow -----------------------------------------------------------------------

    async def _guided(self, case: CaseRecord | None, identity: str, msg: ParsedMessage) -> tuple[str | None, str]:
        first = case is None
        # whatever the message said (a narrative, a forwarded thread, attachments) is kept on the draft
        turn = await self.app.cases.keep_message(
            CHANNEL, identity, body=msg.text, kind="first_message" if first else "reply", external_key=msg.message_id,
            files=self._files(msg), lang=msg.lang,
        )
        assert turn.case_id is not None and turn.reference is not None
        case_id, reference = turn.case_id, turn.reference
        draft = await self._draft(identity)
        assert draft is not None
        lang = draft.lang
        answers = parse_form(self.q, lang, msg.reply) or parse_form(self.q, lang, "\n".join(unquote(x) for x in msg.text.split("\n")))
        results: dict[str, str | None] = {}
        notices: list[str] = []
        if answers:
            results, notices, stopped = await self._apply(identity, answers, lang)
            if stopped:
                return None, "channel not safe; draft discarded, no reply"
        draft = await self._draft(identity)
        assert draft is not None
        submit = wants_submit(msg.reply)
        reply = await self._compose(identity, draft, reference, first=first, results=results, notices=notices, submit=submit, attachments=len(msg.attachments))
        case_now = await self._case(reference)
        await self._queue(case_now, identity, msg, reply)
        outcome = "first message; form sent" if first else f"{sum(v is None for v in results.values())} accepted, {sum(v is not None for v in results.values())} invalid"
        return case_id, outcome

    async def _apply(self, identity: str, answers: dict[str, str], lang: str) -> tuple[dict[str, str | None], list[str], bool]:
        """Apply form answers through the case service (numbered group instances the form names,
        e.g. perpetrator 2, are opened by the engine). Returns results, notices, and whether the
        conversation stopped (channel not safe)."""
        turn, results = await self.app.cases.set_answers(CHANNEL, identity, answers, lang=lang)
        return results, list(turn.notices), turn.stopped

    async def _compose(
        self, identity: str, draft: Draft, reference: str, *, first: bool, results: dict[str, str | None],
        notices: list[str], submit: bool, attachments: int,
    ) -> Reply:
        lang = draft.lang
        t = translator(lang)
        parts: list[str] = []
        if first:
            parts.append(t("Thank you for writing to us. We have opened a draft case with the reference {ref}.", ref=reference))
            parts.append(safety_note(lang))
        parts.extend(notices)
        if attachments:
            parts.append(t.plural("{n} attached file was kept with your case as evidence.", "{n} attached files were kept with your case as evidence.", attachments))
        accepted = [k for k, v in results.items() if v is None]
        invalid = {k: v for k, v in results.items() if v is not None}
        if accepted:
            lines = [t("Accepted:")]
            for key in accepted:
                lines.append(f"- {self._label(key, lang)}: {self._shown(draft, key)}")
            parts.append("\n".join(lines))
        if invalid:
            lines = [t("Not accepted — please correct:")]
            for key, error in invalid.items():
                lines.append(f"- {self._label(key, lang)}: {error}")
            parts.append("\n".join(lines))
        missing = {s.key for s in engine.missing(self.q, draft)}
        applicable = {s.key for s in engine.slots(self.q, draft)}
        redo = missing | {k for k in invalid if k in applicable}
        subject = t("Your case form")
        if first and not results:
            parts.append(t("Please answer the questions below by replying to this email. Write each answer after its colon "
                           "(or on the next line); for choices, the number is enough. Lines marked (optional) may stay empty. "
                           "You can answer in several emails: we keep what you sent."))
            parts.append(render_form(self.q, draft))
        elif redo:
            if submit:
                parts.append(t("The case cannot be submitted yet: some required answers are missing."))
            parts.append(t.plural("Still needed ({n} question). Please reply with this form filled in:",
                                  "Still needed ({n} questions). Please reply with this form filled in:", len(redo)))
            parts.append(render_form(self.q, draft, only=redo))
        elif submit:
            turn = await self.app.cases.submit(CHANNEL, identity)
            if turn.submitted:
                subject = t("Your case was sent to our staff")
                parts.append(t("Thank you. Your case {ref} has been sent to our staff. Keep this reference; reply to this "
                               "email if you want to add something.", ref=reference))
                parts.append(summary_text(self.q, draft))
            else:
                parts.append(turn.error or t("The case could not be submitted. Please try again."))
        else:
            subject = t("Your case is ready to send")
            parts.append(t("Everything required is there. Please check your answers below, then reply SUBMIT to send it to our "
                           "staff. To change an answer, reply with its line corrected."))
            parts.append(summary_text(self.q, draft))
        return Reply("form", self._subject(reference, None, subject), "\n\n".join(p.strip("\n") for p in parts if p) + "\n")

    def _label(self, key: str, lang: str) -> str:
        try:
            return label_for(self.q, engine.parse_path(key), lang)
        except (KeyError, AssertionError):
            return key

    def _shown(self, draft: Draft, key: str) -> str:
        path = engine.parse_path(key)
        present, value = engine.get_value(draft.answers, path)
        question = self.q.items_by_id().get(str(path[-1]))
        if not present or not isinstance(question, Question):
            return ""
        shown = engine.display(question, value, draft.lang)
        return shown if len(shown) <= 200 else shown[:197] + "…"

    # ---- storage helpers -----------------------------------------------------------------------

    async def _draft(self, identity: str) -> Draft | None:
        async with self.app.store.read() as uow:
            submitter = await uow.submitters.find(channel=CHANNEL, identity=identity)
            case = await uow.cases.open_draft(submitter.id) if submitter else None
        return self.app.cases.draft_of(case) if case else None

    async def _case(self, reference: str) -> CaseRecord:
        async with self.app.store.read() as uow:
            case = await uow.cases.by_reference(reference)
        assert case is not None
        return case

    @staticmethod
    def _files(msg: ParsedMessage) -> list[IncomingFile]:
        """The message's attachments as evidence files, each keyed by message and position so a
        message processed twice stores them once."""
        return [
            IncomingFile(
                filename=part.filename, data=part.data, content_type=part.declared_type, sniffed_type=part.sniffed_type,
                executable=part.executable, source_key=f"{msg.message_id or 'sha256:' + part.sha256}#{n}",
            )
            for n, part in enumerate(msg.attachments)
        ]

    def _subject(self, reference: str, msg: ParsedMessage | None, fallback: str) -> str:
        return f"[{reference}] {fallback}"

    async def _queue(self, case: CaseRecord, identity: str, msg: ParsedMessage, reply: Reply) -> bool:
        """Queue an automatic reply unless the sender reached the hourly limit; True if queued."""
        now = self.app.clock()
        limit = self.app.settings.autoreply_per_hour
        references = (msg.references + ([msg.message_id] if msg.message_id else []))[-10:]
        payload: dict[str, Any] = {
            "to": identity, "subject": reply.subject, "body": reply.body, "auto": True, "lang": case.lang,
            "in_reply_to": msg.message_id, "references": references,
        }
        async with self.app.store.write() as uow:
            queries = MailQueries(uow)
            if await queries.autoreplies_since(submitter_id=case.submitter_id, since=now - timedelta(hours=1)) >= limit:
                log.info("case %s: hourly auto-reply limit reached; no reply queued", case.id)
                return False
            await uow.outbox.enqueue(channel=CHANNEL, kind=reply.kind, payload=payload, now=now, case_id=case.id, submitter_id=case.submitter_id)
        self.wake_outbox()
        return True
