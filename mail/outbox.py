"""Outgoing email: delivers `channel="email"` outbox rows through the relay with aiosmtplib.

Rows the channel queues carry `{to, subject, body, in_reply_to, references, auto}`; staff rows
(e.g. kind `followup`) may carry only `{text}` (or `body`): the recipient is the case's submitter,
the subject carries the case reference and the mail is threaded `In-Reply-To` the case's last
email. Every mail gets a Message-ID derived from its outbox id, recorded when it is sent so
replies thread back to the case. Temporary failures are retried with exponential backoff; a
permanent refusal (5xx) or too many attempts marks the row failed for staff to see and retry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit

import aiosmtplib

from intake.app import App
from intake.i18n import translator
from mail.loops import split_address
from storage.mail import MailQueries, our_message_id
from storage.repositories import OutboxRecord

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=2)
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Relay:
    """Where outgoing mail goes, from `INTAKE_RELAY_URL` (smtp://, smtps://, smtp+starttls://)."""

    host: str
    port: int
    use_tls: bool = False
    start_tls: bool | None = None  # None: STARTTLS when the relay offers it
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> Relay:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("smtp", "smtps", "smtp+starttls"):
            raise ValueError("INTAKE_RELAY_URL must start with smtp://, smtps:// or smtp+starttls://")
        use_tls = scheme == "smtps"
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (465 if use_tls else 25),
            use_tls=use_tls,
            start_tls=True if scheme == "smtp+starttls" else (False if use_tls else None),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failed ones: 30 s doubling, at most 2 h."""
    delay: timedelta = BACKOFF_BASE * (2 ** min(max(0, attempts), 16))
    return min(BACKOFF_MAX, delay)


class OutboxSender:
    """Sends due email outbox rows; one pass per `run_once`."""

    def __init__(self, app: App, *, relay: Relay | None = None, timeout: float = 30) -> None:
        self.app = app
        self.relay = relay or Relay.from_url(app.settings.relay_url)
        self.address = app.settings.mail_address
        self.domain = split_address(self.address)[1] or "localhost"
        self.timeout = timeout

    async def run_once(self, limit: int = 20) -> int:
        """Deliver the due rows; returns how many were attempted."""
        async with self.app.store.write() as uow:
            rows = await MailQueries(uow).claim_outbox(now=self.app.clock(), lease=LEASE, limit=limit)
        for row in rows:
            await self.deliver(row)
        return len(rows)

    async def deliver(self, row: OutboxRecord) -> None:
        """Build and send one row, then record sent / retry / failed."""
        try:
            message = await self.build(row)
        except Exception as exc:  # noqa: BLE001 - a row we cannot turn into mail needs a human
            await self._failed(row, f"cannot build the message: {type(exc).__name__}")
            return
        try:
            await aiosmtplib.send(
                message, hostname=self.relay.host, port=self.relay.port, use_tls=self.relay.use_tls,
                start_tls=self.relay.start_tls, username=self.relay.username, password=self.relay.password,
                timeout=self.timeout, sender=self.address,
            )
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                await self._failed(row, f"relay refused permanently ({exc.code})")
            else:
                await self._retry(row, f"relay answered {exc.code}")
            return
        except aiosmtplib.SMTPRecipientsRefused:
            await self._failed(row, "relay refused the recipient")
            return
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._retry(row, f"relay unreachable: {type(exc).__name__}")
            return
        mid = str(message["Message-ID"])
        async with self.app.store.write() as uow:
            await uow.outbox.mark_sent(row.id, now=self.app.clock(), external_key=mid)
        log.info("outbox %s sent (%s, case %s)", row.id, row.kind, row.case_id or "-")

    async def build(self, row: OutboxRecord) -> EmailMessage:
        """The email for an outbox row, with threading headers."""
        payload = row.payload
        async with self.app.store.read() as uow:
            case = await uow.cases.get(row.case_id) if row.case_id else None
            submitter_id = row.submitter_id or (case.submitter_id if case else None)
            to = payload.get("to") or (await uow.submitters.identity(submitter_id) if submitter_id else None)
            thread = await MailQueries(uow).thread(case.id, domain=self.domain) if case else []
        if not to:
            raise ValueError("no recipient")
        lang = str(payload.get("lang") or (case.lang if case else "en"))
        t = translator(lang)
        subject = payload.get("subject")
        body = payload.get("body")
        if body is None:
            text = str(payload.get("text") or "")
            ref = case.reference if case else ""
            body = t("A message from our staff about your case {ref}:", ref=ref) + "\n\n" + text.strip() + "\n\n" + t(
                "Reply to this email to answer; keep the reference in the subject."
            ) + "\n"
            subject = subject or t("A question about your case")
        if case and case.reference not in str(subject or ""):
            subject = f"[{case.reference}] {subject or ''}".strip()
        in_reply_to = payload.get("in_reply_to") or (thread[-1].message_id if thread else None)
        references = list(payload.get("references") or [i.message_id for i in thread][-10:])
        if in_reply_to and in_reply_to not in references:
            references.append(in_reply_to)
        msg = EmailMessage()
        msg["From"] = self.address
        msg["To"] = str(to)
        msg["Subject"] = str(subject or "")
        msg["Date"] = format_datetime(self.app.clock())
        msg["Message-ID"] = our_message_id(row.id, self.domain)
        if in_reply_to:
            msg["In-Reply-To"] = str(in_reply_to)
        if references:
            msg["References"] = " ".join(references)
        if payload.get("auto"):
            msg["Auto-Submitted"] = "auto-replied"
            msg["X-Auto-Response-Suppress"] = "All"
        msg["Content-Language"] = lang
        msg.set_content(str(body))
        return msg

    async def _retry(self, row: OutboxRecord, reason: str) -> None:
        if row.attempts + 1 >= MAX_ATTEMPTS:
            await self._failed(row, f"{reason}; gave up after {row.attempts + 1} attempts")
            return
        async with self.app.store.write() as uow:
            await uow.outbox.mark_retry(row.id, error=reason, next_attempt_at=self.app.clock() + backoff(row.attempts))
        log.warning("outbox %s: %s; will retry", row.id, reason)

    async def _failed(self, row: OutboxRecord, reason: str) -> None:
        async with self.app.store.write() as uow:
            await uow.outbox.mark_failed(row.id, error=reason)
        log.warning("outbox %s failed: %s", row.id, reason)
