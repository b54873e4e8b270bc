"""The pipeline on a real database: inbox → receive (one transaction) → outbox → delivery worker.

A small line-based channel stands in for a real one here (the real channels have their own tests
against the fake Bot API and real SMTP): its decoder turns a stored line into an `Inbound`, its
renderer queues the prompt text, and its sender records what it was asked to send.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from intake import engine
from intake.app import App
from intake.channels import OutboxRecord, Outgoing, RetryLater, Sent, Undeliverable
from intake.inbound import Inbound, Intent, Result
from storage.repositories import InboxRecord
from tests.support import FixedClock

CHANNEL = "terminal"


def render(result: Result) -> list[Outgoing]:
    if result.turn is None:
        return [Outgoing("reply", {"text": "no case"})]
    return [Outgoing("reply", {"text": result.turn.prompt.text, "error": result.turn.error})]


class LineDecoder:
    channel = CHANNEL

    def __init__(self, app: App) -> None:
        self.app = app
        self.calls = 0

    async def handle(self, row: InboxRecord) -> None:
        self.calls += 1
        line = row.raw.decode()
        who = str(row.envelope["who"])
        if line == "ignore":
            return
        inbound = Inbound(Intent.START) if line == "/start" else Inbound(Intent.STEP, action=engine.Answer(line))
        await self.app.receiver.receive(CHANNEL, who, inbound, render=render, inbox_id=row.id)


class RecordingSender:
    channels = (CHANNEL,)

    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None, dict[str, Any]]] = []
        self.fail: list[Exception] = []
        self.during: Any = None

    async def send(self, row: OutboxRecord, recipient: str | None) -> Sent:
        if self.during is not None:
            await self.during()
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append((row.id, recipient, row.payload))
        return Sent(external_key=f"ext-{row.id}")


async def arrive(app: App, who: str, line: str, key: str) -> str:
    async with app.store.write() as uow:
        inbox_id, _ = await uow.inbox.add(
            channel=CHANNEL, dedup_key=key, envelope={"who": who}, raw=line.encode(), now=app.clock(), order_key=f"{CHANNEL}:{who}"
        )
    return inbox_id


@pytest.fixture
def wired(app: App) -> tuple[App, LineDecoder, RecordingSender]:
    decoder, sender = LineDecoder(app), RecordingSender()
    app.inbox.register(decoder)
    app.delivery.register(sender)
    return app, decoder, sender


async def drain(app: App) -> None:
    while await app.inbox.run_once() or await app.delivery.run_once():
        pass


async def statuses(app: App) -> dict[str, int]:
    async with app.store.read() as uow:
        return await uow.inbox.counts()


async def test_each_input_once_and_one_reply(wired: tuple[App, LineDecoder, RecordingSender]) -> None:
    app, _, sender = wired
    first = await arrive(app, "ana", "/start", "k1")
    assert await arrive(app, "ana", "/start", "k1") == first  # the same input twice: one row
    await arrive(app, "ana", "yes", "k2")
    await drain(app)
    assert await statuses(app) == {"done": 2}
    texts = [payload["text"] for _, _, payload in sender.sent]
    assert len(texts) == 2 and "safe" in texts[0] and "danger" in texts[1]
    assert {recipient for _, recipient, _ in sender.sent} == {"ana"}
    async with app.store.read() as uow:
        rows = await uow.outbox.list()
    assert {r.status for r in rows} == {"sent"}


async def test_rows_of_one_chat_in_order_others_concurrently(wired: tuple[App, LineDecoder, RecordingSender]) -> None:
    app, _, _ = wired
    a1 = await arrive(app, "ana", "/start", "a1")
    await arrive(app, "ana", "yes", "a2")
    b1 = await arrive(app, "ben", "/start", "b1")
    now = app.clock()
    async with app.store.write() as uow:
        claimed = await uow.inbox.claim(channels=[CHANNEL], now=now, until=now + app.inbox.lease, limit=10)
    assert sorted(claimed) == sorted([a1, b1])  # ana's second line waits for her first
    async with app.store.write() as uow:  # leased rows are not handed out twice
        assert await uow.inbox.claim(channels=[CHANNEL], now=now, until=now + app.inbox.lease, limit=10) == []


async def test_an_expired_lease_is_taken_again(wired: tuple[App, LineDecoder, RecordingSender], clock: FixedClock) -> None:
    app, _, sender = wired
    row = await arrive(app, "ana", "/start", "k1")
    now = app.clock()
    async with app.store.write() as uow:  # a worker claimed it, then its process died
        assert await uow.inbox.claim(channels=[CHANNEL], now=now, until=now + app.inbox.lease, limit=10) == [row]
    assert await app.inbox.run_once() == 0
    clock.advance(seconds=app.inbox.lease.total_seconds() + 1)
    await drain(app)
    assert await statuses(app) == {"done": 1} and len(sender.sent) == 1


STEPS = ["applied", "queued", "done"]


@pytest.mark.parametrize("step", STEPS)
async def test_a_crash_at_any_step_leaves_no_trace(wired: tuple[App, LineDecoder, RecordingSender], clock: FixedClock, step: str) -> None:
    app, decoder, sender = wired
    await arrive(app, "ana", "/start", "k1")

    def crash(name: str) -> None:
        if name == step:
            raise RuntimeError(f"crash at {name}")

    app.receiver.fault = crash
    assert await app.inbox.run_once() == 1
    async with app.store.read() as uow:
        assert await uow.cases.list(statuses=["draft"]) == []
        assert await uow.outbox.list() == []
        assert (await uow.inbox.list())[0].status == "new"
    app.receiver.fault = None
    clock.advance(seconds=5)  # past the retry backoff
    await drain(app)
    assert decoder.calls == 2
    assert await statuses(app) == {"done": 1}
    async with app.store.read() as uow:
        assert len(await uow.cases.list(statuses=["draft"])) == 1
    assert len(sender.sent) == 1


async def test_a_poison_row_ends_failed_and_the_chat_goes_on(wired: tuple[App, LineDecoder, RecordingSender], clock: FixedClock) -> None:
    app, decoder, _ = wired
    await arrive(app, "ana", "/start", "k1")
    await arrive(app, "ana", "yes", "k2")
    app.receiver.fault = lambda name: (_ for _ in ()).throw(ValueError("poison")) if decoder.calls <= 5 else None
    for _ in range(8):
        await app.inbox.run_once()
        clock.advance(seconds=61)
    app.receiver.fault = None
    await drain(app)
    async with app.store.read() as uow:
        rows = sorted(await uow.inbox.list(), key=lambda r: r.received_at)
    assert sorted(r.status for r in rows) == ["done", "failed"]
    failed = next(r for r in rows if r.status == "failed")
    assert failed.attempts == 5 and failed.error is not None and "ValueError" in failed.error and "poison" not in failed.error


async def test_delivery_retries_then_fails_visibly(wired: tuple[App, LineDecoder, RecordingSender], clock: FixedClock) -> None:
    app, _, sender = wired
    await arrive(app, "ana", "/start", "k1")
    await app.inbox.run_once()
    sender.fail = [RetryLater("429", after=3), Undeliverable("Forbidden")]
    assert await app.delivery.run_once() == 1
    async with app.store.read() as uow:
        row = (await uow.outbox.list())[0]
    assert row.status == "pending" and row.attempts == 1 and row.last_error == "429"
    assert await app.delivery.run_once() == 0  # waits the peer's retry_after
    clock.advance(seconds=3)
    assert await app.delivery.run_once() == 1
    async with app.store.read() as uow:
        row = (await uow.outbox.list())[0]
    assert row.status == "failed" and row.last_error == "Forbidden" and sender.sent == []
    async with app.store.write() as uow:  # a human presses retry
        await uow.outbox.requeue(row.id, now=app.clock())
    await app.delivery.run_once()
    assert len(sender.sent) == 1


async def test_no_transaction_is_open_while_sending(wired: tuple[App, LineDecoder, RecordingSender]) -> None:
    app, _, sender = wired
    await arrive(app, "ana", "/start", "k1")
    await app.inbox.run_once()
    writes: list[str] = []

    async def write_meanwhile() -> None:
        # with SQLite's one writer, this would wait for the busy timeout if the worker held a transaction
        async with asyncio.timeout(2):
            writes.append(await arrive(app, "ben", "/start", "other"))

    sender.during = write_meanwhile
    assert await app.delivery.run_once() == 1
    assert writes and len(sender.sent) == 1


async def test_a_lease_is_renewed_while_the_work_runs(app: App, clock: FixedClock) -> None:
    """A row whose work outlasts its lease is not handed to another worker meanwhile."""
    from datetime import timedelta

    app.inbox.lease = timedelta(seconds=0.3)
    seen: list[list[str]] = []

    class SlowDecoder(LineDecoder):
        async def handle(self, row: InboxRecord) -> None:
            clock.advance(seconds=0.25)
            await asyncio.sleep(0.25)  # renewals run every 0.1 s meanwhile
            clock.advance(seconds=0.25)  # past the first lease, within a renewed one
            now = app.clock()
            async with app.store.write() as uow:
                seen.append(await uow.inbox.claim(channels=[CHANNEL], now=now, until=now + app.inbox.lease, limit=10))
            await super().handle(row)

    app.inbox.register(SlowDecoder(app))
    await arrive(app, "ana", "/start", "k1")
    assert await app.inbox.run_once() == 1
    assert seen == [[]]  # still leased: nobody else could take it
    assert await statuses(app) == {"done": 1}
