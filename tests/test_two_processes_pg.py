"""Two `intake run` processes on one PostgreSQL take 1,000+ emails sent at once to both: every
email is processed, none ends in the failed queue (deadlocks and serialization failures are
retried at once), and every sender gets one reply. PostgreSQL only: SQLite has one writer."""

from __future__ import annotations

import asyncio
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import psycopg
import pytest

from intake import app as core
from intake.settings import async_url
from tests.conftest import PG_URL, reset_postgres
from tests.e2e_support import IntakeRun
from tests.mail.conftest import smtp_send, start_relay
from tests.test_cli import env_for, free_port

EMAILS = 1040
THREADS = 8
ADDRESS = "cases@localhost"

pytestmark = pytest.mark.skipif(PG_URL is None, reason="needs INTAKE_TEST_DATABASE_URL (PostgreSQL)")


def mail(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"field{n}@ngo{n % 97}.example.org"
    msg["To"] = ADDRESS
    msg["Subject"] = "A case"
    msg["Message-ID"] = f"<two.{n}@example.org>"
    msg.set_content(f"We report forced labour at site {n}.")
    return msg.as_bytes()


def statuses(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT status, count(*) FROM inbox GROUP BY status").fetchall()
    return {str(s): int(n) for s, n in rows}


async def test_postgresql_two_processes_no_failed_rows(tmp_path: Path) -> None:
    assert PG_URL is not None
    url = async_url(PG_URL)
    reset_postgres(url)
    await asyncio.to_thread(core.migrate, url)
    relay, server, relay_port = await start_relay()
    runs: list[IntakeRun] = []
    try:
        ports = []
        for i in (1, 2):
            env = env_for(tmp_path / f"p{i}", PG_URL)
            env.update(INTAKE_RELAY_URL=f"smtp://127.0.0.1:{relay_port}", INTAKE_FIRST_CONTACT_PER_HOUR="100000",
                       INTAKE_AUTOREPLY_PER_HOUR="1000", INTAKE_HTTP_PORT=str(free_port()))
            ports.append(int(env["INTAKE_SMTP_PORT"]))
            runs.append(IntakeRun(env, tmp_path / f"run{i}.log"))
        for port in ports:  # both up
            deadline = time.monotonic() + 60
            while True:
                try:
                    smtp_send(port, b"", rcpt=["nobody@elsewhere.example"])  # refused at RCPT: just a probe
                    break
                except OSError:
                    assert time.monotonic() < deadline, "intake run did not start"
                    await asyncio.sleep(0.2)

        acked = [0] * THREADS

        def sender(t: int) -> None:
            for n in range(t, EMAILS, THREADS):
                if smtp_send(ports[n % 2], mail(n), mail_from=f"field{n}@ngo{n % 97}.example.org", rcpt=[ADDRESS]).data == 250:
                    acked[t] += 1

        threads = [threading.Thread(target=sender, args=(t,)) for t in range(THREADS)]
        for th in threads:
            th.start()
        while any(th.is_alive() for th in threads):
            await asyncio.sleep(0.1)
        dsn = PG_URL.replace("postgresql+psycopg://", "postgresql://")
        deadline = time.monotonic() + 240
        while statuses(dsn).get("done", 0) + statuses(dsn).get("failed", 0) < sum(acked):
            assert time.monotonic() < deadline, f"not processed in time: {statuses(dsn)}"
            await asyncio.sleep(0.5)
        counts = statuses(dsn)
        deadline = time.monotonic() + 120
        while len(relay.messages) < sum(acked) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        retried = sum(run.output().count("transient database conflict") for run in runs)
        print(f"two processes on PostgreSQL: sent {EMAILS}, acknowledged {sum(acked)}, inbox {counts}, "
              f"replies {len(relay.messages)}, deadlocks/serialization failures retried {retried}")
        assert sum(acked) == EMAILS
        assert counts.get("failed", 0) == 0 and counts.get("done", 0) == EMAILS
        assert len({m["In-Reply-To"] for m in relay.messages}) == EMAILS
    finally:
        for run in runs:
            run.kill()
        server.close()
        await server.wait_closed()
