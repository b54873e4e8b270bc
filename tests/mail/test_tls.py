"""STARTTLS is offered when a certificate and key are configured, and mail is taken over it."""

from __future__ import annotations

import asyncio
import datetime as dt
import smtplib
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from intake.app import App
from mail.runtime import MailChannel
from tests.mail.conftest import ADDRESS, SENDER
from tests.mail.support import message


def self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "intake.example")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


def send_over_tls(port: int, raw: bytes) -> tuple[bool, int]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo()
        offered = client.has_extn("starttls")
        client.starttls(context=context)
        client.ehlo()
        client.mail(SENDER)
        client.rcpt(ADDRESS)
        code, _ = client.data(raw)
    return offered, code


async def test_starttls(app: App, tmp_path: Path) -> None:
    app.settings.smtp_tls_cert, app.settings.smtp_tls_key = self_signed(tmp_path)
    channel = MailChannel(app, port=0)
    await channel.server.start()
    try:
        raw, _ = message("over TLS")
        offered, code = await asyncio.to_thread(send_over_tls, channel.server.port, raw)
    finally:
        await channel.server.stop()
    assert offered and code == 250
    async with app.store.read() as uow:
        assert [r.raw for r in await uow.inbox.list()] == [raw]
