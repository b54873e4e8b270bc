"""Delivery of outbox rows owned by the Telegram channel, with retries and visible failures.

Rows with channel "telegram" go to a submitter's chat (staff follow-ups and notices); rows with
channel "staff" go to INTAKE_TELEGRAM_STAFF_CHAT_ID when it is set (new-case and reply alerts:
reference, abuse forms, countries and a console link — never names or narrative).

Each row is sent inside its own transaction that holds the row's lock (SKIP LOCKED), so two
workers never send one row twice; a crash between the send and the commit sends it again
(at-least-once). A 429 is retried after Telegram's `retry_after`; network trouble with growing
backoff; a refusal (blocked bot, unknown chat) or too many attempts marks the row failed, where
the console shows it and a human can retry it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot import render
from intake.app import App
from intake.fields import country_name
from intake.i18n import translator
from intake.questionnaire import Question
from storage.repositories import OutboxRecord, UnitOfWork

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_BACKOFF_S = 5.0
MAX_BACKOFF_S = 3600.0


def backoff(attempts: int) -> timedelta:
    """The wait before the next try after `attempts` failed ones: 5 s, 10 s, 20 s … at most an hour."""
    return timedelta(seconds=min(BASE_BACKOFF_S * (2 ** max(attempts - 1, 0)), MAX_BACKOFF_S))


class OutboxWorker:
    """Sends due outbox rows of the Telegram channel (a runtime Component)."""

    name = "telegram outbox"

    def __init__(self, core: App, bot: Bot, *, interval: float = 1.0, batch: int = 20) -> None:
        self.core = core
        self.bot = bot
        self.interval = interval
        self.batch = batch
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def channels(self) -> list[str]:
        return ["telegram"] + (["staff"] if self.core.settings.telegram_staff_chat_id is not None else [])

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name="telegram-outbox")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("telegram outbox pass failed")  # the traceback carries no row content
                sent = 0
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.interval)

    async def run_once(self) -> int:
        """Try every due row once (up to `batch` per channel); returns how many were handled."""
        handled = 0
        for channel in self.channels:
            for _ in range(self.batch):
                if not await self._one(channel):
                    break
                handled += 1
        return handled

    async def _one(self, channel: str) -> bool:
        async with self.core.store.write() as uow:
            rows = await uow.outbox.due(channel=channel, now=self.core.clock(), limit=1)
            if not rows:
                return False
            row = rows[0]
            try:
                chat_id, text, submitter_id = await self._compose(uow, row)
                message = await self.bot.send_message(chat_id, text)
            except RetryAfter as exc:
                wait = exc.retry_after if isinstance(exc.retry_after, timedelta) else timedelta(seconds=exc.retry_after)
                await uow.outbox.mark_retry(row.id, error=f"429 retry after {wait.total_seconds():g}s", next_attempt_at=self.core.clock() + wait)
                log.warning("outbox %s: Telegram asked to wait %ss", row.id, wait.total_seconds())
            except (Forbidden, BadRequest) as exc:
                await uow.outbox.mark_failed(row.id, error=f"{type(exc).__name__}: {exc.message}")
                log.warning("outbox %s failed for good: %s", row.id, type(exc).__name__)
            except TelegramError as exc:
                await self._retry_or_fail(uow, row, f"{type(exc).__name__}: {exc.message}")
            except _Undeliverable as exc:
                await uow.outbox.mark_failed(row.id, error=str(exc))
                log.warning("outbox %s failed for good: %s", row.id, exc)
            else:
                await uow.outbox.mark_sent(row.id, now=self.core.clock(), external_key=f"telegram:{chat_id}:{message.message_id}")
                if submitter_id is not None:
                    await uow.chatlog.add(
                        submitter_id=submitter_id, case_id=row.case_id, direction="out",
                        ref={"chat_id": chat_id, "message_ids": [message.message_id]}, now=self.core.clock(),
                    )
                log.info("outbox %s sent (%s)", row.id, row.kind)
        return True

    async def _retry_or_fail(self, uow: UnitOfWork, row: OutboxRecord, error: str) -> None:
        if row.attempts + 1 >= MAX_ATTEMPTS:
            await uow.outbox.mark_failed(row.id, error=error)
            log.warning("outbox %s failed after %s attempts", row.id, row.attempts + 1)
            return
        await uow.outbox.mark_retry(row.id, error=error, next_attempt_at=self.core.clock() + backoff(row.attempts + 1))
        log.warning("outbox %s: attempt %s failed, will retry", row.id, row.attempts + 1)

    async def _compose(self, uow: UnitOfWork, row: OutboxRecord) -> tuple[int, str, str | None]:
        """The chat, the text and the submitter (for the chat log) of one row."""
        if row.channel == "staff":
            chat = self.core.settings.telegram_staff_chat_id
            if chat is None:  # pragma: no cover - staff rows are only taken when it is set
                raise _Undeliverable("no staff chat configured")
            return chat, self.staff_text(row.kind, row.payload), None
        if row.submitter_id is None:
            raise _Undeliverable("row has no submitter")
        identity = await uow.submitters.identity(row.submitter_id)
        try:
            chat_id = int(identity)
        except ValueError:
            raise _Undeliverable("submitter is not a Telegram chat") from None
        lang = (await uow.submitters.get(row.submitter_id)).lang
        text = str(row.payload.get("text") or "")
        if not text:
            raise _Undeliverable("row has no text")
        reference = row.payload.get("reference")
        if reference is None and row.case_id is not None:
            reference = (await uow.cases.get(row.case_id)).reference
        if reference is None:
            return chat_id, text, row.submitter_id
        if row.kind == "followup":
            return chat_id, render.followup(str(reference), text, lang), row.submitter_id
        return chat_id, render.staff_notice(str(reference), text, lang), row.submitter_id

    def staff_text(self, kind: str, payload: dict[str, Any]) -> str:
        """A staff alert: reference, abuse forms, countries and the console link. No names, no narrative."""
        t = translator("en")
        reference = str(payload.get("reference", "?"))
        link = f"{self.core.settings.public_url}/cases/{reference}"
        if kind == "staff_alert":
            question = self.core.questionnaire.items_by_id().get("abuse_forms")
            forms = []
            for form in payload.get("abuse_forms") or []:
                option = question.option(form) if isinstance(question, Question) else None
                forms.append(option.text.get("en") if option else str(form))
            countries = [f"{country_name(c)} ({c})" for c in payload.get("countries") or []]
            lines = [
                t("New case {ref}", ref=reference),
                t("Abuse: {forms}", forms=", ".join(forms) or t("not given")),
                t("Countries: {countries}", countries=", ".join(countries) or t("not given")),
            ]
            if payload.get("victims_minors") == "yes":
                lines.append(t("Minors among the victims: yes"))
            lines.append(link)
            return "\n".join(lines)
        if kind == "reply_alert":
            return "\n".join([t("The submitter replied on case {ref}", ref=reference), link])
        return "\n".join([t("Case {ref}: {kind}", ref=reference, kind=kind), link])


class _Undeliverable(Exception):
    """A row that can never be sent as it is (no recipient, no text)."""
