"""Hostile and malformed mail: each message is stored or refused with a 5xx, processed without
a crash, and nothing unhandled reaches the log."""

from __future__ import annotations

import base64
import logging

import pytest

from mail.parse import parse_message
from tests.mail.conftest import Harness

H = b"From: ngo@example.org\r\nTo: cases@intake.example\r\n"


def nested(depth: int) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\ndeep\r\n"
    for n in range(depth):
        body = (b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (n, n)) + body + (b"--b%d--\r\n" % n)
    return H + b"Subject: nested\r\n" + body


CORPUS: dict[str, bytes] = {
    "empty": b"",
    "headers only": H + b"Subject: nothing else\r\n",
    "no headers": b"\r\njust a body without headers\r\n",
    "garbage": bytes(range(1, 256)) * 20,
    "broken header lines": H + b"this line has no colon\r\n: empty name\r\nX-\x00: nul\r\nSubject: ok\r\n\r\nbody\r\n",
    "address crashing policy.default": b"From: a@[\r\nTo: cases@intake.example\r\nSubject: x\r\n\r\nbody\r\n",
    "bad encoded words": H + b"Subject: =?utf-8?b?!!!?= =?x-unknown?q?abc?= =?utf-8?q?=E2=80?=\r\n\r\nbody\r\n",
    "bad message-id": H + b"Message-ID: [<<<not an id\r\nIn-Reply-To: <a@b> <\r\nReferences: <<<>>>\r\n\r\nbody\r\n",
    "bad base64": H + b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64 at all===\r\n",
    "bad base64 attachment": H + b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x\r\n'
    b'Content-Type: application/pdf; name="a.pdf"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="a.pdf"\r\n\r\n'
    b"JVBERi0xLjQK@@@@\r\n--x--\r\n",
    "nested multiparts": nested(40),
    "missing boundary parameter": H + b"Content-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x--\r\n",
    "boundary never used": H + b'Content-Type: multipart/alternative; boundary="zzz"\r\n\r\n--other\r\n\r\ntext\r\n',
    "unclosed boundary": H + b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nno end\r\n',
    "8-bit without charset": H + b"Subject: caf\xe9\r\nContent-Type: text/plain\r\n\r\nOrganisation name: Caf\xe9 \xfcber \xff\r\n",
    "unknown charset": H + b"Content-Type: text/plain; charset=x-made-up\r\n\r\nhello\r\n",
    "unknown transfer encoding": H + b"Content-Transfer-Encoding: x-weird\r\n\r\nhello\r\n",
    "broken rfc2231 filename": H + b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: application/octet-stream\r\n'
    b"Content-Disposition: attachment; filename*=utf-8''%E2%82; filename*0*=bad\r\n\r\ndata\r\n--x--\r\n",
    "attached broken eml": H + b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--x\r\n'
    b"Content-Type: message/rfc822\r\n\r\nFrom: a@[\r\nContent-Type: multipart/mixed\r\n\r\nbroken inner\r\n--x--\r\n",
    "html only, hostile": H + b"Content-Type: text/html\r\n\r\n<html><script>alert(1)</script><p>Organisation name: <b>X</b><table><tr><td>unclosed\r\n",
    "folded huge header": H + b"X-Long: " + b"\r\n ".join([b"word"] * 20_000) + b"\r\n\r\nbody\r\n",
    "many headers": H + b"".join(b"X-H%d: v\r\n" % n for n in range(5000)) + b"\r\nbody\r\n",
    "long line in header": H + b"Subject: " + b"a" * 5000 + b"\r\n\r\nbody\r\n",  # over SMTP's line limit: refused
    "null bytes in body": H + b"Subject: nul\r\n\r\nhello\x00world\r\n",
    "lone CR and LF": H.replace(b"\r\n", b"\n") + b"Subject: mixed\r\r\n\nbody\rmore\n",
    "base64 png inline": H + b'Content-Type: multipart/related; boundary="r"\r\n\r\n--r\r\nContent-Type: text/html\r\n\r\n<img src="cid:i">\r\n--r\r\n'
    b"Content-Type: image/png\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + base64.encodebytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 30).replace(b"\n", b"\r\n") + b"--r--\r\n",
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_parser_never_raises(name: str) -> None:
    parsed = parse_message(CORPUS[name])
    assert isinstance(parsed.text, str)


async def test_corpus_is_stored_or_refused_and_processed_without_crash(mail: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    outcomes: dict[str, int | None] = {}
    for name, raw in CORPUS.items():
        result = await mail.send(raw)
        outcomes[name] = result.data
        assert result.data == 250 or (result.data is not None and 500 <= result.data < 600), (name, result)
    assert outcomes["long line in header"] == 500
    await mail.pump()
    async with mail.app.store.read() as uow:
        rows = await uow.inbox.list(limit=1000)
    stored = sum(1 for code in outcomes.values() if code == 250)
    assert 0 < len(rows) <= stored  # identical bodies without a Message-ID collapse into one row
    assert {r.status for r in rows} == {"done"}, [(r.status, r.error) for r in rows]
    bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, [r.getMessage() for r in bad]
    assert not [r for r in caplog.records if r.name.startswith(("mail.", "intake.inbox")) and "failed" in r.getMessage()]
