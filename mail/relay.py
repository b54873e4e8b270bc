"""The outgoing relay: `INTAKE_RELAY_URL` parsed, and a small pool of aiosmtplib connections so
a batch of mails goes through one (or a few) SMTP sessions instead of one per mail.

A connection is taken from the pool (or opened), used for one message, and put back; connections
idle longer than `idle` seconds are closed. A pooled connection the relay has dropped meanwhile
is replaced once, before anything was sent on it. Errors are mapped by the sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib


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


class RelayPool:
    """Reusable SMTP sessions to the relay: at most `size` at once (a batch of the delivery worker
    shares them), each reused while it is younger than `idle` seconds of idleness."""

    def __init__(self, relay: Relay, *, timeout: float = 30, idle: float = 15.0, size: int = 1) -> None:
        self.relay = relay
        self.timeout = timeout
        self.idle = idle
        self.size = size
        self._slots = asyncio.Semaphore(size)
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self.opened = 0  # sessions opened so far (tests read it)

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(
            hostname=self.relay.host, port=self.relay.port, use_tls=self.relay.use_tls, start_tls=self.relay.start_tls,
            username=self.relay.username, password=self.relay.password, timeout=self.timeout,
        )
        await client.connect()
        self.opened += 1
        return client

    async def _take(self) -> aiosmtplib.SMTP | None:
        now = time.monotonic()
        while self._idle:
            client, since = self._idle.pop()
            if now - since <= self.idle and client.is_connected:
                return client
            await _close(client)
        return None

    async def send(self, message: EmailMessage, *, sender: str, recipients: list[str]) -> None:
        """Send one message on a pooled session; raises aiosmtplib's errors (and OSError)."""
        async with self._slots:
            await self._send(message, sender=sender, recipients=recipients)

    async def _send(self, message: EmailMessage, *, sender: str, recipients: list[str]) -> None:
        client = await self._take()
        if client is not None:
            try:
                await client.noop()  # a session the relay dropped fails here, before anything is sent
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                await _close(client)
                client = None
        if client is None:
            client = await self._connect()
        try:
            await client.send_message(message, sender=sender, recipients=recipients)
        except BaseException:
            await _close(client)
            raise
        if len(self._idle) < self.size:
            self._idle.append((client, time.monotonic()))
        else:
            await _close(client)

    async def close(self) -> None:
        """Close every idle session (QUIT where the relay still listens)."""
        idle, self._idle = self._idle, []
        await asyncio.gather(*(_close(c) for c, _ in idle))


async def _close(client: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(Exception):
        if client.is_connected:
            async with asyncio.timeout(2):
                await client.quit()
    with contextlib.suppress(Exception):
        client.close()
