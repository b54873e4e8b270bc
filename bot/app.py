"""The Bot API client (python-telegram-bot's `ExtBot` with its rate limiter), built from settings,
and the library loggers kept quiet."""

from __future__ import annotations

import logging
import os

from telegram import BotCommand
from telegram.ext import ExtBot

from intake import languages
from intake.channels import Channel
from intake.i18n import N_, translator
from intake.settings import Settings

# Opt in to PTB's future behaviour (time periods as timedelta, e.g. RetryAfter.retry_after):
# without it PTB 22 emits a deprecation warning on every 429. Our code accepts both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")

CHANNEL = Channel.TELEGRAM
STAFF_CHANNEL = "staff_telegram"
ALLOWED_UPDATES = ["message", "callback_query"]

COMMANDS = [
    ("start", N_("Begin a case, or return to the one in progress")),
    ("resume", N_("Show the current question again")),
    ("review", N_("See all your answers and submit")),
    ("details", N_("Add the details of your case, a short round at a time")),
    ("status", N_("Your cases and their status")),
    ("cancel", N_("Delete the case you have not submitted yet")),
    ("language", N_("Change the language")),
    ("help", N_("What this bot does and its commands")),
    ("delete", N_("Withdraw a case you submitted")),
    ("wipe", N_("Delete the messages of this conversation")),
]

# loggers that could carry a token (httpx logs request URLs) or update contents (PTB logs updates
# and request parameters at DEBUG, whole batches at CRITICAL when one cannot be parsed)
LIBRARY_LOGGERS = (
    "httpx", "httpcore", "telegram", "telegram.ext", "telegram.ext.Application", "telegram.ext.Updater",
    "telegram.ext.ExtBot", "telegram.Bot", "telegram.request",
)


class TelegramNotConfigured(RuntimeError):
    """INTAKE_TELEGRAM_TOKEN is not set."""


def quiet_library_logs() -> None:
    """Keep tokens and update contents out of the logs, whatever the root level is.

    We never let PTB parse a batch or dispatch an update (the poller reads raw JSON, the decoder
    translates updates itself), so its content-bearing records are not produced in the first
    place; these levels are the second line of defence. PTB's own loggers are silenced below
    CRITICAL+1 (nothing), httpx/httpcore to WARNING."""
    for name in LIBRARY_LOGGERS:
        level = logging.WARNING if name.startswith("http") else logging.CRITICAL + 1
        logging.getLogger(name).setLevel(level)


def bot_id(settings: Settings) -> str:
    """The bot's numeric id: the part of the token before the colon (public, not a secret)."""
    if settings.telegram_token is None:
        raise TelegramNotConfigured("INTAKE_TELEGRAM_TOKEN is not set")
    return settings.telegram_token.get_secret_value().split(":", 1)[0]


def build_bot(settings: Settings) -> ExtBot[None]:
    """A Bot API client for `settings`: API root and local mode. No PTB rate limiter: its one
    30/s bucket over every call capped the whole bot; `bot.pacing` paces by chat instead, and a
    429 is handed to the delivery worker's retry curve."""
    if settings.telegram_token is None:
        raise TelegramNotConfigured("INTAKE_TELEGRAM_TOKEN is not set")
    quiet_library_logs()
    root = settings.telegram_api_url
    return ExtBot(
        settings.telegram_token.get_secret_value(),
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        local_mode=settings.telegram_local_mode,
    )


def command_menus() -> list[tuple[str | None, list[BotCommand]]]:
    """The command menus to register: English for clients in any other language (no
    `language_code`), then one per supported language, which Telegram shows to users whose
    client is in that language."""
    others = [lang.code for lang in languages.LANGUAGES if lang.code != languages.DEFAULT]
    return [(None, bot_commands())] + [(code, bot_commands(code)) for code in others]


def bot_commands(lang: str = "en") -> list[BotCommand]:
    """The command menu registered with setMyCommands."""
    t = translator(lang)
    return [BotCommand(name, t(description)) for name, description in COMMANDS]
