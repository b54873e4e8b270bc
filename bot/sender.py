"""The Sender of the Telegram channel: one outbox row → one Bot API call, nothing else.

Rows on "telegram" go to the submitter's chat (the recipient the delivery worker hands us) and
carry an operation (see `bot.payloads`) or, when staff queued them, a text to frame. Rows on
"staff_telegram" go to INTAKE_TELEGRAM_STAFF_CHAT_ID. Telegram's answers become the delivery
worker's outcomes: 429 → retry after Telegram's wait; blocked bot, unknown chat or another
refusal → undeliverable; network trouble → retry later. Reasons carry no content.

Every new message waits for its chat's slot (`bot.pacing`: Telegram's per-chat and group limits);
messages nobody just asked for (alerts, follow-ups, decisions, notices) also wait for the global
30/s bucket. A 429's retry_after holds the chat here too.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot import render, staff
from bot.mapping import CHANNEL, STAFF_CHANNEL
from bot.pacing import Pacer
from intake import languages
from intake.app import App
from intake.channels import OutboxRecord, RetryLater, Sent, Undeliverable

log = logging.getLogger(__name__)

REPLY_KINDS = frozenset({"reply", "edit", "answer", "wipe"})  # what answers a submitter's own action: per-chat pacing only


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# A send is paced when it is reserved, but Telegram counts when it arrives: with many chats sent at
# once, the first message of a chat can wait behind the others in the event loop (~0.1 s measured
# under load) while a later one goes straight out, so arrivals could come closer than the interval.
# Chats are paced 10% slower than INTAKE_TELEGRAM_CHAT_INTERVAL to absorb that.
PACE_MARGIN = 1.1


class TelegramSender:
    """Registered with `app.delivery` for ("telegram", "staff_telegram"). `observer` (tests) is
    called after each successful call."""

    channels: tuple[str, ...] = (CHANNEL, STAFF_CHANNEL)

    def __init__(self, app: App, bot: ExtBot[Any], *, observer: Any = None, pacer: Pacer | None = None) -> None:
        self.app = app
        self.bot = bot
        self.observer = observer
        s = app.settings
        self.pacer = pacer or Pacer(
            chat_interval=s.telegram_chat_interval * PACE_MARGIN, burst=s.telegram_chat_burst, group_per_minute=s.telegram_group_per_minute,
            global_rate=s.telegram_global_rate,
        )

    async def send(self, row: OutboxRecord, recipient: str | None) -> Sent:
        try:
            sent = await self._call(row, recipient)
        except RetryAfter as exc:
            after = _seconds(exc.retry_after)
            if row.payload.get("op") != "answer":
                with contextlib.suppress(Undeliverable):
                    self.pacer.hold(self._chat(row, recipient), after)
            raise RetryLater("429 Too Many Requests", after=after) from None
        except (Forbidden, ChatMigrated) as exc:
            raise Undeliverable(type(exc).__name__) from None
        except BadRequest as exc:
            if "not modified" in exc.message.lower():  # an edit sent again after a crash: already done
                return Sent()
            if row.payload.get("op") == "answer" and "query" in exc.message.lower():  # expired: the spinner is long gone
                log.info("outbox %s: the button press had expired; nothing to answer", row.id)
                return Sent()
            reason = "BadRequest: chat not found" if "chat not found" in exc.message.lower() else "BadRequest"
            raise Undeliverable(reason) from None
        except InvalidToken:
            raise RetryLater("InvalidToken") from None
        except TelegramError as exc:  # NetworkError, TimedOut, a 5xx: try again later
            raise RetryLater(type(exc).__name__) from None
        if self.observer is not None:
            self.observer()
        return sent

    async def _call(self, row: OutboxRecord, recipient: str | None) -> Sent:
        payload = row.payload
        op = payload.get("op")
        if op == "answer":
            await self.bot.answer_callback_query(str(payload["query_id"]), text=payload.get("text"), show_alert=bool(payload.get("alert")))
            return Sent()
        chat_id = self._chat(row, recipient)
        if op == "edit_markup":
            await self.bot.edit_message_reply_markup(chat_id, int(payload["message_id"]), reply_markup=self._keyboard(payload))
            return Sent()
        if op == "wipe":
            await self.pacer.chat(chat_id)
            return await self._wipe(chat_id, [int(m) for m in payload.get("message_ids") or []], str(payload.get("lang") or "en"))
        if op == "edit_text":
            await self.bot.edit_message_text(str(payload["text"]), chat_id, int(payload["message_id"]), reply_markup=None)
            return Sent()
        text = str(payload["text"]) if op == "send" else await self._compose(row)
        if row.channel == STAFF_CHANNEL or row.kind not in REPLY_KINDS:
            await self.pacer.broadcast()
        await self.pacer.chat(chat_id)
        message = await self.bot.send_message(chat_id, text, reply_markup=self._keyboard(payload))
        return Sent(external_key=f"telegram:{chat_id}:{message.message_id}", chat_ref={"chat_id": chat_id, "message_ids": [message.message_id]})

    async def _wipe(self, chat_id: int, message_ids: list[int], lang: str) -> Sent:
        """Delete each message (one already gone counts as deleted: a retried row repeats the
        calls), then report; Telegram refuses messages older than 48 hours. 429 and network
        trouble retry the whole row."""
        deleted = refused = 0
        for message_id in message_ids:
            try:
                await self.bot.delete_message(chat_id, message_id)
                deleted += 1
            except BadRequest as exc:
                if "not found" in exc.message.lower():
                    deleted += 1
                else:
                    refused += 1
        log.info("telegram wipe: %d deleted, %d refused", deleted, refused)
        text = languages.isolate(render.wipe_report(deleted, refused, lang), lang)
        message = await self.bot.send_message(chat_id, text)
        return Sent(external_key=f"telegram:{chat_id}:{message.message_id}", chat_ref={"chat_id": chat_id, "message_ids": [message.message_id]})

    def _chat(self, row: OutboxRecord, recipient: str | None) -> int:
        if row.channel == STAFF_CHANNEL:
            if self.app.settings.telegram_staff_chat_id is None:
                raise Undeliverable("no staff chat configured")
            return self.app.settings.telegram_staff_chat_id
        try:
            return int(recipient or "")
        except ValueError:
            raise Undeliverable("recipient is not a Telegram chat") from None

    def _keyboard(self, payload: dict[str, Any]) -> InlineKeyboardMarkup | None:
        keyboard = payload.get("keyboard")
        return InlineKeyboardMarkup.de_json(keyboard, self.bot) if isinstance(keyboard, dict) else None

    async def _compose(self, row: OutboxRecord) -> str:
        """The text of a row this channel did not render: a staff alert, or a staff message framed
        in the submitter's language (read in a short transaction before the call)."""
        settings = self.app.settings
        if row.channel == STAFF_CHANNEL:
            return staff.alert_text(row.kind, row.payload, questionnaire=self.app.questionnaire, public_url=settings.public_url)
        lang = await self._lang(row)
        text = staff.submitter_text(row.kind, row.payload, lang)
        if text is None:
            raise Undeliverable("row has no text")
        return languages.isolate(text, lang)

    async def _lang(self, row: OutboxRecord) -> str:
        """The language to frame a staff message in: the row's, else its case's, else the submitter's."""
        lang = row.payload.get("lang")
        if isinstance(lang, str):
            return lang
        async with self.app.store.read() as uow:
            if row.case_id is not None:
                try:
                    return (await uow.cases.get(row.case_id)).lang
                except LookupError:
                    pass
            if row.submitter_id is not None:
                return (await uow.submitters.get(row.submitter_id)).lang
        return "en"
