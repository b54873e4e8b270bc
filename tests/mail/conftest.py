"""Email channel fixtures: the real intake SMTP server on an ephemeral loopback port, a second
aiosmtpd server acting as the relay that captures outgoing mail, and a real `smtplib` client."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from intake.app import App
from intake.settings import Settings
from mail.relay import Relay
from mail.runtime import MailChannel
from tests.conftest import TEST_KEY

ADDRESS = "cases@intake.example"
SENDER = "ngo@example.org"


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path / "data",
        database_url=db_url,
        secret_keys=TEST_KEY,
        mail_address=ADDRESS,
        autoreply_per_hour=100,
        _env_file=None,  # type: ignore[call-arg]
    )


class CaptureRelay:
    """aiosmtpd handler of the fake relay: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.arrived = asyncio.Event()
        self.refuse: str | None = None  # e.g. "550 5.1.1 no such user"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return self.refuse
        raw = envelope.original_content or b""
        msg = message_from_bytes(raw, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.envelopes.append((envelope.mail_from or "", list(envelope.rcpt_tos)))
        self.arrived.set()
        return "250 OK"

    async def wait(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        """Wait until at least `count` messages arrived."""
        async with asyncio.timeout(timeout):
            while len(self.messages) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.messages


@dataclass
class SmtpResult:
    ehlo: str = ""
    mail: int = 0
    rcpt: list[int] = field(default_factory=list)
    data: int | None = None
    data_text: str = ""


def smtp_send(port: int, raw: bytes, *, mail_from: str = SENDER, rcpt: list[str] | None = None, lmtp: bool = False) -> SmtpResult:
    """A real smtplib client: EHLO, MAIL, RCPT…, DATA (when a recipient was accepted), QUIT."""
    out = SmtpResult()
    client: smtplib.SMTP = smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port, timeout=30)
    try:
        code, text = client.ehlo()
        out.ehlo = text.decode()
        out.mail = client.mail(mail_from)[0]
        for to in rcpt or [ADDRESS]:
            out.rcpt.append(client.rcpt(to)[0])
        if any(c == 250 for c in out.rcpt):
            code, text = client.data(raw)
            out.data, out.data_text = code, text.decode(errors="replace")
    except smtplib.SMTPServerDisconnected:
        pass
    finally:
        try:
            client.quit()
        except (smtplib.SMTPServerDisconnected, OSError):
            client.close()
    return out


class Harness:
    """The channel under test plus its peers."""

    def __init__(self, app: App, channel: MailChannel, relay: CaptureRelay) -> None:
        self.app = app
        self.channel = channel
        self.relay = relay

    @property
    def port(self) -> int:
        return self.channel.server.port

    async def send(self, raw: bytes, **kwargs: Any) -> SmtpResult:
        return await asyncio.to_thread(smtp_send, self.port, raw, **kwargs)

    async def pump(self) -> None:
        """Process every due inbox row, then deliver every due outbox row (the core's workers, one pass at a time)."""
        while await self.app.inbox.run_once():
            pass
        while await self.app.delivery.run_once():
            pass

    async def exchange(self, raw: bytes, **kwargs: Any) -> list[EmailMessage]:
        """Send, process, and return the mails that reached the relay because of it."""
        before = len(self.relay.messages)
        result = await self.send(raw, **kwargs)
        assert result.data == 250, result
        await self.pump()
        return self.relay.messages[before:]


async def start_relay() -> tuple[CaptureRelay, asyncio.base_events.Server, int]:
    relay = CaptureRelay()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(relay, hostname="relay.test", loop=loop), "127.0.0.1", 0)
    return relay, server, server.sockets[0].getsockname()[1]


@pytest.fixture
async def relay_server() -> AsyncIterator[tuple[CaptureRelay, int]]:
    relay, server, port = await start_relay()
    try:
        yield relay, port
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def mail(app: App, relay_server: tuple[CaptureRelay, int]) -> AsyncIterator[Harness]:
    """The intake SMTP server started (workers not running: tests call `pump`)."""
    relay, port = relay_server
    channel = MailChannel(app, port=0)
    channel.sender.relay = Relay("127.0.0.1", port)
    await channel.server.start()
    try:
        yield Harness(app, channel, relay)
    finally:
        await channel.server.stop()
