"""The python-telegram-bot `Application`, built from settings and wired to the case service."""

from __future__ import annotations

import logging
import os

from telegram import BotCommand
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.handlers import COMMANDS, TelegramChannel
from bot.ordering import ChatOrderedProcessor
from intake.app import App
from intake.i18n import translator

# Opt in to PTB's future behaviour (time periods as timedelta, e.g. RetryAfter.retry_after):
# without it PTB 22 emits a deprecation warning on every 429. Our code accepts both forms.
# PTB reads the variable at each use, so setting it here, before any bot runs, is enough.
os.environ.setdefault("PTB_TIMEDELTA", "true")

CHANNEL_KEY = "intake.channel"
MAX_CONCURRENT_UPDATES = 64


class TelegramNotConfigured(RuntimeError):
    """INTAKE_TELEGRAM_TOKEN is not set."""


def quiet_library_logs() -> None:
    """Keep tokens and update contents out of the logs.

    httpx logs every request URL at INFO (the URL holds the bot token); PTB logs whole updates
    and request parameters at DEBUG. Both are raised to WARNING whatever the root level is.
    """
    for name in ("httpx", "httpcore", "telegram", "telegram.ext"):
        logging.getLogger(name).setLevel(logging.WARNING)


def build_application(core: App, *, polling: bool = True, get_updates_timeout: float = 30.0) -> Application:  # type: ignore[type-arg]
    """A PTB Application for `core`: Bot API root from settings, local mode, rate limiter, per-chat
    ordered concurrent updates, and the intake handlers. `polling=False` builds it without an
    Updater (webhook mode: updates arrive through `bot.webhook`)."""
    settings = core.settings
    if settings.telegram_token is None:
        raise TelegramNotConfigured("INTAKE_TELEGRAM_TOKEN is not set")
    quiet_library_logs()
    root = settings.telegram_api_url
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .local_mode(settings.telegram_local_mode)
        .rate_limiter(AIORateLimiter())
        .concurrent_updates(ChatOrderedProcessor(MAX_CONCURRENT_UPDATES))
        .get_updates_read_timeout(get_updates_timeout + 10)
    )
    if not polling:
        builder = builder.updater(None)
    application = builder.build()
    channel = TelegramChannel(core)
    channel.install(application)
    application.bot_data[CHANNEL_KEY] = channel
    return application


def bot_commands(lang: str = "en") -> list[BotCommand]:
    """The command menu registered with setMyCommands."""
    t = translator(lang)
    return [BotCommand(name, t(description)) for name, description in COMMANDS]
