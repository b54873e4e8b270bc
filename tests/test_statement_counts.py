"""Work per input, counted in SQL statements and transactions (not times, so not flaky): one
Telegram answer, one first email and one SMTP accept through the real decoders and `receive`.

The limits are what the code does today plus a little room; a change that adds a query to every
input fails here and says how many it now takes. Counted with SQLAlchemy's cursor events on the
app's engine (BEGIN/COMMIT/SAVEPOINT not counted as statements; each BEGIN counted as a transaction).
"""

from __future__ import annotations

import asyncio
import itertools

from aiosmtpd.smtp import Envelope, Session
from telegram import Bot

from bench.cpu_probe import Tally, TelegramChat, count
from bot.accept import store_updates
from bot.decoder import TelegramDecoder
from intake.app import App
from mail.decode import MailDecoder
from mail.server import IntakeHandler
from tests.mail.support import message

BOT = "123456"

# whole inbox-worker pass for one answer: the claim (which returns the row), decode, receive
ANSWER_PASS_STATEMENTS = 12  # 11 on PostgreSQL (mark_done destroys the row's key in the same statement)
# the decoder and receive alone: the one transaction (a press is resolved inside it)
ANSWER_STATEMENTS = 11  # 10 on PostgreSQL
ANSWER_TRANSACTIONS = 1
FIRST_EMAIL_STATEMENTS = 20  # 20 on SQLite too: PostgreSQL takes one more (the advisory lock of the first-contact counts) and one fewer (mark_done destroys the key in the same statement)
FIRST_EMAIL_TRANSACTIONS = 2
ACCEPT_STATEMENTS = 4  # three, and the first of a process also reads the blind-index key


async def _row_of(app: App, inbox_id: str):  # type: ignore[no-untyped-def]
    async with app.store.read() as uow:
        return await uow.inbox.get(inbox_id)


async def _claimed(app: App) -> list[str]:
    now = app.clock()
    async with app.store.write() as uow:
        return await uow.inbox.claim(channels=["telegram", "email"], now=now, until=now + app.inbox.lease, limit=1)


async def test_one_telegram_answer(app: App) -> None:
    tally = count(app)
    decoder = TelegramDecoder(app, Bot(f"{BOT}:TOKEN"))
    app.inbox.register(decoder)
    chat = TelegramChat(app, BOT, 4_242_424)
    uid = itertools.count(1)
    seen: dict[str, list[tuple[int, int]]] = {"text": [], "press": []}
    passes: list[int] = []
    for _ in range(25):
        step = chat.next_update()
        assert step is not None
        kind, update = step
        update["update_id"] = next(uid)
        await store_updates(app, BOT, [update])
        [inbox_id] = await _claimed(app)
        row = await _row_of(app, inbox_id)
        tally.reset()
        await decoder.handle(row)
        if kind in seen:
            seen[kind].append((tally.statements, tally.transactions))
        # the same kind of input once more through the whole worker pass
        step = chat.next_update()
        assert step is not None
        kind, update = step
        update["update_id"] = next(uid)
        await store_updates(app, BOT, [update])
        tally.reset()
        assert await app.inbox.run_once() == 1
        passes.append(tally.statements)
    assert seen["text"] and seen["press"]
    for kind, counts in seen.items():
        worst = max(counts)
        assert worst[0] <= ANSWER_STATEMENTS, f"one Telegram {kind} took {worst[0]} statements"
        assert worst[1] <= ANSWER_TRANSACTIONS, f"one Telegram {kind} took {worst[1]} transactions"
    assert max(passes) <= ANSWER_PASS_STATEMENTS, f"one inbox-worker pass took {max(passes)} statements"
    async with app.store.read() as uow:
        assert (await uow.inbox.counts()).get("done") == 50


async def test_first_email_and_its_accept(app: App) -> None:
    tally = count(app)
    decoder = MailDecoder(app)
    app.inbox.register(decoder)
    handler = IntakeHandler(app, address=app.settings.mail_address)
    for n in range(3):
        sender = f"first{n}@example.org"
        raw, _ = message(sender=sender)
        envelope = Envelope()
        envelope.mail_from, envelope.rcpt_tos, envelope.original_content = sender, [app.settings.mail_address], raw
        session = Session(asyncio.get_running_loop())
        session.peer = ("127.0.0.1", 1)
        tally.reset()
        assert (await handler.handle_DATA(None, session, envelope)).startswith("250")  # type: ignore[arg-type]
        assert tally.statements <= ACCEPT_STATEMENTS and tally.transactions == 1, (tally.statements, tally.transactions)
        [inbox_id] = await _claimed(app)
        row = await _row_of(app, inbox_id)
        tally.reset()
        await decoder.handle(row)
        assert tally.statements <= FIRST_EMAIL_STATEMENTS, f"a first email took {tally.statements} statements"
        assert tally.transactions <= FIRST_EMAIL_TRANSACTIONS, f"a first email took {tally.transactions} transactions"
    async with app.store.read() as uow:
        assert len(await uow.outbox.list()) == 3  # each first email answered with the form


def test_tally_is_a_counter() -> None:
    tally = Tally(statements=3, transactions=1)
    tally.reset()
    assert (tally.statements, tally.transactions) == (0, 0)
