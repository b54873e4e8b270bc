"""Outbox payloads of the Telegram channel: what the renderers queue and the sender performs.

Each payload names one Bot API operation (`op`) in the submitter's chat (the chat is the
recipient the delivery worker hands the sender, so it is not repeated here):

- `send`: sendMessage with `text` and an optional inline `keyboard` (its JSON form);
- `edit_markup`: editMessageReplyMarkup of `message_id` (the keyboard, or none);
- `edit_text`: editMessageText of `message_id` to `text` (keyboard removed);
- `answer`: answerCallbackQuery `query_id`, with an optional `text` shown as a toast or an `alert`;
- `wipe`: deleteMessage of each of `message_ids`, then a report of what could not be deleted, in `lang`.

Rows queued by staff (a follow-up, a decision, a notice) carry no `op`, only `text` and
`reference`; the sender frames them (see `bot.staff`). Pure functions, no I/O.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import render
from intake import languages
from intake.channels import Outgoing

_ONLY_TEXT_AND_DATA = tuple(n for n in InlineKeyboardButton.__slots__ if n not in ("text", "callback_data"))


def keyboard_json(keyboard: InlineKeyboardMarkup | None) -> dict[str, Any] | None:
    """The keyboard as Bot API JSON; our buttons (text and callback data only) without PTB's
    generic `to_dict`, which inspects every attribute of every button."""
    if keyboard is None:
        return None
    return {"inline_keyboard": [[_button_json(b) for b in row] for row in keyboard.inline_keyboard]}


def _button_json(button: InlineKeyboardButton) -> dict[str, Any]:
    if button.callback_data is None or any(getattr(button, n) is not None for n in _ONLY_TEXT_AND_DATA) or button.api_kwargs:
        return button.to_dict()
    return {"callback_data": button.callback_data, "text": button.text}


def message(out: render.Outgoing) -> Outgoing:
    """A bot message (text and maybe a keyboard) to send."""
    return Outgoing("reply", {"op": "send", "text": out.text, "keyboard": keyboard_json(out.keyboard)})


def messages(outs: list[render.Outgoing]) -> list[Outgoing]:
    return [message(o) for o in outs]


def text(value: str) -> Outgoing:
    return message(render.Outgoing(value))


def edit_markup(message_id: int, keyboard: InlineKeyboardMarkup | None = None) -> Outgoing:
    """Replace (or, with None, remove) the keyboard of one of our messages."""
    return Outgoing("edit", {"op": "edit_markup", "message_id": message_id, "keyboard": keyboard_json(keyboard)})


def edit_text(message_id: int, value: str) -> Outgoing:
    """Rewrite one of our messages (and remove its keyboard)."""
    return Outgoing("edit", {"op": "edit_text", "message_id": message_id, "text": value})


def answer(query_id: str, value: str | None = None, *, alert: bool = False) -> Outgoing:
    """Answer a button press (ends the client's spinner; `value` shown as a toast, or an alert)."""
    return Outgoing("answer", {"op": "answer", "query_id": query_id, "text": value, "alert": alert})


def wipe(message_ids: list[int], lang: str) -> Outgoing:
    """Delete these messages of the chat (ours and the submitter's), then say what was left."""
    return Outgoing("wipe", {"op": "wipe", "message_ids": sorted(set(message_ids)), "lang": lang})


def directed(rows: list[Outgoing], lang: str | None) -> list[Outgoing]:
    """The rows with every text and button label in a right-to-left isolate when `lang` is written
    right to left (Arabic), so a message that starts with a reference or a number still shows
    right to left; the rows unchanged otherwise."""
    if not languages.get(lang).rtl:
        return rows
    out: list[Outgoing] = []
    for row in rows:
        payload = dict(row.payload)
        if isinstance(payload.get("text"), str):
            payload["text"] = languages.isolate(payload["text"], lang)
        keyboard = payload.get("keyboard")
        if isinstance(keyboard, dict):
            payload["keyboard"] = {
                **keyboard,
                "inline_keyboard": [
                    [{**button, "text": languages.isolate(str(button.get("text", "")), lang)} for button in line]
                    for line in keyboard.get("inline_keyboard", [])
                ],
            }
        out.append(Outgoing(row.kind, payload))
    return out
