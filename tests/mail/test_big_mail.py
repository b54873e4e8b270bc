"""Issue 9: one big email does not stall everything. A 24 MB plain-text message is accepted and
processed (hashing, MIME parsing and the form reader run in worker threads) while a probe keeps
opening small SMTP sessions; the probe's worst wait is printed and must stay well under a second.
A first contact is never echoed back: the reply names what was accepted, not its values."""

from __future__ import annotations

import asyncio
import time

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


async def test_a_24_mb_message_while_a_probe_measures_latency(mail: Harness) -> None:
    line = "We documented the recruitment, the debts and the fleet's routes in detail. " * 2 + "\n"
    body = "Organisation name: Big Report NGO\n\n" + line * (BIG // len(line))
    raw, _ = message(body, subject="A long report")
    assert len(raw) > 20_000_000
    stop, latencies = [False], []
    await mail.app.inbox.start()
    await mail.app.delivery.start()
    prober = asyncio.create_task(asyncio.to_thread(probe, mail.port, stop, latencies))
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
        await mail.app.delivery.stop()
        await mail.app.inbox.stop()
    during = latencies[before:]
    print(f"\n24 MB message accepted and answered in {took:.1f} s; probe during it: {len(during)} SMTP sessions, "
          f"max {max(during) * 1000:.0f} ms, median {sorted(during)[len(during) // 2] * 1000:.0f} ms")
    assert len(during) >= 3
    # parsed on the event loop it stalled everything for 19-39 s; off the loop the worst probe is well
    # under a second on an idle machine (printed above) — the bound leaves room for a loaded CI machine
    assert max(during) < 5.0
    reply = [m for m in big if str(m["To"]) != "probe@example.org"][0]
    assert "- Organisation name\n" in text_of(reply) and "Big Report NGO" not in text_of(reply)  # accepted, not echoed
