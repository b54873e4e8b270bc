"""Telegram updates → case service calls → Telegram messages. No conversation state lives here.

Each update loads the submitter's draft through `CaseService` (keyed by the chat id), applies one
input in one transaction, and only after that commit replies. A repeated update (same message id
in the chat, same callback query id) is recognised by the event key and changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import re
import traceback
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from telegram import CallbackQuery, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, ExtBot, MessageHandler, filters

from bot import files, render
from bot.render import Outgoing, Press
from intake import engine, lifecycle
from intake.app import App
from intake.cases import REF_PATTERN, IncomingFile, Turn
from intake.i18n import normalise_lang, translator
from intake.questionnaire import FieldType

log = logging.getLogger(__name__)

CHANNEL = "telegram"
SEND_RETRIES = 3  # a 429 on a reply is waited out (retry_after) this many times
JOIN_WINDOW_S = 5  # consecutive parts of a long message arrive within this many seconds
JOIN_MIN_CHARS = 3000  # Telegram splits messages over 4096 characters; a part shorter than this was not split

Context = ContextTypes.DEFAULT_TYPE

COMMANDS = [
    ("start", "Begin a case, or return to the one in progress"),
    ("resume", "Show the current question again"),
    ("review", "See all your answers and submit"),
    ("status", "Your cases and their status"),
    ("cancel", "Delete the case you have not submitted yet"),
    ("language", "Change the language"),
    ("help", "What this bot does and its commands"),
    ("delete", "Withdraw a case you submitted"),
]

ATTACHMENTS = filters.Document.ALL | filters.PHOTO | filters.VIDEO | filters.AUDIO | filters.VOICE | filters.VIDEO_NOTE


@dataclass
class _LongPart:
    path: str
    date: datetime


def limited(context: Context) -> ExtBot[int]:
    """The bot, typed with the rate limiter's argument (retries on 429)."""
    return cast(ExtBot[int], context.bot)


def message_key(chat_id: int, message_id: int) -> str:
    """The dedup key of an incoming message: stable across redeliveries and processes."""
    return f"msg:{chat_id}:{message_id}"


class TelegramChannel:
    """The bot's handlers, bound to the core `App`. Register with `install(application)`."""

    def __init__(self, core: App) -> None:
        self.core = core
        self.cases = core.cases
        self.local_mode = core.settings.telegram_local_mode
        self.staff_chat_id = core.settings.telegram_staff_chat_id
        # hint for joining a long answer Telegram split in parts (seconds-long window, so in memory)
        self._long_parts: dict[int, _LongPart] = {}

    # ---- wiring ------------------------------------------------------------------------------

    def install(self, application: Application) -> None:  # type: ignore[type-arg]
        """Add every handler and the one error handler."""
        private = filters.ChatType.PRIVATE
        commands = {
            "start": self.on_start, "resume": self.on_resume, "review": self.on_review, "status": self.on_status,
            "cancel": self.on_cancel, "language": self.on_language, "help": self.on_help, "delete": self.on_delete,
        }
        for name, callback in commands.items():
            application.add_handler(CommandHandler(name, callback, filters=private))
        if self.staff_chat_id is not None:
            application.add_handler(CommandHandler("help", self.on_staff_help, filters=filters.Chat(self.staff_chat_id)))
        application.add_handler(MessageHandler(private & filters.COMMAND, self.on_unknown_command))
        application.add_handler(MessageHandler(private & filters.TEXT, self.on_text))
        application.add_handler(MessageHandler(private & ATTACHMENTS, self.on_file))
        application.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, self.on_other))
        application.add_handler(CallbackQueryHandler(self.on_press))
        application.add_error_handler(self.on_error)

    # ---- helpers -----------------------------------------------------------------------------

    async def _begin(self, update: Update) -> tuple[Message, str, str] | None:
        """The message of a private-chat update, its chat identity and the submitter's language;
        None when this message was handled before (a redelivery)."""
        message = update.effective_message
        assert message is not None
        if not await self._claim(message):
            return None
        identity = str(message.chat_id)
        return message, identity, await self._lang(identity, message.from_user.language_code if message.from_user else None)

    async def _lang(self, identity: str, fallback: str | None) -> str:
        """The submitter's language (set at first contact from Telegram's, or by /language)."""
        return await self.cases.submitter_lang(CHANNEL, identity) or normalise_lang(fallback)

    async def _send(self, context: Context, chat_id: int, messages: list[Outgoing]) -> list[int]:
        sent = []
        for out in messages:
            msg = await limited(context).send_message(chat_id, out.text, reply_markup=out.keyboard, rate_limit_args=SEND_RETRIES)
            sent.append(msg.message_id)
        return sent

    async def _record(self, identity: str, chat_id: int, *, inbound: list[int], outbound: list[int], case_id: str | None = None) -> None:
        """Keep the message ids of this exchange (encrypted, on the case) for wiping the chat later."""
        if inbound:
            await self.cases.record_channel_message(CHANNEL, identity, direction="in", ref={"chat_id": chat_id, "message_ids": inbound}, case_id=case_id)
        if outbound:
            await self.cases.record_channel_message(CHANNEL, identity, direction="out", ref={"chat_id": chat_id, "message_ids": outbound}, case_id=case_id)

    async def _reply(self, context: Context, message: Message, messages: list[Outgoing], *, case_id: str | None = None) -> None:
        chat_id = message.chat_id
        sent = await self._send(context, chat_id, messages)
        await self._record(str(chat_id), chat_id, inbound=[message.message_id], outbound=sent, case_id=case_id)

    async def _claim(self, message: Message) -> bool:
        """Mark a message processed before handling it outside `act`; False if it was already."""
        return await self.cases.remember_event(CHANNEL, message_key(message.chat_id, message.message_id), str(message.chat_id))

    async def _show_turn(self, context: Context, message: Message, turn: Turn, lang: str) -> None:
        await self._reply(context, message, render.turn_messages(turn, lang), case_id=turn.case_id)

    @staticmethod
    def _private(update: Update) -> bool:
        return update.effective_chat is not None and update.effective_chat.type == "private"

    # ---- commands ----------------------------------------------------------------------------

    async def on_start(self, update: Update, context: Context) -> None:
        """Begin a draft (language from Telegram's) or return to the one in progress."""
        message = update.effective_message
        assert message is not None and message.from_user is not None
        if not await self._claim(message):
            return
        identity = str(message.chat_id)
        fresh = await self.cases.current(CHANNEL, identity) is None
        turn = await self.cases.resume(CHANNEL, identity, lang=message.from_user.language_code)
        lang = await self._lang(identity, message.from_user.language_code)
        out = [render.welcome(lang)] if fresh else [Outgoing(translator(lang)("Welcome back. Here is where you left off."))]
        await self._reply(context, message, out + render.turn_messages(turn, lang), case_id=turn.case_id)

    async def on_resume(self, update: Update, context: Context) -> None:
        """Show the current question of the draft in progress."""
        begun = await self._begin(update)
        if begun is None:
            return
        message, identity, lang = begun
        turn = await self.cases.current(CHANNEL, identity)
        if turn is None:
            await self._reply(context, message, [Outgoing(translator(lang)("You have no case in progress. Send /start to begin one."))])
            return
        await self._show_turn(context, message, turn, lang)

    async def on_review(self, update: Update, context: Context) -> None:
        """The review screen of the draft in progress."""
        message = update.effective_message
        assert message is not None
        identity = str(message.chat_id)
        lang = await self._lang(identity, message.from_user.language_code if message.from_user else None)
        if await self.cases.current(CHANNEL, identity) is None:
            if await self._claim(message):
                await self._reply(context, message, [Outgoing(translator(lang)("You have no case in progress. Send /start to begin one."))])
            return
        turn = await self.cases.act(CHANNEL, identity, engine.Command("review"), event_key=message_key(message.chat_id, message.message_id))
        if not turn.duplicate:
            await self._show_turn(context, message, turn, lang)

    async def on_status(self, update: Update, context: Context) -> None:
        """The submitter's cases and their statuses."""
        begun = await self._begin(update)
        if begun is None:
            return
        message, identity, lang = begun
        await self._reply(context, message, [render.status_list(await self.cases.statuses(CHANNEL, identity), lang)])

    async def on_cancel(self, update: Update, context: Context) -> None:
        """Ask to confirm deleting the draft in progress."""
        begun = await self._begin(update)
        if begun is None:
            return
        message, identity, lang = begun
        if await self.cases.current(CHANNEL, identity) is None:
            await self._reply(context, message, [Outgoing(translator(lang)("You have no case in progress, so there is nothing to cancel."))])
            return
        await self._reply(context, message, [render.cancel_confirm(lang)])

    async def on_language(self, update: Update, context: Context) -> None:
        """Offer the languages."""
        begun = await self._begin(update)
        if begun is None:
            return
        message, _, lang = begun
        await self._reply(context, message, [render.language_menu(lang)])

    async def on_help(self, update: Update, context: Context) -> None:
        """What the bot does and its commands."""
        begun = await self._begin(update)
        if begun is None:
            return
        message, _, lang = begun
        await self._reply(context, message, [render.help_text(lang)])

    async def on_delete(self, update: Update, context: Context) -> None:
        """Withdraw a case: `/delete REF` asks to confirm that one, `/delete` lists the candidates."""
        begun = await self._begin(update)
        if begun is None:
            return
        message, identity, lang = begun
        open_refs = [
            s.reference for s in await self.cases.statuses(CHANNEL, identity) if s.status not in (lifecycle.DRAFT, lifecycle.WITHDRAWN)
        ]
        wanted = " ".join(context.args or []).strip()
        if wanted:
            found = re.search(REF_PATTERN, wanted.upper())
            ref = found.group(0) if found else wanted.upper()
            if ref in open_refs:
                await self._reply(context, message, [render.withdraw_confirm(ref, lang)])
                return
        await self._reply(context, message, [render.withdraw_menu(open_refs, lang)])

    async def on_unknown_command(self, update: Update, context: Context) -> None:
        begun = await self._begin(update)
        if begun is None:
            return
        message, _, lang = begun
        await self._reply(context, message, [Outgoing(translator(lang)("I do not know that command.")), render.help_text(lang)])

    async def on_staff_help(self, update: Update, context: Context) -> None:
        """In the staff chat: say what it is for (no case content is ever shown here)."""
        message = update.effective_message
        assert message is not None
        await limited(context).send_message(
            message.chat_id, translator("en")("This chat receives alerts about new cases and replies. Open the console to read them."),
            rate_limit_args=SEND_RETRIES,
        )

    # ---- messages ----------------------------------------------------------------------------

    @staticmethod
    def _replied_reference(message: Message) -> str | None:
        """The case reference of a bot message this message replies to (a staff follow-up)."""
        original = message.reply_to_message
        if original is None or not original.text or original.from_user is None or not original.from_user.is_bot:
            return None
        found = re.search(REF_PATTERN, original.text)
        return found.group(0) if found else None

    async def on_text(self, update: Update, context: Context) -> None:
        """A typed answer to the current question, or a reply to staff when no draft is open."""
        message = update.effective_message
        assert message is not None and message.text is not None
        chat_id, identity = message.chat_id, str(message.chat_id)
        fallback = message.from_user.language_code if message.from_user else None
        reference = self._replied_reference(message)
        current = None if reference else await self.cases.current(CHANNEL, identity)
        if current is None:
            await self._thread_reply(context, message, message.text, reference, fallback)
            return
        part = self._long_parts.get(chat_id)
        if part and message.date and (message.date - part.date).total_seconds() <= JOIN_WINDOW_S:
            if not await self._claim(message):
                return
            turn = await self.cases.append_text(CHANNEL, identity, part.path, message.text)
            lang = await self._lang(identity, fallback)
            if len(message.text) < JOIN_MIN_CHARS:
                del self._long_parts[chat_id]
            else:
                self._long_parts[chat_id] = _LongPart(part.path, message.date)
            text = translator(lang)("I added this message to your previous answer.") if turn.ok else f"✗ {turn.error}"
            await self._reply(context, message, [Outgoing(text)], case_id=turn.case_id)
            return
        self._long_parts.pop(chat_id, None)
        before = current.prompt
        turn = await self.cases.act(CHANNEL, identity, engine.Answer(message.text), lang=fallback, event_key=message_key(chat_id, message.message_id))
        if turn.duplicate:
            return
        if turn.ok and before.field_type == FieldType.LONG_TEXT and before.path and len(message.text) >= JOIN_MIN_CHARS and message.date:
            self._long_parts[chat_id] = _LongPart(before.path, message.date)
        await self._show_turn(context, message, turn, await self._lang(identity, fallback))

    async def _thread_reply(self, context: Context, message: Message, body: str, reference: str | None, fallback: str | None) -> None:
        """A message outside the questionnaire: onto the case thread (returns a waiting case to the queue)."""
        if not await self._claim(message):
            return
        identity = str(message.chat_id)
        lang = await self._lang(identity, fallback)
        t = translator(lang)
        case = await self.cases.submitter_reply(
            CHANNEL, identity, body=body, reference=reference, external_key=f"telegram:{message.chat_id}:{message.message_id}"
        )
        if case is None:
            await self._reply(context, message, [Outgoing(t("You have no case in progress. Send /start to begin one."))])
            return
        await self._reply(context, message, [Outgoing(t("Thank you. Your message was added to case {ref}. Our staff will see it.", ref=case.reference))], case_id=case.id)

    async def on_file(self, update: Update, context: Context) -> None:
        """A file: evidence for the current files question, extra evidence, or a reply to staff."""
        message = update.effective_message
        assert message is not None
        incoming = files.attachment_of(message)
        if incoming is None:  # pragma: no cover - the filter lets only attachments through
            return
        if not await self._claim(message):
            return
        identity = str(message.chat_id)
        fallback = message.from_user.language_code if message.from_user else None
        lang = await self._lang(identity, fallback)
        t = translator(lang)
        if files.too_big(incoming, local_mode=self.local_mode):
            await self._reply(
                context, message,
                [Outgoing(t(
                    "This file is larger than Telegram lets bots download (20 MB). Please send it by email instead, "
                    "or split it into smaller parts. Our staff can also set up a way to receive large files."
                ))],
            )
            return
        data = await files.download(context.bot, incoming)
        sniffed, executable = files.sniff(data, incoming.filename)
        reference = self._replied_reference(message)
        if reference or await self.cases.current(CHANNEL, identity) is None:
            await self._thread_file(context, message, incoming, data, sniffed, executable, reference, lang)
            return
        turn, record = await self.cases.add_file(
            CHANNEL, identity, filename=incoming.filename, data=data, content_type=incoming.content_type,
            source_key=f"telegram:{incoming.unique_id}", sniffed_type=sniffed, executable=executable,
        )
        saved = t("Saved {file} ({size} bytes, sha256 {sha}).", file=incoming.filename, size=record.size, sha=record.sha256[:16] + "…")
        prompt = turn.prompt
        if prompt.kind == "question" and prompt.field_type == FieldType.FILES and not turn.notices:
            # a files question: keep collecting until Done
            out = [Outgoing(f"{saved}\n\n" + t("Send more files, or press Done."), render.keyboard(prompt, lang))]
        else:
            out = [Outgoing(saved)] + [Outgoing(n) for n in turn.notices]
        await self._reply(context, message, out, case_id=turn.case_id)

    async def _thread_file(
        self, context: Context, message: Message, incoming: files.Incoming, data: bytes, sniffed: str | None, executable: bool,
        reference: str | None, lang: str,
    ) -> None:
        """A file after submission: a thread message naming it, and the file on that case."""
        t = translator(lang)
        identity = str(message.chat_id)
        sha = hashlib.sha256(data).hexdigest()
        incoming_file = IncomingFile(
            filename=incoming.filename, data=data, content_type=incoming.content_type, sniffed_type=sniffed,
            executable=executable, source_key=f"telegram:{incoming.unique_id}",
        )
        case = await self.cases.submitter_reply(
            CHANNEL, identity, body=t("Sent a file: {file} (sha256 {sha})", file=incoming.filename, sha=sha), reference=reference,
            external_key=f"telegram:{message.chat_id}:{message.message_id}", files=[incoming_file],
        )
        if case is None:
            await self._reply(context, message, [Outgoing(t("You have no case in progress. Send /start to begin one."))])
            return
        # a reference to someone else's case: the thread keeps the note as unverified, the file is not stored
        record = await self.cases.is_submitter_of(CHANNEL, identity, case.id)
        text = (
            t("Thank you. The file was added to case {ref}. Our staff will see it.", ref=case.reference)
            if record else t("That case is not one of yours, so the file was not stored.")
        )
        await self._reply(context, message, [Outgoing(text)], case_id=case.id if record else None)

    async def on_other(self, update: Update, context: Context) -> None:
        """Stickers, locations, contacts…: not answers."""
        begun = await self._begin(update)
        if begun is None:
            return
        message, _, lang = begun
        await self._reply(context, message, [Outgoing(translator(lang)("Please answer with text, a file or the buttons."))])

    # ---- buttons -----------------------------------------------------------------------------

    async def on_press(self, update: Update, context: Context) -> None:
        """An inline button: an option, a command, a review action, a language, a confirmation."""
        query = update.callback_query
        assert query is not None
        if not self._private(update) or query.message is None:
            await query.answer()
            return
        chat_id = query.message.chat.id
        identity = str(chat_id)
        key = f"cb:{query.id}"
        press = render.decode(query.data)
        lang = await self._lang(identity, query.from_user.language_code)
        t = translator(lang)
        answered = False
        try:
            if press is None:
                return
            if press.kind in ("o", "c", "e", "s"):
                answered = await self._press_prompt(context, query, press, key, lang)
                return
            if not await self.cases.remember_event(CHANNEL, key, identity):
                return
            sent: list[int] = []
            if press.kind == "l":
                turn = await self.cases.set_language(CHANNEL, identity, press.value)
                lang = await self._lang(identity, press.value)
                await self._clear(context, query)
                sent = await self._send(context, chat_id, [Outgoing(translator(lang)("Language: {name}.", name=render.LANGUAGES.get(lang, lang)))])
                sent += await self._send(context, chat_id, render.turn_messages(turn, lang))
            elif press.kind == "x":
                await self._clear(context, query)
                if press.value == "yes" and await self.cases.discard_draft(CHANNEL, identity):
                    sent = await self._send(context, chat_id, [Outgoing(t("Your draft and everything in it were deleted. Send /start to begin again."))])
                else:
                    current = await self.cases.current(CHANNEL, identity)
                    sent = await self._send(context, chat_id, [Outgoing(t("Nothing was deleted."))] + (render.turn_messages(current, lang) if current else []))
            elif press.kind == "w":
                sent = await self._send(context, chat_id, [render.withdraw_confirm(press.value, lang)])
            elif press.kind == "wy":
                await self._clear(context, query)
                ok = await self.cases.withdraw(CHANNEL, identity, press.value)
                text = t("Case {ref} is withdrawn. Our staff will stop working on it.", ref=press.value) if ok else t("That case could not be withdrawn.")
                sent = await self._send(context, chat_id, [Outgoing(text)])
            elif press.kind == "wn":
                await self._clear(context, query)
                sent = await self._send(context, chat_id, [Outgoing(t("Nothing was withdrawn."))])
            await self._record(identity, chat_id, inbound=[], outbound=sent)
        finally:
            if not answered:
                await query.answer()

    async def _clear(self, context: Context, query: CallbackQuery) -> None:
        """Remove the keyboard from the message whose button was pressed."""
        assert query.message is not None
        await limited(context).edit_message_reply_markup(query.message.chat.id, query.message.message_id, reply_markup=None, rate_limit_args=SEND_RETRIES)

    async def _press_prompt(self, context: Context, query: CallbackQuery, press: Press, key: str, lang: str) -> bool:
        """A button of the current question or review screen. Returns whether the query was answered."""
        t = translator(lang)
        assert query.message is not None
        chat_id = query.message.chat.id
        identity = str(chat_id)
        current = await self.cases.current(CHANNEL, identity)
        if current is None:
            await query.answer(t("This case is no longer open. Send /start to begin a new one."), show_alert=True)
            return True
        prompt = current.prompt
        expected = render.tag_of(prompt)
        stale = (press.kind in ("o", "c", "s") and press.tag != expected) or (press.kind == "e" and prompt.kind == "stopped")
        if stale:
            if not await self.cases.remember_event(CHANNEL, key, identity):
                return False
            await query.answer(t("That button belongs to an earlier question. Here is the current one."))
            sent = await self._send(context, chat_id, render.turn_messages(current, lang))
            await self._record(identity, chat_id, inbound=[], outbound=sent, case_id=current.case_id)
            return True
        action: engine.Action
        chosen: str | None = None
        if press.kind == "o":
            index = int(press.value) if press.value.isdigit() else -1
            if not 0 <= index < len(prompt.options):
                return False
            option = prompt.options[index]
            action = engine.Toggle(option.id) if prompt.multi else engine.Choose(option.id)
            chosen = option.text
        elif press.kind == "e":
            action = engine.Command("edit", press.value)
        elif press.kind == "s":
            action = engine.Command("submit")
        else:
            if press.value not in ("back", "skip", "done", "keep", "continue"):
                return False
            action = engine.Command(press.value)  # type: ignore[arg-type]
            if press.value == "skip":
                chosen = t("Skipped")
            elif press.value == "keep":
                chosen = prompt.current
            elif press.value == "done":
                picked = [o.text for o in prompt.options if o.selected]
                chosen = ", ".join(picked) if picked else t("Done")
        tagged = press.kind in ("o", "c", "s")

        def still_current(now: engine.Prompt) -> bool:
            # checked again under the chat's database lock: another process may have moved on
            return render.tag_of(now) == press.tag if tagged else now.kind != "stopped"

        turn = await self.cases.act(CHANNEL, identity, action, event_key=key, expect=still_current)
        if turn.duplicate:
            return False
        if turn.stale:
            await query.answer(t("That button belongs to an earlier question. Here is the current one."))
            sent = await self._send(context, chat_id, render.turn_messages(turn, lang))
            await self._record(identity, chat_id, inbound=[], outbound=sent, case_id=turn.case_id)
            return True
        if isinstance(action, engine.Toggle):
            if turn.ok:
                await limited(context).edit_message_reply_markup(
                    chat_id, query.message.message_id, reply_markup=render.keyboard(turn.prompt, lang), rate_limit_args=SEND_RETRIES
                )
                return False
        elif turn.ok and isinstance(query.message, Message) and query.message.text:
            if chosen is not None:
                await limited(context).edit_message_text(
                    render.chosen_suffix(query.message.text, chosen), chat_id, query.message.message_id, reply_markup=None, rate_limit_args=SEND_RETRIES
                )
            else:
                await self._clear(context, query)
        sent = await self._send(context, chat_id, render.turn_messages(turn, lang))
        await self._record(identity, chat_id, inbound=[], outbound=sent, case_id=turn.case_id)
        return False

    # ---- errors ------------------------------------------------------------------------------

    async def on_error(self, update: object, context: Context) -> None:
        """Log the failure by ids only, and ask the submitter to send that again (nothing half-applied)."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        chat = update.effective_chat if isinstance(update, Update) else None
        frames = "".join(traceback.format_tb(error.__traceback__)) if error else ""
        # the exception's message may quote what was sent, so only its type and frames are logged
        log.error("update %s in chat %s failed with %s\n%s", update_id, chat.id if chat else None, type(error).__name__, frames)
        if not isinstance(update, Update) or chat is None or chat.type != "private":
            return
        try:
            if update.callback_query is not None:
                await update.callback_query.answer()
        except TelegramError:
            pass
        try:
            lang = normalise_lang(update.effective_user.language_code if update.effective_user else None)
            await limited(context).send_message(chat.id, render.sorry(lang), rate_limit_args=SEND_RETRIES)
        except Exception as exc:  # noqa: BLE001 - the error handler must not raise
            log.warning("could not tell chat %s about the failure of update %s: %s", chat.id, update_id, type(exc).__name__)
