"""What translating one Telegram update produces, and what every translator shares.

A translator (commands, messages, buttons) turns an update into a `Translation`: the chat's
identity, the `Inbound` for the core's `receive`, and a PURE renderer from the `Result` to the
outbox rows (messages, keyboard edits, the button press's answer). It may read (the current
prompt, the submitter's language) and download a file first, outside any transaction; it sends
nothing. Updates that concern no submitter (the staff chat's /help, a press outside a private
chat) become a `Direct`: rows queued as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from telegram import Bot, Message

from bot import payloads
from intake.app import App
from intake.cases import REF_PATTERN
from intake.channels import Channel, Outgoing
from intake.i18n import translator
from intake.inbound import Inbound, Result

CHANNEL = Channel.TELEGRAM
STAFF_CHANNEL = "staff_telegram"

Render = Callable[[Result], list[Outgoing]]


@dataclass
class LongPart:
    """The answer a long message was written to, and when (Telegram splits messages over 4096 characters)."""

    path: str
    date: datetime


@dataclass
class Context:
    """What translators need: the core (for reads), the Bot API client (for downloads), settings,
    and the in-memory hint for joining a long message's parts (a seconds-long window)."""

    app: App
    bot: Bot
    local_mode: bool = False
    staff_chat_id: int | None = None
    long_parts: dict[int, LongPart] = field(default_factory=dict)


@dataclass
class Translation:
    """One update in the core's terms: who, what, and how to render the result (pure). `after` runs
    once receive has committed (it updates in-memory hints only)."""

    identity: str
    inbound: Inbound
    render: Render
    after: Callable[[Result], None] | None = None


@dataclass
class Direct:
    """Rows to queue as they are, on `channel`, for no submitter (staff chat, foreign presses)."""

    channel: str
    outgoing: list[Outgoing]


def message_key(chat_id: int, message_id: int) -> str:
    """The dedup key of an incoming message: stable across redeliveries and processes."""
    return f"msg:{chat_id}:{message_id}"


def external_key(message: Message) -> str:
    """The thread key of an incoming message (its chat and message id)."""
    return f"telegram:{message.chat_id}:{message.message_id}"


def language_of(message: Message) -> str | None:
    return message.from_user.language_code if message.from_user else None


def replied_reference(message: Message) -> str | None:
    """The case reference of a bot message this message replies to (a staff follow-up)."""
    original = message.reply_to_message
    if original is None or not original.text or original.from_user is None or not original.from_user.is_bot:
        return None
    found = re.search(REF_PATTERN, original.text)
    return found.group(0) if found else None


def say(text: str) -> Render:
    """A renderer that answers with one fixed (already translated) text."""
    return lambda result: [payloads.text(text)]


def thread_reply(result: Result) -> list[Outgoing]:
    """After a message outside the questionnaire: on which case it landed, or that there is none."""
    t = translator(result.lang)
    if result.no_case or result.reference is None:
        return [payloads.text(t("You have no case in progress. Send /start to begin one."))]
    return [payloads.text(t("Thank you. Your message was added to case {ref}. Our staff will see it.", ref=result.reference))]
