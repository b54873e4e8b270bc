"""The inbox decoder of the Telegram channel: a stored update → `receive`.

The row's raw JSON is parsed with python-telegram-bot (`Update.de_json`), routed with its filters
and translated into an `Inbound` (files downloaded first, outside any transaction); `receive`
then applies it and queues what the renderer makes of the result in one transaction, marking the
row done. Nothing is sent from here: the delivery worker sends the queued rows. Any exception
(an update PTB cannot parse, a failed download) propagates to the inbox worker, which retries the
row with backoff and keeps it as failed after a bounded number of tries.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from telegram import Bot, Update

from bot import payloads, routing
from bot.mapping import CHANNEL, Context, Direct, Render, Translation
from intake import inbox
from intake.app import App
from intake.channels import InboxRecord
from intake.logids import log_id

log = logging.getLogger(__name__)

Observer = Callable[[str, int], None]


class TelegramDecoder:
    """Registered with `app.inbox` for channel "telegram". `observer` (tests) hears each (bot id,
    update id) once its row is finished."""

    channel = CHANNEL

    def __init__(self, app: App, bot: Bot, *, observer: Observer | None = None) -> None:
        settings = app.settings
        self.app = app
        self.ctx = Context(app, bot, local_mode=settings.telegram_local_mode, staff_chat_id=settings.telegram_staff_chat_id)
        self.observer = observer

    async def handle(self, row: InboxRecord) -> None:
        update_id = row.envelope.get("update_id")
        try:
            update = Update.de_json(json.loads(row.raw), self.ctx.bot)
        except Exception as exc:
            if row.attempts == 0:  # once per update; the inbox worker logs each retry by row id
                log.warning("telegram update %s (inbox %s) cannot be read: %s", update_id, row.id, type(exc).__name__)
            raise
        translated = await routing.translate(self.ctx, update)
        if isinstance(translated, Translation):
            if update.message is not None:  # the submitter's message, kept (encrypted) for wiping the chat later
                translated.inbound.chat_ref = {"chat_id": update.message.chat_id, "message_ids": [update.message.message_id]}
            result = await self.app.receiver.receive(CHANNEL, translated.identity, translated.inbound, render=_directed(translated.render), inbox_id=row.id)
            if translated.after is not None and not result.duplicate:
                translated.after(result)
            log.info("telegram update %s (%s): %s%s", update_id, log_id(self.app, "chat", translated.identity),
                     translated.inbound.intent.value, " (duplicate)" if result.duplicate else "")
        else:
            await self._finish(row, translated)
            log.info("telegram update %s: %s", update_id, "direct" if translated else "ignored")
        if self.observer is not None and isinstance(update_id, int):
            self.observer(str(row.envelope.get("bot")), update_id)

    async def _finish(self, row: InboxRecord, direct: Direct | None) -> None:
        """Queue a direct answer (if any) and mark the row done, in one transaction."""
        async with self.app.store.write() as uow:
            if await uow.inbox.status_of(row.id, lock=True) != "new":
                inbox.finished(row.id)
                return
            now = self.app.clock()
            for out in direct.outgoing if direct else []:
                await uow.outbox.enqueue(channel=direct.channel if direct else CHANNEL, kind=out.kind, payload=out.payload, now=now)
            await uow.inbox.mark_done(row.id, now=now, case_id=None)
        inbox.finished(row.id)
        if direct is not None:
            self.app.delivery.wake()


def _directed(render: Render) -> Render:
    """`render` with its texts isolated right to left when the result's language is (Arabic)."""
    return lambda result: payloads.directed(render(result), result.lang)
