"""The email channel for `intake run`: registers its decoder with the core's inbox worker and its
sender with the core's delivery worker, and returns its one edge component, the SMTP server."""

from __future__ import annotations

import logging

from intake.app import App
from intake.runtime import Component
from mail import worker
from mail.decode import MailDecoder
from mail.sender import MailSender
from mail.server import IntakeHandler, MailServer, tls_context

log = logging.getLogger(__name__)


class MailChannel:
    """The channel wired to a core (tests use it directly with a port of 0)."""

    def __init__(self, app: App, *, port: int | None = None) -> None:
        settings = app.settings
        self.app = app
        self.decoder = MailDecoder(app)
        self.sender = MailSender(app)
        app.inbox.register(self.decoder)
        app.delivery.register(self.sender)
        tls = None
        if settings.smtp_tls_cert and settings.smtp_tls_key:
            tls = tls_context(str(settings.smtp_tls_cert), str(settings.smtp_tls_key))
        handler = IntakeHandler(app, address=settings.mail_address, lmtp=settings.smtp_lmtp, on_stored=app.inbox.wake)
        self.server = MailServer(
            handler, host=settings.smtp_host, port=settings.smtp_port if port is None else port,
            data_size_limit=settings.max_message_bytes, tls=tls, lmtp=settings.smtp_lmtp, on_stop=self._stop,
        )

    async def _stop(self) -> None:
        worker.shutdown()
        await self.sender.close()

    def components(self) -> list[Component]:
        return [self.server]


async def components(app: App) -> list[Component]:
    """The email channel's edge for `intake run` (the core runs the inbox and delivery workers)."""
    channel = MailChannel(app)
    settings = app.settings
    log.info(
        "email channel on: %s on %s:%d for the intake address, relay %s, STARTTLS %s",
        "LMTP" if settings.smtp_lmtp else "SMTP", settings.smtp_host, settings.smtp_port,
        channel.sender.relay.host, "on" if channel.server.tls else "off",
    )
    return channel.components()
