"""Pacing sends by Telegram's own rules (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):

- in one private chat, about one message per second; short bursts are allowed ("we may allow
  short bursts that go over this limit"), so each chat has a bucket of `burst` messages refilled
  one per `chat_interval` seconds;
- in one group chat, at most 20 messages per minute (staff alerts go to a group);
- bulk notifications to many users, at most 30 messages per second across chats.

Replies to what a submitter just did are paced per chat only: 50 people talking to the bot each
get their answers at their own chat's pace, and the bot as a whole is not held to 30/s (nor to
1/s). Messages nobody just asked for — staff alerts, follow-ups and decisions, retention notices,
which come in bulk — also take a slot of the global 30/s bucket (aiolimiter's leaky bucket, one
slot deep, so no second ever holds more than 30).
Edits and callback answers add no message to the chat and are not paced. A 429 still happens
(another process sends to the same chat; Telegram's own judgement): its retry_after holds that
chat here and the delivery worker retries the row after exactly that wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiolimiter import AsyncLimiter

MAX_CHATS = 10_000  # chat buckets kept before idle (full) ones are forgotten


class Pacer:
    """Per-chat token buckets plus one global bucket, for one process's sends."""

    def __init__(
        self, *, chat_interval: float = 1.0, burst: int = 3, group_per_minute: int = 20, global_rate: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.chat_interval = chat_interval
        self.group_interval = 60.0 / group_per_minute
        self.burst = max(burst, 1)
        self.clock = clock
        self.global_bucket = AsyncLimiter(1, 1.0 / global_rate)  # evenly spaced: never more than the rate in any second
        self._chats: dict[int, tuple[float, float]] = {}  # chat → (tokens, at); tokens < 0: reserved ahead

    def _interval(self, chat_id: int) -> float:
        return self.group_interval if chat_id < 0 else self.chat_interval

    def reserve(self, chat_id: int) -> float:
        """Take the chat's next slot; returns how long to wait for it (0: now)."""
        interval = self._interval(chat_id)
        if interval <= 0:
            return 0.0
        now = self.clock()
        burst = 1 if chat_id < 0 else self.burst
        tokens, at = self._chats.get(chat_id, (float(burst), now))
        tokens = min(float(burst), tokens + (now - at) / interval) - 1.0
        self._chats[chat_id] = (tokens, now)
        if len(self._chats) > MAX_CHATS:
            self._forget(now)
        return 0.0 if tokens >= 0 else -tokens * interval

    async def chat(self, chat_id: int) -> None:
        """Wait for this chat's next slot."""
        wait = self.reserve(chat_id)
        if wait > 0:
            await asyncio.sleep(wait)

    async def broadcast(self) -> None:
        """Wait for a token of the global bucket (messages nobody just asked for)."""
        await self.global_bucket.acquire()

    def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said 429 with retry_after for this chat: nothing goes to it before then."""
        interval = self._interval(chat_id) or 1.0
        self._chats[chat_id] = (-seconds / interval, self.clock())

    def _forget(self, now: float) -> None:
        for chat_id, (tokens, at) in list(self._chats.items()):
            interval = self._interval(chat_id) or 1.0
            if tokens + (now - at) / interval >= (1 if chat_id < 0 else self.burst):
                del self._chats[chat_id]
