"""Storing Telegram updates in the inbox: the one step before any acknowledgement.

Both ways updates arrive — the poller's getUpdates batches and the webhook's POSTs — call
`store_updates`, which writes every update's raw JSON in ONE transaction and commits. Only after
it returns may the caller acknowledge (advance the offset past them, answer 200). The dedup key is
the update id under the bot's id, so an update delivered twice is stored once; the order key is
its chat, so one chat's updates are processed one at a time, in update id order.
"""

from __future__ import annotations

import json
from typing import Any

from intake.accept import InboxItem
from intake.app import App
from intake.channels import Channel

CHANNEL = Channel.TELEGRAM
NO_CHAT = "telegram:chat:none"
CHAT_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post", "business_message", "my_chat_member", "chat_member",
             "chat_join_request")


def update_id_of(data: object) -> int | None:
    """The update id of a decoded JSON body, or None when it is not a Telegram update."""
    if isinstance(data, dict):
        value = data.get("update_id")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def chat_of(data: dict[str, Any]) -> int | None:
    """The chat an update belongs to, read from the raw JSON (no parsing that could fail)."""
    for key in CHAT_KEYS:
        part = data.get(key)
        if isinstance(part, dict) and isinstance(part.get("chat"), dict):
            chat_id = part["chat"].get("id")
            return chat_id if isinstance(chat_id, int) else None
    query = data.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict) and isinstance(message["chat"].get("id"), int):
            return int(message["chat"]["id"])
        sender = query.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return int(sender["id"])
    return None


def order_key(data: dict[str, Any]) -> str:
    chat = chat_of(data)
    return f"telegram:chat:{chat}" if chat is not None else NO_CHAT


async def store_updates(app: App, bot: str, updates: list[dict[str, Any]]) -> int:
    """Write these updates (each with an integer `update_id`) to the inbox in one transaction and
    commit; returns how many were new. Wakes the inbox worker when something was stored."""
    if not updates:
        return 0
    items = []
    for data in updates:
        uid = update_id_of(data)
        assert uid is not None, "store_updates takes Telegram updates only"
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        items.append(InboxItem(
            dedup_key=f"telegram:update:{bot}:{uid}", envelope={"update_id": uid, "bot": bot}, raw=raw, channel=CHANNEL,
            order_key=order_key(data), seq=uid,
        ))
    async with app.store.write() as uow:  # the whole batch in a few statements (see InboxRepository.add_many)
        added = sum(created for _, created in await uow.inbox.add_many(items, now=app.clock()))
    if added:
        app.inbox.wake()
    return added
