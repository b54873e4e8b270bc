"""Table 6 — scale-out on PostgreSQL (skipped without INTAKE_BENCH_DATABASE_URL).

Answers/s through the real case service with 1 process and with 2 processes at once (each
`--concurrency` submitters, `--seconds` long, started together), vs. the floor: raw psycopg
`BEGIN/UPDATE/COMMIT` with the same processes and connections. Goal: 2 processes ≥ 1.5× one.

Then a functional row: two `intake run` processes on the one database with two data directories
(as on two hosts); a file sent by email to the first is downloaded through the second's console
and must be the same bytes. It fails until evidence files live where every process reaches them."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
import smtplib
import sys
import time
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from bench.core import Context, Table, Trial, interleave
from bench.mailflow import start_relay
from bench.pages import Console
from bench.procs import ROOT, fresh_db, intake_cli, intake_env
from bench.seed import STAFF_EMAIL, STAFF_PASSWORD

REF = re.compile(r"\[(HT-[0-9A-Z]{4}-[0-9A-Z]{4})\]")


async def load(mode: str, url: str, procs: int, tag: str, a: Any) -> dict[str, float]:
    """`procs` load processes started together; their answers/s summed, CPU ms per answer."""
    children = []
    for p in range(procs):
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.answers", mode, url, f"{tag}-p{p}", "--concurrency", str(a.concurrency), "--seconds", str(a.seconds),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=str(ROOT))
        children.append(child)
    for child in children:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 300)
        if line.strip() != b"ready":
            err = await child.stderr.read() if child.stderr else b""
            raise RuntimeError(f"bench.answers {mode} did not get ready: {line!r} {err.decode()[-2000:]}")
    for child in children:
        assert child.stdin is not None
        child.stdin.write(b"go\n")
        await child.stdin.drain()
    results = []
    for child in children:
        out, err = await child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"bench.answers {mode}: {err.decode()[-2000:]}")
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    answers = sum(r["answers"] for r in results)
    return {"per_s": sum(r["answers"] / r["seconds"] for r in results), "cpu_ms": sum(r["cpu_s"] for r in results) * 1000 / max(1, answers)}


async def files_across(ctx: Context) -> tuple[bool, str]:
    """Upload through one `intake run`, download through the other (separate data directories)."""
    from intake.questionnaire import load_default
    from tests.mail.support import complete_answers, form_text

    assert ctx.pg_url is not None
    folder = ctx.work / "files-across"
    url = await asyncio.to_thread(fresh_db, ctx.pg_url, folder, "files")
    relay, relay_server, relay_port = await start_relay()
    captured: list[EmailMessage] = []
    original = relay.handle_DATA

    async def keep(server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        msg = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        assert isinstance(msg, EmailMessage)
        captured.append(msg)
        return await original(server, session, envelope)

    relay.handle_DATA = keep  # type: ignore[method-assign]
    env_a = intake_env(folder / "host-a", url, INTAKE_RELAY_URL=f"smtp://127.0.0.1:{relay_port}")
    r = await asyncio.to_thread(intake_cli, ["staff", "add", STAFF_EMAIL, "--role", "reviewer", "--password-stdin"], env_a,
                                input=STAFF_PASSWORD + "\n", timeout=120)
    if r.returncode != 0:
        return False, f"staff add: {r.stderr[-300:]}"
    a = Console(url, folder / "host-a", folder / "a", 120)
    a.env = env_a
    b = Console(url, folder / "host-b", folder / "b", 120)
    sender = "field@ngo.example.org"
    evidence = b"%PDF-1.7\n% bench evidence\n" + bytes(range(256)) * 40

    def send(body: str, subject: str, reply_to: str | None = None, attach: bool = False) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, "cases@localhost", subject
        msg["Message-ID"] = make_msgid("bench", domain="ngo.example.org")
        if reply_to:
            msg["In-Reply-To"] = reply_to
            msg["References"] = reply_to
        msg.set_content(body)
        if attach:
            msg.add_attachment(evidence, maintype="application", subtype="pdf", filename="contract.pdf")
        with smtplib.SMTP("127.0.0.1", int(env_a["INTAKE_SMTP_PORT"]), timeout=60) as s:
            s.sendmail(sender, ["cases@localhost"], msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))

    async def next_mail(n: int) -> EmailMessage:
        deadline = time.monotonic() + 120
        while len(captured) < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no mail {n} from host A")
            await asyncio.sleep(0.1)
        return captured[n - 1]

    try:
        await a.start()
        await b.start()
        await asyncio.to_thread(send, "We hold evidence of debt bondage.", "Report", None, True)
        form = await next_mail(1)
        found = REF.search(str(form["Subject"]))
        if not found:
            return False, "no reference in the auto-reply"
        ref = found.group(1)
        answers, _ = complete_answers(load_default())
        await asyncio.to_thread(send, form_text(load_default(), answers), "Re: " + str(form["Subject"]), str(form["Message-ID"]))
        ready = await next_mail(2)
        await asyncio.to_thread(send, "SUBMIT", "Re: " + str(ready["Subject"]), str(ready["Message-ID"]))
        await next_mail(3)
        assert a.client is not None and b.client is not None
        view = (await b.client.get(f"/api/cases/{ref}")).json()
        files = view.get("attachments") or []
        if not files:
            return False, "host B shows no attachment"
        want = hashlib.sha256(evidence).hexdigest()
        control = await a.client.get(f"/cases/{ref}/files/{files[0]['id']}")
        via_a = "same bytes" if control.status_code == 200 and hashlib.sha256(control.content).hexdigest() == want else f"HTTP {control.status_code}"
        got = await b.client.get(f"/cases/{ref}/files/{files[0]['id']}")
        via_b = "same bytes" if got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == want else f"HTTP {got.status_code}"
        return via_b == "same bytes", f"via host A (control): {via_a}; via host B: {via_b}"
    except Exception as exc:
        return False, f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        await a.stop()
        await b.stop()
        relay_server.close()


async def run(ctx: Context) -> Table:
    a = ctx.args
    table = Table("scaleout", "Scale-out on PostgreSQL: answers/s with 2 processes vs. 1 (floor: raw psycopg BEGIN/UPDATE/COMMIT)",
                  params={"concurrency_per_process": a.concurrency, "seconds": a.seconds})
    if ctx.pg_url is None:
        table.skipped = "needs PostgreSQL: set INTAKE_BENCH_DATABASE_URL=postgresql+psycopg://user@host:5432/bench (make bench does when 127.0.0.1:5432 answers)"
        return table
    if ctx.quick:
        a.seconds, a.concurrency = 2.0, 2
        table.params.update(concurrency_per_process=2, seconds=2.0)
    url = await asyncio.to_thread(fresh_db, ctx.pg_url, ctx.work / "scaleout", "scaleout")
    counter = itertools.count(1)

    def trial(mode: str, procs: int) -> Trial:
        async def go() -> dict[str, float]:
            return await load(mode, url, procs, f"s{next(counter)}", a)
        return go

    res = await interleave({"raw 1": trial("raw", 1), "ours 1": trial("ours", 1), "raw 2": trial("raw", 2), "ours 2": trial("ours", 2)}, ctx.reps)
    table.row("answers/s, 1 process", "ans/s", res["ours 1"]["per_s"], ("raw UPDATE/COMMIT, 1 process", res["raw 1"]["per_s"]))
    table.row("answers/s, 2 processes", "ans/s", res["ours 2"]["per_s"], ("raw UPDATE/COMMIT, 2 processes", res["raw 2"]["per_s"]))
    scale = table.row("answers/s: 2 processes / 1", "ans/s", res["ours 2"]["per_s"], ("same, 1 process", res["ours 1"]["per_s"]))
    table.row("raw transactions/s: 2 processes / 1", "tx/s", res["raw 2"]["per_s"], ("same, 1 process", res["raw 1"]["per_s"]))
    table.row("CPU per answer (1 process)", "ms", res["ours 1"]["cpu_ms"], ("raw transaction", res["raw 1"]["cpu_ms"]))
    table.goal("2 processes on one PostgreSQL ≥ 1.5× one", scale.ratio, 1.5, ">=")
    ok, detail = await files_across(ctx)
    table.row("file uploaded via host A downloads via host B", "ok", [1.0 if ok else 0.0], note=detail)
    table.goal("two data directories: every file uploaded through one process downloads through the other", 1.0 if ok else 0.0, 1.0, ">=", note=detail)
    return table
