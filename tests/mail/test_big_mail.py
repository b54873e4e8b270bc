"""Issue 9: one big email does not stall everything. A 24 MB plain-text message is accepted and
processed (hashing, MIME parsing and the form reader run in worker threads) while a probe keeps
opening small SMTP sessions; the probe's worst wait is printed and must stay well under a second.
A first contact is never echoed back: the reply names what was accepted, not its values."""

from __future__ import annotations

import asyncio
import logging
import resource
import time

import pytest

from mail import worker
from tests.mail.conftest import Harness, smtp_send
from tests.mail.support import message, text_of

BIG = 24 * 1000 * 1000


def probe(port: int, stop: list[bool], out: list[float]) -> None:
    n = 0
    while not stop[0]:
        raw, _ = message(f"probe {n}", sender="probe@example.org", headers={"Auto-Submitted": "auto-generated"})
        t0 = time.perf_counter()
        result = smtp_send(port, raw, mail_from="probe@example.org")
        out.append(time.perf_counter() - t0)
        assert result.data == 250
        n += 1
        time.sleep(0.02)


async def test_a_24_mb_message_while_a_probe_measures_latency(mail: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mail.worker")
    line = "We documented the recruitment, the debts and the fleet's routes in detail. " * 2 + "\n"
    body = "Organisation name: Big Report NGO\n\n" + line * (BIG // len(line))
    raw, _ = message(body, subject="A long report")
    assert len(raw) > 20_000_000
    stop, latencies = [False], []
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    await mail.app.inbox.start()
    await mail.app.delivery.start()
    prober = asyncio.create_task(asyncio.to_thread(probe, mail.port, stop, latencies))
    lags: list[float] = []

    async def watch_loop() -> None:  # how late the event loop wakes from a 10 ms sleep
        while not stop[0]:
            t = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - t - 0.01)

    watcher = asyncio.create_task(watch_loop())
    try:
        await asyncio.sleep(0.3)
        before = len(latencies)
        t0 = time.monotonic()
        result = await mail.send(raw)
        assert result.data == 250
        big = await mail.relay.wait(1, timeout=120)
        took = time.monotonic() - t0
    finally:
        stop[0] = True
        await prober
        await watcher
        await mail.app.delivery.stop()
        await mail.app.inbox.stop()
    during = latencies[before:]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    (parsed,) = [r.getMessage() for r in caplog.records if "worker process" in r.getMessage()]
    print(f"\n{parsed}; peak RSS of the test process (server, workers and the test's own client, which builds the "
          f"message): {peak / 1024:.0f} MB (before sending: {rss_before / 1024:.0f} MB)")
    print(f"\n24 MB message accepted and answered in {took:.1f} s; probe during it: {len(during)} SMTP sessions, "
          f"max {max(during) * 1000:.0f} ms, median {sorted(during)[len(during) // 2] * 1000:.0f} ms; "
          f"event loop lag max {max(lags) * 1000:.0f} ms, p99 {sorted(lags)[int(len(lags) * 0.99)] * 1000:.0f} ms")
    assert len(during) >= 3
    # parsed on the event loop it stalled everything for 19-39 s; off the loop the worst probe is well
    # under a second on an idle machine (printed above) — the bound leaves room for a loaded CI machine
    assert max(during) < 5.0
    reply = [m for m in big if str(m["To"]) != "probe@example.org"][0]
    assert "- Organisation name\n" in text_of(reply) and "Big Report NGO" not in text_of(reply)  # accepted, not echoed


async def test_a_message_over_the_parse_memory_bound_is_read_in_part_and_the_server_lives_on(mail: Harness) -> None:
    """The parsing process capped at 150 MB of address space cannot parse 24 MB: the message is
    read from its first megabyte (a defect recorded), answered, and the next message is parsed
    as usual."""
    line = "Details of the recruitment and the debts, told at length. " * 2 + "\n"
    raw, _ = message("Organisation name: Bounded NGO\n\n" + line * (BIG // len(line)), subject="Too big to parse")
    worker.configure(150 << 20)
    try:
        (reply,) = await mail.exchange(raw)
    finally:
        worker.configure(worker.MEMORY_LIMIT)
    assert "- Organisation name\n" in text_of(reply)  # the first megabyte was read
    small, _ = message("Organisation name: Small NGO", sender="small@example.org")
    (answer,) = await mail.exchange(small, mail_from="small@example.org")
    assert "- Organisation name\n" in text_of(answer)
