"""Outgoing mail reuses one relay session for a batch: the capturing aiosmtpd relay counts the
SMTP connections it accepts while the delivery worker sends a batch of replies concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiosmtpd.smtp import SMTP

from tests.mail.conftest import CaptureRelay, Harness
from tests.mail.support import message


class CountingSMTP(SMTP):
    connections = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        type(self).connections += 1
        super().connection_made(transport)  # type: ignore[arg-type]


@pytest.fixture
async def relay_server() -> AsyncIterator[tuple[CaptureRelay, int]]:
    relay = CaptureRelay()
    CountingSMTP.connections = 0
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: CountingSMTP(relay, hostname="relay.test", loop=loop), "127.0.0.1", 0)
    try:
        yield relay, server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def test_a_batch_of_replies_goes_through_one_relay_connection(mail: Harness) -> None:
    senders = [f"field{n}@ngo{n}.example.org" for n in range(12)]
    for n, sender in enumerate(senders):
        raw, _ = message(f"We report forced labour at site {n}.", sender=sender)
        assert (await mail.send(raw, mail_from=sender)).data == 250
    await mail.pump()
    assert sorted(str(m["To"]) for m in mail.relay.messages) == sorted(senders)
    print(f"\n{len(mail.relay.messages)} replies, {CountingSMTP.connections} relay connection(s)")
    assert CountingSMTP.connections == 1
    assert mail.channel.sender.pool.opened == 1
