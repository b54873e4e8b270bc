"""Tables 2 and 3 — email.

smtp: K smtplib clients × L messages each (one connection per client) to `intake run`'s SMTP port
vs. aiosmtpd's Sink and vs. the durable floor (aiosmtpd + one raw INSERT/COMMIT); accepted
messages/s and CPU per message of the server process. For ours also: how long after the last 250
the inbox is drained (every row done or failed) — it keeps up when that is no longer than the
sending took.

email: N first emails (distinct senders) to `intake run`, timed from the first send to the N-th
auto-reply received by a capturing aiosmtpd relay, vs. the floor (stdlib parse + reply +
aiosmtplib send, one worker)."""

from __future__ import annotations

import asyncio
import itertools
import os
import smtplib
import sys
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP

from bench.core import Context, Table, interleave
from bench.procs import Proc, free_port, fresh_db, intake_env, intake_run, query, wait_port

ADDRESS = "cases@localhost"


class Relay:
    """The capturing relay: counts what arrives, notes when."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.event = asyncio.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if any(to.endswith(".example.org") for to in envelope.rcpt_tos):
            self.times.append(time.perf_counter())
            self.event.set()
        return "250 OK"


def mail(n: int, tag: str) -> tuple[str, bytes]:
    sender = f"field{n}@ngo{n % 97}.{tag}.example.org"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ADDRESS
    msg["Subject"] = "A case of forced labour"
    msg["Message-ID"] = f"<bench.{tag}.{n}@example.org>"
    msg.set_content(f"We report forced labour at a construction site, number {n}. Twelve workers, passports held by the employer.\n")
    return sender, msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # CRLF, as a mail client sends


def send_all(port: int, clients: int, per_client: int, tag: str) -> tuple[float, float, int]:
    """K threads, each one SMTP connection sending its share; returns (start, end, acknowledged)."""
    acked = [0] * clients

    def client(k: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=120) as s:
            for i in range(per_client):
                sender, raw = mail(k * per_client + i, tag)
                try:
                    s.sendmail(sender, [ADDRESS], raw)
                    acked[k] += 1
                except smtplib.SMTPException:
                    pass

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return start, time.perf_counter(), sum(acked)


async def serving(proc: Proc, port: int, what: str) -> None:
    await wait_port(port, proc, what)
    await asyncio.sleep(0.5 if "intake" in what else 0.1)  # the rest of `intake run` (workers, console) settles


async def start_relay() -> tuple[Relay, asyncio.base_events.Server, int]:
    relay = Relay()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(relay, hostname="relay.test", loop=loop), "127.0.0.1", 0)
    return relay, server, int(server.sockets[0].getsockname()[1])


def floor_proc(mode: str, folder: Path, port: int, *, db: str = "", relay: int = 0) -> Proc:
    folder.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "bench.smtpfloor", mode, "--port", str(port), "--db", db, "--relay", str(relay)]
    return Proc(argv, intake_env(folder, "sqlite://"), folder / f"{mode}.log")


async def run_smtp(ctx: Context) -> Table:
    a = ctx.args
    clients, per = (2, 10) if ctx.quick else (a.clients, a.messages)
    table = Table("smtp", "SMTP accept: clients × messages to `intake run` vs. aiosmtpd Sink and a durable floor (INSERT + COMMIT)",
                  params={"clients": clients, "messages_per_client": per, "database": "postgresql" if ctx.pg_url else "sqlite",
                          "worker_processes": os.environ.get("INTAKE_BENCH_WORKER_PROCESSES") or "default",
                          "worker_nice": os.environ.get("INTAKE_BENCH_WORKER_NICE") or "default"})
    relay, relay_server, relay_port = await start_relay()
    counter = itertools.count(1)

    async def accept(proc: Proc, port: int, what: str, drained: Callable[[], int] | None) -> dict[str, float]:
        await serving(proc, port, what)
        cpu0 = proc.cpu(tree=False)
        start, end, acked = await asyncio.to_thread(send_all, port, clients, per, f"t{next(counter)}")
        out = {"msgs_s": acked / (end - start), "cpu_ms_msg": (proc.cpu(tree=False) - cpu0) * 1000 / max(1, acked), "acked": float(acked)}
        if drained is not None:
            deadline = time.monotonic() + max(120.0, 20 * (end - start))
            while (done := await asyncio.to_thread(drained)) < acked and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            finished = time.perf_counter()
            out["drain_after_s"] = finished - end if done >= acked else float("inf")
            out["send_s"] = end - start
            out["drain_ratio"] = out["drain_after_s"] / (end - start)
        return out

    async def ours() -> dict[str, float]:
        i = next(counter)
        folder = ctx.work / f"smtp-ours-{i}"
        db = await asyncio.to_thread(fresh_db, ctx.pg_url, folder, "smtp")
        env = intake_env(folder / "data", db, INTAKE_RELAY_URL=f"smtp://127.0.0.1:{relay_port}")
        proc = intake_run(env, folder / "run.log")
        try:
            return await accept(proc, int(env["INTAKE_SMTP_PORT"]), "intake run", lambda: int(
                query(db, "SELECT count(*) FROM inbox WHERE status IN ('done', 'failed')")[0][0]))
        finally:
            await proc.stop()

    async def sink() -> dict[str, float]:
        port = free_port()
        proc = floor_proc("sink", ctx.work / f"smtp-sink-{next(counter)}", port)
        try:
            return await accept(proc, port, "sink", None)
        finally:
            await proc.stop()

    async def durable() -> dict[str, float]:
        i = next(counter)
        folder = ctx.work / f"smtp-durable-{i}"
        db = await asyncio.to_thread(fresh_db, ctx.pg_url, folder, "smtp")
        port = free_port()
        proc = floor_proc("durable", folder, port, db=db)
        try:
            return await accept(proc, port, "durable floor", None)
        finally:
            await proc.stop()

    try:
        res = await interleave({"sink": sink, "durable": durable, "ours": ours}, ctx.reps)
    finally:
        relay_server.close()
    o, s, d = res["ours"], res["sink"], res["durable"]
    table.row("accepted msg/s vs. Sink", "msg/s", o["msgs_s"], ("aiosmtpd Sink", s["msgs_s"]))
    durable_row = table.row("accepted msg/s vs. durable floor", "msg/s", o["msgs_s"], ("aiosmtpd + INSERT/COMMIT", d["msgs_s"]))
    table.row("durable floor vs. Sink", "msg/s", d["msgs_s"], ("aiosmtpd Sink", s["msgs_s"]))
    table.row("CPU per accepted msg (accepting process, while sending)", "ms", o["cpu_ms_msg"], ("aiosmtpd + INSERT/COMMIT", d["cpu_ms_msg"]))
    table.row("inbox drained, seconds after the last 250", "s", o["drain_after_s"], ("seconds the sending took", o["send_s"]))
    table.goal("SMTP accept ≥ 0.5× the durable floor", durable_row.ratio, 0.5, ">=")
    table.goal("SMTP: the inbox drains within the run's own duration (drain time / send time)",
               max(o["drain_ratio"]) if o["drain_ratio"] else None, 1.0, note="worst repetition")
    return table


async def run_email(ctx: Context) -> Table:
    a = ctx.args
    clients = 4
    n = max(1, (8 if ctx.quick else a.emails) // clients) * clients
    table = Table("email", "Email processing: first emails to their auto-reply at the relay, `intake run` vs. stdlib parse + reply + aiosmtplib",
                  params={"emails": n, "clients": clients, "database": "postgresql" if ctx.pg_url else "sqlite",
                          "worker_processes": os.environ.get("INTAKE_BENCH_WORKER_PROCESSES") or "default",
                          "worker_nice": os.environ.get("INTAKE_BENCH_WORKER_NICE") or "default"})
    relay, relay_server, relay_port = await start_relay()
    counter = itertools.count(1)
    profiled: list[int] = []  # only the first run of ours is profiled

    async def flow(proc: Proc, port: int, what: str) -> dict[str, float]:
        await serving(proc, port, what)
        relay.times.clear()
        proc.profile_start()
        cpu0 = proc.cpu()
        start, end, acked = await asyncio.to_thread(send_all, port, clients, n // clients, f"e{next(counter)}")
        deadline = time.monotonic() + max(120.0, n * 1.0)
        while len(relay.times) < acked and time.monotonic() < deadline:
            relay.event.clear()
            try:
                await asyncio.wait_for(relay.event.wait(), 1.0)
            except TimeoutError:
                if not proc.alive():
                    raise RuntimeError(f"{what} died:\n{proc.output()[-2000:]}") from None
        cpu = proc.cpu() - cpu0
        await proc.profile_stop()
        got = len(relay.times)
        if got < acked:
            raise RuntimeError(f"{what}: {got} of {acked} replies within the time allowed")
        last = relay.times[acked - 1]
        return {"msgs_s": acked / (last - start), "cpu_ms_msg": cpu * 1000 / acked}

    async def ours() -> dict[str, float]:
        i = next(counter)
        folder = ctx.work / f"email-ours-{i}"
        db = await asyncio.to_thread(fresh_db, ctx.pg_url, folder, "email")
        env = intake_env(folder / "data", db, INTAKE_RELAY_URL=f"smtp://127.0.0.1:{relay_port}")
        profile = ctx.profile_dir / "email-ours-1.folded" if ctx.profile_dir and not profiled else None
        profiled.append(i)
        proc = intake_run(env, folder / "run.log", profile=profile)
        try:
            return await flow(proc, int(env["INTAKE_SMTP_PORT"]), "intake run")
        finally:
            await proc.stop()

    async def floor() -> dict[str, float]:
        port = free_port()
        proc = floor_proc("reply", ctx.work / f"email-floor-{next(counter)}", port, relay=relay_port)
        try:
            return await flow(proc, port, "reply floor")
        finally:
            await proc.stop()

    try:
        res = await interleave({"floor": floor, "ours": ours}, ctx.reps)
    finally:
        relay_server.close()
    o, f = res["ours"], res["floor"]
    table.row("emails to auto-reply per second", "msg/s", o["msgs_s"], ("parse + reply + aiosmtplib", f["msgs_s"]))
    table.row("CPU per email (server process)", "ms", o["cpu_ms_msg"], ("parse + reply + aiosmtplib", f["cpu_ms_msg"]))
    if ctx.profile_dir:
        table.notes.append(f"py-spy profile of the first `intake run` (collapsed stacks; summary in .txt): {ctx.profile_dir / 'email-ours-1.folded'}")
    return table
