"""Commands in a private chat (/start, /resume, /review, /details, /status, /cancel, /language, /help,
/delete, anything else) → an `Inbound` and the renderer of its answer."""

from __future__ import annotations

import re

from telegram import Message

from bot import payloads, render
from bot.mapping import Context, Render, Translation, language_of, message_key
from intake import engine, lifecycle
from intake.cases import REF_PATTERN
from intake.channels import Outgoing
from intake.i18n import translator
from intake.inbound import Inbound, Intent, Result


def command_of(message: Message) -> tuple[str, list[str]]:
    """The command's name (lower case, without @botname) and its arguments."""
    words = (message.text or "").split()
    if not words or not words[0].startswith("/"):
        return "", []
    return words[0][1:].split("@", 1)[0].lower(), words[1:]


def _start(result: Result) -> list[Outgoing]:
    t = translator(result.lang)
    first = render.welcome(result.lang) if result.fresh else render.Outgoing(t("Welcome back. Here is where you left off."))
    return [payloads.message(first)] + (payloads.messages(render.turn_messages(result.turn, result.lang)) if result.turn else [])


def _show_turn(result: Result) -> list[Outgoing]:
    """The current question (or review screen) of the draft in progress, or that there is none."""
    if result.turn is None:
        return [payloads.text(translator(result.lang)("You have no case in progress. Send /start to begin one."))]
    return payloads.messages(render.turn_messages(result.turn, result.lang))


def _status(result: Result) -> list[Outgoing]:
    return [payloads.message(render.status_list(result.statuses, result.lang))]


def _cancel(result: Result) -> list[Outgoing]:
    if result.turn is None:
        return [payloads.text(translator(result.lang)("You have no case in progress, so there is nothing to cancel."))]
    return [payloads.message(render.cancel_confirm(result.lang))]


def _language(result: Result) -> list[Outgoing]:
    return [payloads.message(render.language_menu(result.lang))]


def _wipe(result: Result) -> list[Outgoing]:
    return [payloads.message(render.wipe_confirm(result.lang))]


def _help(result: Result) -> list[Outgoing]:
    return [payloads.message(render.help_text(result.lang))]


def _unknown(result: Result) -> list[Outgoing]:
    return [payloads.text(translator(result.lang)("I do not know that command.")), payloads.message(render.help_text(result.lang))]


def _delete(args: list[str]) -> Render:
    """/delete REF asks to confirm that case; /delete alone lists the cases that can be withdrawn."""
    wanted = " ".join(args).strip().upper()
    found = re.search(REF_PATTERN, wanted)
    ref = found.group(0) if found else wanted

    def rendered(result: Result) -> list[Outgoing]:
        open_refs = [s.reference for s in result.statuses if s.status not in (lifecycle.DRAFT, lifecycle.WITHDRAWN)]
        if ref and ref in open_refs:
            return [payloads.message(render.withdraw_confirm(ref, result.lang))]
        return [payloads.message(render.withdraw_menu(open_refs, result.lang))]

    return rendered


async def translate(ctx: Context, message: Message) -> Translation:
    """A command from a private chat."""
    name, args = command_of(message)
    identity = str(message.chat_id)
    key, lang = message_key(message.chat_id, message.message_id), language_of(message)
    if name == "start":
        return Translation(identity, Inbound(Intent.START, key=key, lang=lang), _start)
    if name == "resume":
        return Translation(identity, Inbound(Intent.RESUME, key=key, lang=lang), _show_turn)
    if name in ("review", "details"):
        command = engine.Command("review" if name == "review" else "details")
        return Translation(identity, Inbound(Intent.STEP, key=key, lang=lang, action=command), _show_turn)
    renderers = {"status": _status, "cancel": _cancel, "language": _language, "help": _help, "wipe": _wipe}
    if name in renderers:
        return Translation(identity, Inbound(Intent.NOTICE, key=key, lang=lang), renderers[name])
    if name == "delete":
        return Translation(identity, Inbound(Intent.NOTICE, key=key, lang=lang), _delete(args))
    return Translation(identity, Inbound(Intent.NOTICE, key=key, lang=lang), _unknown)


def staff_help() -> list[Outgoing]:
    """In the staff chat: what it is for (no case content is ever shown there)."""
    return [payloads.text(translator("en")("This chat receives alerts about new cases and replies. Open the console to read them."))]
