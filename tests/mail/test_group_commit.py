"""The SMTP accept's group commit: concurrent sessions' messages share one transaction, each is
answered only after that commit, and a message that cannot be stored costs only its own sender
a 451 (the rest of its batch is stored one by one)."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import event

from intake.accept import GroupCommit, InboxItem
from intake.app import App
from tests.mail.conftest import Harness, smtp_send
from tests.mail.support import message


def _transactions(app: App) -> list[int]:
    begun = [0]

    @event.listens_for(app.store.db.engine.sync_engine, "begin")
    def _begin(conn: object) -> None:
        begun[0] += 1

    return begun


def _item(n: int, envelope: dict[str, object] | None = None) -> InboxItem:
    return InboxItem(dedup_key=f"sha256:{n:064d}", envelope=envelope or {"n": n}, raw=f"message {n}".encode())


async def test_concurrent_arrivals_share_one_commit(app: App) -> None:
    begun = _transactions(app)
    committer = GroupCommit(app.store, app.clock)
    results = await asyncio.gather(*(committer.add(_item(n)) for n in range(10)))
    assert begun[0] == 1  # ten arrivals, one transaction
    assert all(created for _, created in results) and len({inbox_id for inbox_id, _ in results}) == 10
    again = await committer.add(_item(3))  # the same message again: the stored row, not a new one
    assert again == (results[3][0], False)
    async with app.store.read() as uow:
        assert (await uow.inbox.counts()) == {"new": 10}


async def test_one_bad_message_fails_alone(app: App) -> None:
    committer = GroupCommit(app.store, app.clock)
    bad = _item(99, envelope={"not json": object()})  # cannot be encoded: its write raises
    results = await asyncio.gather(*(committer.add(i) for i in [_item(1), bad, _item(2)]), return_exceptions=True)
    assert isinstance(results[1], TypeError)
    assert not isinstance(results[0], BaseException) and not isinstance(results[2], BaseException)
    async with app.store.read() as uow:
        assert (await uow.inbox.counts()) == {"new": 2}


async def test_eight_smtp_clients_all_acknowledged_after_commit(mail: Harness) -> None:
    """Eight real SMTP clients at once: every message answered 250 is in the inbox."""
    codes: list[int] = []
    lock = threading.Lock()

    def client(c: int) -> None:
        for n in range(5):
            raw, _ = message(f"client {c} message {n}", sender=f"c{c}@example.org")
            result = smtp_send(mail.port, raw, mail_from=f"c{c}@example.org")
            with lock:
                codes.append(result.data or 0)

    await asyncio.gather(*(asyncio.to_thread(client, c) for c in range(8)))
    assert codes == [250] * 40
    async with mail.app.store.read() as uow:
        assert sum((await uow.inbox.counts()).values()) == 40
