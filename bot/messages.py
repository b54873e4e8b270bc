"""Messages in a private chat that are not commands: typed text (an answer, the rest of a long
answer Telegram split, or a message for a submitted case's thread), files, and anything else."""

from __future__ import annotations

import hashlib

from telegram import Message

from bot import files, payloads, render
from bot.mapping import (
    CHANNEL,
    Context,
    LongPart,
    Render,
    Translation,
    external_key,
    language_of,
    message_key,
    replied_reference,
    thread_reply,
)
from intake.cases import IncomingFile
from intake.channels import Outgoing
from intake.i18n import normalise_lang, translator
from intake.inbound import Inbound, Intent, Result
from intake.questionnaire import FieldType

JOIN_WINDOW_S = 5  # consecutive parts of a long message arrive within this many seconds
JOIN_MIN_CHARS = 3000  # Telegram splits messages over 4096 characters; a part shorter than this was not split


def _answered(result: Result) -> list[Outgoing]:
    """After typed text: the next prompt (or the error and the same one), or where it was threaded."""
    if result.turn is None or result.threaded or result.no_case:
        return thread_reply(result)
    return payloads.messages(render.turn_messages(result.turn, result.lang))


def _appended(result: Result) -> list[Outgoing]:
    if result.turn is None or result.threaded or result.no_case:
        return thread_reply(result)
    t = translator(result.lang)
    turn = result.turn
    return [payloads.text(t("I added this message to your previous answer.") if turn.ok else f"✗ {turn.error}")]


async def text(ctx: Context, message: Message) -> Translation:
    """Typed text: the answer to the current question, the next part of a long answer, or — replying
    to a staff follow-up, or with no draft open — a message on the case thread."""
    assert message.text is not None
    chat_id, identity, body = message.chat_id, str(message.chat_id), message.text
    key, lang = message_key(chat_id, message.message_id), language_of(message)
    reference = replied_reference(message)
    part = ctx.long_parts.get(chat_id)
    if reference is None and part and message.date and (message.date - part.date).total_seconds() <= JOIN_WINDOW_S:
        date = message.date

        def joined(result: Result) -> None:
            if len(body) < JOIN_MIN_CHARS:
                ctx.long_parts.pop(chat_id, None)
            else:
                ctx.long_parts[chat_id] = LongPart(part.path, date)

        inbound = Inbound(Intent.APPEND, key=key, lang=lang, text=body, path=part.path, external_key=external_key(message))
        return Translation(identity, inbound, _appended, joined)
    ctx.long_parts.pop(chat_id, None)

    def hint(result: Result) -> None:
        # a long answer to a long-text question: its next part may follow within seconds
        prompt = result.asked
        if (
            prompt is not None and result.turn is not None and result.turn.ok and not result.threaded
            and prompt.field_type == FieldType.LONG_TEXT and prompt.path and len(body) >= JOIN_MIN_CHARS and message.date
        ):
            ctx.long_parts[chat_id] = LongPart(prompt.path, message.date)

    inbound = Inbound(Intent.TEXT, key=key, lang=lang, text=body, reference=reference, external_key=external_key(message))
    return Translation(identity, inbound, _answered, hint)


def _too_big(result: Result) -> list[Outgoing]:
    t = translator(result.lang)
    return [payloads.text(t(
        "This file is larger than Telegram lets bots download (20 MB). Please send it by email instead, "
        "or split it into smaller parts. Our staff can also set up a way to receive large files."
    ))]


def _filed(filename: str) -> Render:
    def rendered(result: Result) -> list[Outgoing]:
        t = translator(result.lang)
        if result.turn is None or result.threaded or result.no_case:
            if result.no_case or result.reference is None:
                return [payloads.text(t("You have no case in progress. Send /start to begin one."))]
            if not result.verified:
                return [payloads.text(t("That case is not one of yours, so the file was not stored."))]
            return [payloads.text(t("Thank you. The file was added to case {ref}. Our staff will see it.", ref=result.reference))]
        turn, record = result.turn, result.attachment
        assert record is not None
        saved = t("Saved {file} ({size} bytes, sha256 {sha}).", file=filename, size=record.size, sha=record.sha256[:16] + "…")
        prompt = turn.prompt
        if prompt.kind == "question" and prompt.field_type == FieldType.FILES and not turn.notices:
            # a files question: keep collecting until Done
            return [payloads.message(render.Outgoing(f"{saved}\n\n" + t("Send more files, or press Done."), render.keyboard(prompt, result.lang)))]
        return [payloads.text(saved)] + [payloads.text(n) for n in turn.notices]

    return rendered


async def file(ctx: Context, message: Message) -> Translation:
    """A file: downloaded first (outside any transaction), then evidence for the current files
    question, extra evidence for the draft, or a file on the case thread. Too big for the Bot API:
    the submitter is told how else to send it."""
    incoming = files.attachment_of(message)
    assert incoming is not None, "the router passes only messages with an attachment"
    identity = str(message.chat_id)
    key, lang = message_key(message.chat_id, message.message_id), language_of(message)
    if files.too_big(incoming, local_mode=ctx.local_mode):
        return Translation(identity, Inbound(Intent.NOTICE, key=key, lang=lang), _too_big)
    data = await files.download(ctx.bot, incoming)
    sniffed, executable = files.sniff(data, incoming.filename)
    filename = files.safe_filename(incoming.filename)
    t = translator(await ctx.app.cases.submitter_lang(CHANNEL, identity) or normalise_lang(lang))
    note = t("Sent a file: {file} (sha256 {sha})", file=filename, sha=hashlib.sha256(data).hexdigest())
    kept = IncomingFile(
        filename=filename, data=data, content_type=incoming.content_type, sniffed_type=sniffed, executable=executable,
        source_key=f"telegram:{incoming.unique_id}",
    )
    inbound = Inbound(
        Intent.FILE, key=key, lang=lang, text=note, files=[kept], reference=replied_reference(message), external_key=external_key(message),
    )
    return Translation(identity, inbound, _filed(filename))


def _other(result: Result) -> list[Outgoing]:
    return [payloads.text(translator(result.lang)("Please answer with text, a file or the buttons."))]


async def other(ctx: Context, message: Message) -> Translation:
    """Stickers, locations, contacts…: not answers."""
    inbound = Inbound(Intent.NOTICE, key=message_key(message.chat_id, message.message_id), lang=language_of(message))
    return Translation(str(message.chat_id), inbound, _other)
