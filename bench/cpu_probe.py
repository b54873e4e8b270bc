"""Work per input through the real pipeline: SQL statements, transactions and CPU per Telegram
answer, per first email, and per SMTP accept, counted with SQLAlchemy cursor events.

Each input goes the way it goes in production: a Telegram update is stored by `bot.accept`, claimed
by the inbox worker and handed to the Telegram decoder, which calls `Receiver.receive`; an email is
stored by the SMTP handler's `handle_DATA` and processed the same way by the mail decoder. Nothing
is sent (the delivery worker is not run): the figures are what one input costs up to the commit
that queues its replies.

    python -m bench.cpu_probe [--db URL] [--chats N] [--emails N] [--profile telegram|email]

Without --db a SQLite file in a temporary directory is used. `--profile` prints a pyinstrument
profile of that path (the statement counts are taken in a separate, unprofiled pass).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event

from intake import app as core
from intake import engine
from intake.engine import Draft
from intake.questionnaire import FieldType
from intake.settings import Settings, async_url

KEY = base64.b64encode(b"p" * 32).decode()
TOKEN = "123456:PROBE"
SENDERS = itertools.count(1)


@dataclass
class Tally:
    """Statements and transactions seen on one engine."""

    statements: int = 0
    transactions: int = 0
    texts: list[str] = field(default_factory=list)
    keep: bool = False

    def reset(self) -> None:
        self.statements = self.transactions = 0
        self.texts = []


def count(app: core.App) -> Tally:
    """Count every statement (BEGIN/COMMIT/ROLLBACK/SAVEPOINT excluded) and every transaction begun."""
    tally = Tally()
    sync = app.store.db.engine.sync_engine

    @event.listens_for(sync, "before_cursor_execute")
    def _stmt(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        head = statement.lstrip()[:9].upper()
        if head.startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            return
        tally.statements += 1
        if tally.keep:
            tally.texts.append(statement.split("\n")[0][:110])

    @event.listens_for(sync, "begin")
    def _begin(conn: Any) -> None:
        tally.transactions += 1

    return tally


@contextmanager
def cpu() -> Iterator[list[float]]:
    out: list[float] = []
    start = time.process_time()
    yield out
    out.append(time.process_time() - start)


async def make_app(url: str | None, tmp: Path) -> core.App:
    db = async_url(url) if url else async_url(f"sqlite:///{tmp / 'probe.db'}")
    if url and url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            conn.execute("CREATE SCHEMA public")
    await asyncio.to_thread(core.migrate, db)
    settings = Settings(env="test", data_dir=tmp / "data", database_url=db, secret_keys=KEY, _env_file=None)  # type: ignore[call-arg]
    app = core.build(settings)
    await app.store.prepare(now=app.clock())
    return app


# ---- Telegram ------------------------------------------------------------------------------------

class TelegramChat:
    """One chat answering the questionnaire the way a person does (buttons for choices, text
    otherwise), its draft mirrored on the pure engine so it knows what is asked next."""

    ids = itertools.count(1)

    def __init__(self, app: core.App, bot: str, chat_id: int) -> None:
        self.app, self.bot, self.chat_id = app, bot, chat_id
        self.draft: Draft | None = None
        self.message_id = 1000

    def _msg(self, text: str) -> dict[str, Any]:
        self.message_id += 1
        msg: dict[str, Any] = {"message_id": self.message_id, "date": int(time.time()), "text": text,
                               "chat": {"id": self.chat_id, "type": "private", "first_name": "Sub"},
                               "from": {"id": self.chat_id, "is_bot": False, "first_name": "Sub", "language_code": "en"}}
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return {"message": msg}

    def _press(self, data: str) -> dict[str, Any]:
        message = {"message_id": self.message_id, "date": int(time.time()), "text": "…",
                   "chat": {"id": self.chat_id, "type": "private", "first_name": "Sub"},
                   "from": {"id": 1, "is_bot": True, "first_name": "Bot"}}
        return {"callback_query": {"id": str(next(self.ids)), "from": {"id": self.chat_id, "is_bot": False, "first_name": "Sub",
                                                                       "language_code": "en"},
                                   "chat_instance": f"ci{self.chat_id}", "data": data, "message": message}}

    def next_update(self) -> tuple[str, dict[str, Any]] | None:
        """("start" | "text" | "press", update) for the next input, or None when the draft is done."""
        from bot import render
        from tests.support import answer_for

        q = self.app.questionnaire
        if self.draft is None:
            self.draft = engine.start("en")
            return "start", self._msg("/start")
        prompt = engine.next_prompt(q, self.draft)
        if prompt.kind not in ("question", "add"):
            return None
        action = answer_for(prompt)
        if prompt.field_type == FieldType.MULTI_CHOICE and prompt.kind == "question":
            action = engine.Command("done") if self.draft.answers.get(prompt.path or "") else engine.Toggle(prompt.options[0].id)
        outcome = engine.apply(q, self.draft, action)
        assert outcome.ok, outcome.error
        self.draft = outcome.draft
        if isinstance(action, engine.Answer):
            return "text", self._msg(action.text)
        tag = render.tag_of(prompt)
        if isinstance(action, engine.Command):
            return "press", self._press(f"c:{tag}:{action.name}")
        assert isinstance(action, engine.Choose | engine.Toggle)
        index = [o.id for o in prompt.options].index(action.option)
        return "press", self._press(f"o:{tag}:{index}")


async def telegram(app: core.App, tally: Tally, *, chats: int, steps: int) -> dict[str, Any]:
    from telegram import Bot

    from bot.accept import store_updates
    from bot.decoder import TelegramDecoder

    bot = Bot(TOKEN)
    app.inbox.register(TelegramDecoder(app, bot))
    uid = itertools.count(1)
    per: dict[str, list[tuple[int, int, float]]] = {"accept": [], "start": [], "text": [], "press": []}
    chat_list = [TelegramChat(app, "123456", 5_000_000 + n) for n in range(chats)]
    for _ in range(steps):
        for chat in chat_list:
            nxt = chat.next_update()
            if nxt is None:
                continue
            kind, update = nxt
            update["update_id"] = next(uid)
            tally.reset()
            with cpu() as spent:
                await store_updates(app, "123456", [update])
            per["accept"].append((tally.statements, tally.transactions, spent[0]))
            tally.reset()
            with cpu() as spent:
                done = await app.inbox.run_once()
            assert done == 1
            per[kind].append((tally.statements, tally.transactions, spent[0]))
    return per


# ---- email ---------------------------------------------------------------------------------------

async def email(app: core.App, tally: Tally, *, emails: int) -> dict[str, Any]:
    from aiosmtpd.smtp import Envelope, Session

    from mail.decode import MailDecoder
    from mail.server import IntakeHandler
    from tests.mail.support import message

    app.inbox.register(MailDecoder(app))
    handler = IntakeHandler(app, address=app.settings.mail_address)
    per: dict[str, list[tuple[int, int, float]]] = {"accept": [], "first email": []}
    for _ in range(emails):
        sender = f"ngo{next(SENDERS)}@example.org"
        raw, _ = message(sender=sender)
        env = Envelope()
        env.mail_from, env.rcpt_tos, env.original_content = sender, [app.settings.mail_address], raw
        session = Session(asyncio.get_running_loop())
        session.peer = ("127.0.0.1", 1)
        tally.reset()
        with cpu() as spent:
            status = await handler.handle_DATA(None, session, env)  # type: ignore[arg-type]
        assert status.startswith("250"), status
        per["accept"].append((tally.statements, tally.transactions, spent[0]))
        tally.reset()
        with cpu() as spent:
            assert await app.inbox.run_once() == 1
        per["first email"].append((tally.statements, tally.transactions, spent[0]))
    return per


# ---- SMTP accept throughput ----------------------------------------------------------------------

CLIENTS = """
import smtplib, sys, threading, time
host, port, clients, each = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
body = ("Subject: case\\r\\nFrom: c{c}@example.org\\r\\nTo: cases@localhost\\r\\nMessage-ID: <{c}.{n}.{r}@example.org>\\r\\n\\r\\n"
        + "We want to report a case.\\r\\n" * 40)
run = str(time.time_ns())
def client(c):
    with smtplib.SMTP(host, port) as s:
        for n in range(each):
            s.sendmail(f"c{c}@example.org", ["cases@localhost"], body.format(c=c, n=n, r=run).encode())
threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
start = time.perf_counter()
[t.start() for t in threads]
[t.join() for t in threads]
print(time.perf_counter() - start)
"""


async def smtp(app: core.App, *, clients: int, each: int, reps: int) -> dict[str, list[float]]:
    """Messages per second accepted by aiosmtpd's Sink, by aiosmtpd with one raw INSERT/COMMIT per
    message (the durable floor), and by our handler, interleaved, the clients in another process."""
    from aiosmtpd.handlers import Sink
    from aiosmtpd.smtp import SMTP
    from sqlalchemy import text

    from mail.server import IntakeHandler

    engine = app.store.db.engine
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS floor_msgs (id VARCHAR(40) PRIMARY KEY, raw BLOB)"
                                if engine.dialect.name == "sqlite" else
                                "CREATE TABLE IF NOT EXISTS floor_msgs (id VARCHAR(40) PRIMARY KEY, raw BYTEA)"))
    ids = itertools.count()

    class Durable:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO floor_msgs (id, raw) VALUES (:id, :raw)"),
                                   {"id": f"{time.time_ns()}-{next(ids)}", "raw": envelope.original_content})
            return "250 OK"

    handlers: dict[str, Any] = {"sink": Sink(), "durable floor": Durable(), "intake": IntakeHandler(app, address="cases@localhost")}
    out: dict[str, list[float]] = {name: [] for name in handlers}
    loop = asyncio.get_running_loop()
    for _ in range(reps):
        for name, handler in handlers.items():
            server = await loop.create_server(lambda h=handler: SMTP(h, data_size_limit=None, loop=loop), "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            proc = await asyncio.create_subprocess_exec(sys.executable, "-c", CLIENTS, "127.0.0.1", str(port), str(clients), str(each),
                                                        stdout=asyncio.subprocess.PIPE)
            stdout, _ = await proc.communicate()
            assert proc.returncode == 0, f"the SMTP clients failed against {name}"
            server.close()
            await server.wait_closed()
            out[name].append(clients * each / float(stdout.decode().strip()))
    return out


# ---- report --------------------------------------------------------------------------------------

def summary(per: dict[str, list[tuple[int, int, float]]]) -> list[str]:
    lines = []
    for kind, rows in per.items():
        if not rows:
            continue
        stmts = [r[0] for r in rows]
        txs = [r[1] for r in rows]
        ms = [r[2] * 1000 for r in rows]
        lines.append(
            f"  {kind:12} n={len(rows):4}  statements median {statistics.median(stmts):5.1f} max {max(stmts):3}"
            f"  transactions median {statistics.median(txs):3.1f} max {max(txs)}  CPU ms median {statistics.median(ms):6.2f}"
            f" mean {statistics.mean(ms):6.2f}"
        )
    return lines


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=None)
    parser.add_argument("--chats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--emails", type=int, default=30)
    parser.add_argument("--profile", choices=["telegram", "email"], default=None)
    parser.add_argument("--smtp", action="store_true", help="SMTP accept throughput against its floors (8 clients x 50 messages)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--show", choices=["text", "press", "first email", "start"], default=None,
                        help="print the statements of one input of this kind")
    args = parser.parse_args(argv)
    import logging

    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as tmp:
        app = await make_app(args.db, Path(tmp))
        tally = count(app)
        try:
            print(f"database: {app.store.db.dialect}")
            if args.smtp:
                rates = await smtp(app, clients=8, each=50, reps=args.reps)
                floor = statistics.median(rates["durable floor"])
                for name, values in rates.items():
                    print(f"  SMTP accept {name:14} median {statistics.median(values):7.0f} msg/s  min {min(values):7.0f}  max {max(values):7.0f}"
                          f"  ratio to durable floor {statistics.median(values) / floor:5.2f}")
                return
            if args.profile:
                from pyinstrument import Profiler

                profiler = Profiler(async_mode="enabled")
                with profiler:
                    if args.profile == "telegram":
                        await telegram(app, tally, chats=args.chats, steps=args.steps)
                    else:
                        await email(app, tally, emails=args.emails)
                print(profiler.output_text(unicode=True, color=False, show_all=False))
                return
            per = await telegram(app, tally, chats=args.chats, steps=args.steps)
            print("Telegram (accept = bot.accept.store_updates; start/text/press = inbox worker claim + decode + receive):")
            print("\n".join(summary(per)))
            per = await email(app, tally, emails=args.emails)
            print("email (accept = IntakeHandler.handle_DATA; first email = inbox worker claim + decode + receive):")
            print("\n".join(summary(per)))
            if args.show:
                tally.keep = True
                if args.show == "first email":
                    await email(app, tally, emails=1)
                    tally.keep = False
                else:
                    chat = TelegramChat(app, "123456", 7_000_000)
                    uid = itertools.count(10_000_000)
                    from bot.accept import store_updates

                    while (nxt := chat.next_update()) is not None:
                        kind, update = nxt
                        update["update_id"] = next(uid)
                        await store_updates(app, "123456", [update])
                        tally.reset()
                        tally.keep = True
                        await app.inbox.run_once()
                        tally.keep = False
                        if kind == args.show:
                            break
                print(f"statements of one {args.show}:")
                print("\n".join("  " + t for t in tally.texts))
        finally:
            await app.store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
