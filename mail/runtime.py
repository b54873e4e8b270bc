"""The email channel's components for `intake run`: the SMTP server, the inbox worker and the
outbox sender, all in the running event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from intake.app import App
from intake.runtime import Component
from mail.flow import MailFlow
from mail.outbox import OutboxSender
from mail.server import IntakeHandler, MailServer, tls_context

log = logging.getLogger(__name__)


class Worker:
    """Runs `step` in a loop: again at once while it finds work, else after `interval` or a wake-up."""

    def __init__(self, name: str, step: Callable[[], Awaitable[int]], *, interval: float) -> None:
        self.name = name
        self.step = step
        self.interval = interval
        self.wakeup = asyncio.Event()
        self.stopping = False
        self.task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self.wakeup.set()

    async def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Stop after the current pass (the flag), or at once where it waits (the cancel)."""
        if self.task is None:
            return
        self.stopping = True
        self.wakeup.set()
        self.task.cancel()
        # a library may swallow the cancel mid-pass; the flag then ends the loop after the pass
        await asyncio.wait({self.task}, timeout=30)
        self.task = None

    async def _run(self) -> None:
        while not self.stopping:
            self.wakeup.clear()
            try:
                found = await self.step()
            except Exception as exc:  # noqa: BLE001 - e.g. the database is down: log the type, try again later
                log.warning("%s pass failed (%s); retrying", self.name, type(exc).__name__)
                found = 0
            if found or self.stopping:
                continue
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel racing a wake-up
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self.wakeup.wait()


class MailChannel:
    """The three parts wired together (tests use it directly with a port of 0)."""

    def __init__(self, app: App, *, port: int | None = None, interval: float = 2.0) -> None:
        settings = app.settings
        self.flow_worker: Worker
        self.sender = OutboxSender(app)
        self.outbox_worker = Worker("mail-outbox", self.sender.run_once, interval=interval)
        self.flow = MailFlow(app, wake_outbox=self.outbox_worker.wake)
        self.inbox_worker = Worker("mail-inbox", self.flow.run_once, interval=interval)
        tls = None
        if settings.smtp_tls_cert and settings.smtp_tls_key:
            tls = tls_context(str(settings.smtp_tls_cert), str(settings.smtp_tls_key))
        handler = IntakeHandler(
            app.store, address=settings.mail_address, clock=app.clock, lmtp=settings.smtp_lmtp, on_stored=self.inbox_worker.wake
        )
        self.server = MailServer(
            handler, host=settings.smtp_host, port=settings.smtp_port if port is None else port,
            data_size_limit=settings.max_message_bytes, tls=tls, lmtp=settings.smtp_lmtp,
        )

    def components(self) -> list[Component]:
        return [self.server, self.inbox_worker, self.outbox_worker]


async def components(app: App) -> list[Component]:
    """The email channel's components for `intake run`."""
    channel = MailChannel(app)
    settings = app.settings
    log.info(
        "email channel on: %s on %s:%d for the intake address, relay %s, STARTTLS %s",
        "LMTP" if settings.smtp_lmtp else "SMTP", settings.smtp_host, settings.smtp_port,
        channel.sender.relay.host, "on" if channel.server.tls else "off",
    )
    return channel.components()
