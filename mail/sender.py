"""The email `Sender`: outbox rows of `email` (to a submitter) and `staff_email` (staff alerts)
turned into mail and handed to the relay — network I/O only; the delivery worker records it.

- Replies the renderer queued carry `{subject, body, in_reply_to, references, auto, lang}`.
- Staff notices (`followup`, `decision`, …) carry `{text, reference}`: the subject says what the
  notice is ("A question about your case" only for a follow-up), the mail is threaded to the
  case's previous mails (their Message-IDs read in one short read transaction before sending).
- Staff alerts (`staff_alert`, `reply_alert`) go to `INTAKE_STAFF_ALERT_EMAIL` and carry the
  reference and a console link only — never case content.

Every mail's Message-ID is derived from its outbox id, so a retry sends the same Message-ID and
replies thread back (`Sent.external_key`). A 4xx or a network error → `RetryLater`; a 5xx →
`Undeliverable`; reasons are status codes and exception types, never content.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import aiosmtplib

from intake.app import App
from intake.channels import OutboxRecord, RetryLater, Sent, Undeliverable
from intake.engine import Draft
from intake.i18n import translator
from mail import capability
from mail.formtext import wrap_lines
from mail.loops import split_address
from mail.notice import notice_body
from mail.relay import Relay, RelayPool

MAX_REFERENCES = 10


def our_message_id(outbox_id: str, domain: str) -> str:
    """The Message-ID of the email sent for an outbox row: stable across retries."""
    return f"<{outbox_id}.intake@{domain or 'localhost'}>"


def notice_subject(kind: str, payload: dict[str, Any], lang: str) -> str:
    """What a staff notice is, in its subject."""
    t = translator(lang)
    if kind == "followup":
        return t("A question about your case")
    if kind == "decision":
        return t("Your case was closed") if not payload.get("outcome") else t("A decision on your case")
    return t("A message about your case")


class MailSender:
    """Delivers `email` and `staff_email` rows through the relay: the delivery worker's batch shares
    INTAKE_RELAY_CONNECTIONS sessions (one by default), each kept open across mails and batches."""

    channels: tuple[str, ...] = ("email", "staff_email")

    def __init__(self, app: App, *, relay: Relay | None = None, timeout: float = 30) -> None:
        self.app = app
        self.settings = app.settings
        self.address = app.settings.mail_address
        self.domain = split_address(self.address)[1] or "localhost"
        self.keys = app.settings.master_keys()
        self.pool = RelayPool(relay or Relay.from_url(app.settings.relay_url), timeout=timeout, size=app.settings.relay_connections)

    @property
    def relay(self) -> Relay:
        return self.pool.relay

    @relay.setter
    def relay(self, relay: Relay) -> None:
        self.pool.relay = relay

    async def send(self, row: OutboxRecord, recipient: str | None) -> Sent:
        message, to = await self.build(row, recipient)
        try:
            await self.pool.send(message, sender=self.address, recipients=[to])
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if all(500 <= c < 600 for c in codes):
                raise Undeliverable(f"relay refused the recipient ({codes[0] if codes else '5xx'})") from None
            raise RetryLater(f"relay deferred the recipient ({codes[0] if codes else '4xx'})") from None
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise Undeliverable(f"relay refused permanently ({exc.code})") from None
            raise RetryLater(f"relay answered {exc.code}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise RetryLater(f"relay unreachable: {type(exc).__name__}") from None
        return Sent(external_key=str(message["Message-ID"]))

    async def close(self) -> None:
        await self.pool.close()

    # ---- building ------------------------------------------------------------------------------

    async def build(self, row: OutboxRecord, recipient: str | None) -> tuple[EmailMessage, str]:
        """The email for a row and its recipient address."""
        if row.channel == "staff_email":
            return self._staff(row)
        if not recipient:
            raise Undeliverable("no recipient")
        payload = row.payload
        reference, lang, thread, draft = await self._case(row)
        lang = str(payload.get("lang") or lang)
        subject = payload.get("subject")
        body = payload.get("body")
        if body is None:
            reference = reference or str(payload.get("reference") or "")
            body = wrap_lines(notice_body(self.app.questionnaire, row.kind, payload, reference, lang, draft))
            subject = subject or notice_subject(row.kind, payload, lang)
        subject = str(subject or "")
        if reference and reference not in subject:
            subject = f"[{reference}] {subject}".strip()
        in_reply_to = payload.get("in_reply_to") or (thread[-1] if thread else None)
        references = [str(r) for r in payload.get("references") or thread]
        if in_reply_to and in_reply_to not in references:
            references.append(str(in_reply_to))
        if reference:  # the case's capability: replies to this address (or with this subject) continue it
            tok = capability.token(self.keys[0], reference)
            subject = capability.subject_with_token(subject, tok)
        msg = self._envelope(row, recipient, subject)
        if reference:
            msg["Reply-To"] = capability.reply_address(self.address, reference, tok)
        if in_reply_to:
            msg["In-Reply-To"] = str(in_reply_to)
        if references:
            msg["References"] = " ".join(references[-MAX_REFERENCES:])
        if payload.get("auto"):
            msg["Auto-Submitted"] = "auto-replied"
            msg["X-Auto-Response-Suppress"] = "All"
        msg.set_content(str(body))
        msg["Content-Language"] = lang  # after set_content, which clears every Content-* header
        return msg, recipient

    async def _case(self, row: OutboxRecord) -> tuple[str | None, str, list[str], Draft | None]:
        """The case's reference, language, the Message-IDs of the mails we sent on it (oldest
        first) and its answers (for a follow-up's form) — one short read, before any network I/O."""
        if row.case_id is None:
            return None, "en", [], None
        async with self.app.store.read() as uow:
            try:
                case = await uow.cases.get(row.case_id)
            except LookupError:
                return None, "en", [], None
            sent = [r for r in await uow.outbox.list(case_id=row.case_id, status="sent", limit=50) if r.channel == "email"]
        sent.sort(key=lambda r: (r.sent_at or r.created_at))
        return case.reference, case.lang, [our_message_id(r.id, self.domain) for r in sent], Draft.model_validate(case.draft or {})

    def _staff(self, row: OutboxRecord) -> tuple[EmailMessage, str]:
        """A staff alert (to INTAKE_STAFF_ALERT_EMAIL) or a staff member's own notice (to their
        address): the reference and a console link, nothing else."""
        to = str(row.payload.get("to") or "") or self.settings.staff_alert_email  # a notice to one staff member, else the alert address
        if not to:
            raise Undeliverable("no staff alert address")
        t = translator("en")
        reference = str(row.payload.get("reference") or "")
        link = f"{self.settings.public_url.rstrip('/')}/cases/{reference}"
        notice = row.payload.get("kind") if row.kind == "staff_notice" else None
        if notice == "assigned":
            subject, what = t("A case was assigned to you"), t("Case {ref} was assigned to you.", ref=reference)
        elif notice == "reply":
            subject, what = t("A reply on your case"), t("The submitter of case {ref}, which is assigned to you, replied.", ref=reference)
        elif row.kind == "reply_alert":
            subject, what = t("The submitter replied"), t("The submitter of case {ref} replied.", ref=reference)
        else:
            subject, what = t("New case submitted"), t("Case {ref} was submitted.", ref=reference)
        msg = self._envelope(row, to, f"[{reference}] {subject}")
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(what + "\n\n" + t("Open it in the console: {link}", link=link) + "\n")
        msg["Content-Language"] = "en"
        return msg, to

    def _envelope(self, row: OutboxRecord, to: str, subject: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.address
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = format_datetime(self.app.clock())
        msg["Message-ID"] = our_message_id(row.id, self.domain)
        return msg
