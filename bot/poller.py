"""Our own getUpdates loop: nothing is acknowledged to Telegram before it is committed.

Telegram confirms an update when getUpdates is next called with an offset above its id. So each
batch is read as raw JSON (no parsing that could fail or log a batch), written to the inbox in one
transaction and committed; only then does the offset move past it, and the next call confirms it.
A crash anywhere before the commit leaves the batch unconfirmed: Telegram hands it out again and
the inbox's dedup key absorbs what was stored already. The long poll is an ordinary cancellable
HTTP request, so a stop takes milliseconds, not the poll timeout.

Several processes on one PostgreSQL: one polls, elected by an advisory lock (`intake.leader`); the
others stand by and one of them takes over within seconds when the holder dies. The new poller
starts without an offset, so Telegram hands it every update not yet confirmed — those the dead
one had committed are absorbed by the inbox's dedup key, none is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx

from bot.accept import store_updates, update_id_of
from bot.app import ALLOWED_UPDATES, bot_id
from intake.app import App
from intake.leader import Leader

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0

_polling: set[str] = set()  # bot ids polled by this process: Telegram allows one getUpdates per token


class PollError(Exception):
    """getUpdates answered with an error (a status code, maybe Telegram's retry_after)."""

    def __init__(self, status: int, after: float | None = None) -> None:
        super().__init__(f"getUpdates answered {status}")
        self.status = status
        self.after = after


class AlreadyPolling(RuntimeError):
    """Another poller of this process already polls this bot."""


class Poller:
    """Long-polls getUpdates and stores every batch in the inbox before confirming it (a Component)."""

    name = "telegram poller"

    def __init__(self, app: App, *, timeout: float = 30.0, limit: int = 100, leader: Leader | None = None) -> None:
        settings = app.settings
        assert settings.telegram_token is not None
        self.app = app
        self.bot = bot_id(settings)
        self.url = f"{settings.telegram_api_url}/bot{settings.telegram_token.get_secret_value()}/getUpdates"
        self.timeout = timeout
        self.limit = limit
        self.offset: int | None = None  # the next update id we want (all below it are committed)
        self.confirmed: int | None = None  # the offset Telegram has been sent
        self.stored = 0  # the highest update id committed by this poller (tests wait on it)
        self.changed = asyncio.Condition()
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.leader = leader or Leader(app.store.db, f"telegram poller {self.bot}")

    async def start(self) -> None:
        if self.bot in _polling:
            raise AlreadyPolling(f"bot {self.bot} is already polled by this process")
        _polling.add(self.bot)
        self._stopping = False
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout + 10, connect=10))
        self._task = asyncio.create_task(self.leader.run(self._run), name="telegram-poller")

    async def stop(self) -> None:
        """Cancel the long poll at once, confirm what was committed, close the connection."""
        if self._task is not None:
            self._stopping = True  # the elected work confirms what it committed while it still holds the lock
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        _polling.discard(self.bot)

    async def wait_stored(self, update_id: int) -> None:
        """Until an update with this id or a later one was committed by this poller."""
        async with self.changed:
            await self.changed.wait_for(lambda: self.stored >= update_id)

    async def _run(self) -> None:
        log.info("telegram: polling for updates (bot %s)", self.bot)
        self.offset = self.confirmed = None  # elected (again): ask for everything not yet confirmed
        failures = 0
        while True:
            try:
                batch = await self._fetch(poll=self.timeout, limit=self.limit)
                await self.take(batch)
                failures = 0
            except asyncio.CancelledError:
                if self._stopping and self.offset is not None and self.offset != self.confirmed:
                    with contextlib.suppress(Exception):  # best effort: unconfirmed updates only come again
                        await self._fetch(poll=0, limit=1, deadline=2.0)
                raise
            except Exception as exc:  # noqa: BLE001 - network, Telegram or database trouble: wait and ask again
                failures += 1
                wait = exc.after if isinstance(exc, PollError) and exc.after else min(2.0 ** min(failures, 5), MAX_BACKOFF_S)
                status = f" {exc.status}" if isinstance(exc, PollError) else ""
                log.warning("telegram: getUpdates pass failed (%s%s); again in %.0f s", type(exc).__name__, status, wait)
                await asyncio.sleep(wait)

    async def take(self, batch: list[dict[str, Any]]) -> None:
        """Commit a batch, then move the offset past it (the next getUpdates confirms it)."""
        updates = [u for u in batch if update_id_of(u) is not None]
        if len(updates) != len(batch):
            log.warning("telegram: %d items without an update id in a getUpdates batch were skipped", len(batch) - len(updates))
        if not updates:
            return
        ids = [int(u["update_id"]) for u in updates]
        added = await store_updates(self.app, self.bot, updates)
        self.offset = max(ids) + 1
        log.debug("telegram: stored %d of %d updates up to %d", added, len(updates), max(ids))
        async with self.changed:
            self.stored = max(self.stored, max(ids))
            self.changed.notify_all()

    async def _fetch(self, *, poll: float, limit: int, deadline: float | None = None) -> list[dict[str, Any]]:
        assert self._client is not None
        params: dict[str, Any] = {"timeout": int(poll), "limit": limit, "allowed_updates": ALLOWED_UPDATES}
        if self.offset is not None:
            params["offset"] = self.offset
        response = await self._client.post(self.url, json=params, timeout=deadline or httpx.USE_CLIENT_DEFAULT)
        try:
            body = response.json()
        except ValueError:
            raise PollError(response.status_code) from None
        if not isinstance(body, dict) or not body.get("ok") or not isinstance(body.get("result"), list):
            parameters = body.get("parameters") if isinstance(body, dict) else None
            after = parameters.get("retry_after") if isinstance(parameters, dict) else None
            raise PollError(response.status_code, float(after) if isinstance(after, int | float) else None)
        self.confirmed = self.offset
        return [u for u in body["result"] if isinstance(u, dict)]
