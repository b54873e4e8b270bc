"""What a channel is to the core: its name, what it hands to `receive`, and how it sends.

A channel is an adapter on both ends of the pipeline:

- **in**: it stores what arrives in the inbox (committed before it acknowledges), then turns each
  stored row into an `Inbound` and calls `Receiver.receive` with a `Renderer` — a pure function
  from the `Result` to the messages to queue. Rendering happens inside receive's one transaction,
  so the replies are queued together with the state they describe, or not at all.
- **out**: it registers a `Sender` with the one delivery worker, which hands it one outbox row at
  a time, outside any transaction.

The core imports no channel; channels import this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from storage.repositories import InboxRecord, OutboxRecord

__all__ = ["Channel", "InboxRecord", "OutboxRecord", "Outgoing", "Renderer", "RetryLater", "Sender", "Sent", "Undeliverable"]


class Channel(StrEnum):
    """Where a conversation happens (a submitter's channel) or where staff are alerted."""

    TELEGRAM = "telegram"
    EMAIL = "email"
    TERMINAL = "terminal"
    STAFF_TELEGRAM = "staff_telegram"
    STAFF_EMAIL = "staff_email"


SUBMITTER_CHANNELS = (Channel.TELEGRAM, Channel.EMAIL, Channel.TERMINAL)
STAFF_CHANNELS = (Channel.STAFF_TELEGRAM, Channel.STAFF_EMAIL)


@dataclass(frozen=True)
class Outgoing:
    """One message to queue: its kind (e.g. `reply`, `form`, `ack`) and the channel's payload."""

    kind: str
    payload: dict[str, Any]


class RetryLater(Exception):
    """The message could not be sent now (network, rate limit, a 4xx reply); try again later.
    `after` is the peer's own wait in seconds (e.g. Telegram's retry_after), if it gave one."""

    def __init__(self, reason: str, *, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after


class Undeliverable(Exception):
    """The message can never be sent as it is (blocked bot, unknown chat, a 5xx refusal)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Sent:
    """What a sender reports after a send: the peer's id of the message (e.g. a Message-ID or a
    Telegram message id) and, for a chat, the message ids to remember for wiping it later."""

    external_key: str | None = None
    chat_ref: dict[str, Any] | None = None


class Sender(Protocol):
    """Delivers outbox rows of its channels. `recipient` is the submitter's channel identity (a chat
    id, an address) for rows addressed to a submitter, None for staff alerts. Raises `RetryLater`
    or `Undeliverable` with a reason free of content; any other exception counts as `RetryLater`.
    Holds no transaction across its network I/O: the worker records the result."""

    channels: tuple[str, ...]

    async def send(self, row: OutboxRecord, recipient: str | None) -> Sent:
        ...


Renderer = Callable[[Any], list[Outgoing]]
"""Pure: the `Result` of one receive → the messages to queue on the same channel (may be empty)."""

