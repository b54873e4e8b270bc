"""The email floors, each an aiosmtpd server in its own process (as `intake run` is):

- `sink`: aiosmtpd's own Sink handler (accepts and forgets);
- `durable`: a handler that does one raw INSERT + COMMIT of the message into a table of the same
  database kind as ours (SQLite in WAL with synchronous=NORMAL as ours, or PostgreSQL via psycopg),
  then answers 250 — what "accepted" must cost at least when it survives a crash;
- `reply`: accepts, then one worker parses the message with the stdlib (email.parser, default
  policy), builds the reply (EmailMessage with In-Reply-To/References) and sends it to the relay
  with aiosmtplib — the least an auto-reply costs.

`python -m bench.smtpfloor MODE --port P [--db URL] [--relay PORT]`; Ctrl-C stops it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sqlite3
import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import aiosmtplib
from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP


class Durable:
    def __init__(self, url: str) -> None:
        self.url = url
        self.pg: Any = None
        self.sq: sqlite3.Connection | None = None

    async def open(self) -> None:
        if self.url.startswith("sqlite"):
            self.sq = sqlite3.connect(self.url.split("///", 1)[1], isolation_level=None, check_same_thread=False)
            self.sq.execute("PRAGMA journal_mode=WAL")
            self.sq.execute("PRAGMA synchronous=NORMAL")
            self.sq.execute("CREATE TABLE IF NOT EXISTS floor_inbox (id TEXT PRIMARY KEY, sender TEXT, body BLOB)")
        else:
            import psycopg

            self.pg = await psycopg.AsyncConnection.connect(self.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
            await self.pg.execute("CREATE TABLE IF NOT EXISTS floor_inbox (id TEXT PRIMARY KEY, sender TEXT, body BYTEA)")
        self.lock = asyncio.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        row = (uuid.uuid4().hex, envelope.mail_from, envelope.original_content or envelope.content)
        if self.sq is not None:
            self.sq.execute("BEGIN IMMEDIATE")
            self.sq.execute("INSERT INTO floor_inbox VALUES (?, ?, ?)", row)
            self.sq.execute("COMMIT")
        else:
            async with self.lock:  # one connection, as one transaction at a time
                async with self.pg.transaction():
                    await self.pg.execute("INSERT INTO floor_inbox VALUES (%s, %s, %s)", row)
        return "250 OK"


class Reply:
    def __init__(self, relay_port: int) -> None:
        self.relay_port = relay_port
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.queue.put_nowait(envelope.original_content or envelope.content)
        return "250 OK"

    async def worker(self) -> None:
        while True:
            raw = await self.queue.get()
            msg = message_from_bytes(raw, policy=policy.default)
            body = msg.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            reply = EmailMessage()
            reply["From"] = "cases@localhost"
            reply["To"] = str(msg["From"])
            reply["Subject"] = f"Re: {msg['Subject']}"
            reply["In-Reply-To"] = str(msg["Message-ID"])
            reply["References"] = str(msg["Message-ID"])
            reply["Message-ID"] = f"<{uuid.uuid4().hex}@localhost>"
            reply.set_content(f"We received your message ({len(text)} characters). Your reference: HT-XXXX-XXXX.")
            try:
                await aiosmtplib.send(reply, hostname="127.0.0.1", port=self.relay_port)
            except aiosmtplib.SMTPException:
                pass


async def main_async(args: argparse.Namespace) -> None:
    handler: Any
    task: asyncio.Task[None] | None = None
    if args.mode == "sink":
        handler = Sink()
    elif args.mode == "durable":
        handler = Durable(args.db)
        await handler.open()
    else:
        handler = Reply(args.relay)
        task = asyncio.create_task(handler.worker())
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="localhost", enable_SMTPUTF8=True, data_size_limit=26214400, loop=loop), "127.0.0.1", args.port)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["sink", "durable", "reply"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--db", default="")
    p.add_argument("--relay", type=int, default=0)
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()
