"""What `intake run` serves for Telegram: the decoder and the sender registered with the core's
inbox and delivery workers, and one component that brings the Bot API client up (command menu,
webhook or polling) and down."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from telegram.ext import ExtBot

from bot import webhook
from bot.app import ALLOWED_UPDATES, build_bot, command_menus
from bot.decoder import TelegramDecoder
from bot.poller import Poller
from bot.sender import TelegramSender
from intake.app import App
from intake.runtime import Component

log = logging.getLogger(__name__)


class TelegramBot:
    """Starts the client (getMe, setMyCommands), then sets the webhook or starts the poller;
    stops the poller (a cancelled long poll: milliseconds) and closes the client."""

    name = "telegram bot"

    def __init__(self, app: App, bot: ExtBot[Any], poller: Poller | None) -> None:
        self.app = app
        self.bot = bot
        self.poller = poller

    async def start(self) -> None:
        await self.bot.initialize()
        for language_code, commands in command_menus():
            await self.bot.set_my_commands(commands, language_code=language_code)
        settings = self.app.settings
        if self.poller is None:
            assert settings.telegram_webhook_url is not None
            await self.bot.set_webhook(settings.telegram_webhook_url, secret_token=webhook.webhook_secret(settings), allowed_updates=ALLOWED_UPDATES)
            log.info("telegram: webhook mode, updates POSTed to %s", webhook.webhook_path(settings))
            return
        await self.bot.delete_webhook()  # Telegram refuses getUpdates while a webhook is set
        await self.poller.start()

    async def stop(self) -> None:
        if self.poller is not None:
            await self.poller.stop()
        await self.bot.shutdown()


def install(app: App, *, poll_timeout: float = 30.0, observer: Callable[[str, int], None] | None = None,
            sent: Callable[[], None] | None = None) -> TelegramBot:
    """Register the decoder and the sender with `app` and return the bot component (polling
    unless INTAKE_TELEGRAM_WEBHOOK_URL is set). The observers are for tests."""
    settings = app.settings
    bot = build_bot(settings)
    app.inbox.register(TelegramDecoder(app, bot, observer=observer))
    app.delivery.register(TelegramSender(app, bot, observer=sent))
    poller = None if settings.telegram_webhook_url else Poller(app, timeout=poll_timeout)
    return TelegramBot(app, bot, poller)


async def components(app: App) -> list[Component]:
    """The Telegram channel's edge when INTAKE_TELEGRAM_TOKEN is set; nothing otherwise. The
    webhook route (webhook mode) is mounted by the console: `bot.webhook.webhook_route(app)`."""
    if app.settings.telegram_token is None:
        log.info("telegram: off (INTAKE_TELEGRAM_TOKEN is not set)")
        return []
    return [install(app)]
