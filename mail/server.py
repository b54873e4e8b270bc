"""The SMTP (or LMTP) edge: accepts mail for the intake address and stores it in the inbox.

`handle_DATA` is thin: it writes the raw bytes (encrypted by the inbox repository) and the
envelope to the core's inbox (`channel="email"`, ordered per envelope sender, deduplicated by
Message-ID plus content hash), nothing parsed but the Message-ID header, and answers 250 only
after the commit. Concurrent sessions' messages share one transaction (`intake.accept.GroupCommit`:
one commit for all that arrived while the previous one was committing). A failed commit answers
`451 4.3.0` with nothing internal in it; so does any other exception in the session, because
`handle_exception` is overridden (aiosmtpd's default sends the exception text as a 500).
The server runs inside the caller's event loop (`loop.create_server`), not in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from intake.accept import GroupCommit, InboxItem
from intake.app import App
from mail.loops import is_intake_address, split_address
from mail.parse import dedup_key, message_ids

log = logging.getLogger(__name__)
TEMPFAIL = "451 4.3.0 Temporary failure, please try again later"
BIG = 1 << 20
RCPT_REFUSED = "550 5.1.1 Recipient address rejected: this server accepts mail only for its own address"


class IntakeHandler:
    """aiosmtpd handler hooks: RCPT filtering, DATA into the inbox, exceptions as 451."""

    def __init__(self, app: App, *, address: str, lmtp: bool = False, on_stored: Callable[[], None] | None = None) -> None:
        self.store = app.store
        self.address = address
        self.clock = app.clock
        self.lmtp = lmtp
        self.on_stored = on_stored or (lambda: None)
        self.committer = GroupCommit(app.store, app.clock)  # concurrent sessions' messages in one transaction

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]) -> str:
        if not is_intake_address(address, self.address):
            return RCPT_REFUSED
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):  # pragma: no cover - decode_data is off
            raw = raw.encode("utf-8", "surrogateescape")
        # hashing a big message would stall every other session: off the loop above 1 MB
        key = dedup_key(raw) if len(raw) < BIG else await asyncio.to_thread(dedup_key, raw)
        mids = message_ids(key.split("|", 1)[0][4:]) if key.startswith("mid:") else []
        mail_from = envelope.mail_from or ""
        details: dict[str, Any] = {
            "mail_from": mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "peer": str(session.peer[0]) if isinstance(session.peer, tuple) else str(session.peer or ""),
            "message_id": mids[0] if mids else None,
            "key": key,
        }
        item = InboxItem(dedup_key=key, envelope=details, raw=raw, channel="email", order_key="email:" + mail_from.strip().strip("<>").lower())
        try:
            inbox_id, created = await self.committer.add(item)
        except Exception as exc:  # noqa: BLE001 - any storage failure is temporary for the sender
            log.warning("inbox write failed (%s); answered 451", type(exc).__name__)
            return self._per_recipient(TEMPFAIL, envelope)
        log.info("inbox %s %s (%d bytes)", inbox_id, "stored" if created else "duplicate", len(raw))
        self.on_stored()
        return self._per_recipient("250 2.0.0 OK: queued", envelope)

    async def handle_exception(self, error: Exception) -> str:
        log.warning("SMTP session error (%s); answered 451", type(error).__name__)
        return TEMPFAIL

    def _per_recipient(self, status: str, envelope: Envelope) -> str:
        """LMTP answers once per recipient; SMTP once."""
        if not self.lmtp:
            return status
        return "\r\n".join([status] * max(1, len(envelope.rcpt_tos)))


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """A server TLS context for STARTTLS from a certificate and key file."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class MailServer:
    """An aiosmtpd SMTP/LMTP server on the running loop."""

    name = "smtp"

    def __init__(
        self, handler: IntakeHandler, *, host: str, port: int, data_size_limit: int,
        tls: ssl.SSLContext | None = None, lmtp: bool = False, hostname: str | None = None,
        on_stop: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.on_stop = on_stop
        self.handler = handler
        self.host = host
        self.port = port
        self.data_size_limit = data_size_limit
        self.tls = tls
        self.lmtp = lmtp
        self.hostname = hostname or split_address(handler.address)[1] or "localhost"
        self.server: asyncio.base_events.Server | None = None

    def _protocol(self) -> SMTP:
        cls = LMTP if self.lmtp else SMTP
        return cls(
            self.handler,
            data_size_limit=self.data_size_limit,
            enable_SMTPUTF8=True,
            tls_context=self.tls,
            hostname=self.hostname,
            ident="Magnitsky Intake",
            loop=asyncio.get_running_loop(),
        )

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(self._protocol, self.host, self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        log.info("%s listening on %s:%d", "LMTP" if self.lmtp else "SMTP", self.host, self.port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        if self.on_stop is not None:
            await self.on_stop()
