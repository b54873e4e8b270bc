"""What `intake run` serves for Telegram: the bot (polling or webhook) and its outbox worker."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import Application

from bot import webhook
from bot.app import bot_commands, build_application
from bot.outbox import OutboxWorker
from intake.app import App
from intake.runtime import Component

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]


class BotComponent:
    """Runs a PTB Application by hand (initialize → commands → start → polling or webhook) and
    stops it in reverse, so it shares `intake run`'s event loop with the other channels."""

    name = "telegram bot"

    def __init__(self, core: App, application: Application, *, poll_timeout: float = 30.0) -> None:  # type: ignore[type-arg]
        self.core = core
        self.application = application
        self.poll_timeout = poll_timeout

    @property
    def webhook_mode(self) -> bool:
        return self.application.updater is None

    async def start(self) -> None:
        app = self.application
        await app.initialize()
        await app.bot.set_my_commands(bot_commands())
        if self.webhook_mode:
            settings = self.core.settings
            assert settings.telegram_webhook_url is not None
            await app.bot.set_webhook(
                settings.telegram_webhook_url, secret_token=webhook.webhook_secret(settings), allowed_updates=ALLOWED_UPDATES
            )
            webhook.attach(self.core, app)
            await app.start()
            log.info("telegram: webhook mode, updates POSTed to %s", webhook.webhook_path(settings))
            return
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=timedelta(seconds=self.poll_timeout), allowed_updates=ALLOWED_UPDATES)
        log.info("telegram: polling for updates as @%s", app.bot.username)

    async def stop(self) -> None:
        app = self.application
        if self.webhook_mode:
            webhook.detach(self.core)
        elif app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()


async def components(core: App) -> list[Component]:
    """The bot and its outbox worker when INTAKE_TELEGRAM_TOKEN is set; nothing otherwise."""
    settings = core.settings
    if settings.telegram_token is None:
        log.info("telegram: off (INTAKE_TELEGRAM_TOKEN is not set)")
        return []
    application = build_application(core, polling=not settings.telegram_webhook_url)
    bot = BotComponent(core, application)
    return [bot, OutboxWorker(core, application.bot)]
