"""Per-case capabilities: only the person who receives our mails about a case can continue it.

Every mail we send about a case carries a token — an HMAC of the case reference under a key
derived from the master key — in its reply address (`<local>+<reference>.<token>@<domain>`, the
`Reply-To`) and, as a fallback for clients that reply to `From:`, in the subject (`{token}`).
A reply that carries a valid token, or that answers one of our own Message-IDs (random, known
only to the recipient), proves the case; a mail that only has the right `From:` proves nothing.
Stateless: nothing is stored, and a rotated master key keeps old tokens valid while it is listed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from intake.cases import REF_PATTERN
from mail.loops import split_address

TOKEN_LEN = 10  # 50 bits of base32
LABEL = b"intake/mail-capability/v1\0"
TOKEN_RE = r"([a-z2-7]{" + str(TOKEN_LEN) + r"})"
SUBJECT_TOKEN_RE = re.compile(r"\{" + TOKEN_RE + r"\}", re.IGNORECASE)
TAG_RE = re.compile(r"^(" + REF_PATTERN + r")\." + TOKEN_RE + "$", re.IGNORECASE)
REF_RE = re.compile(REF_PATTERN, re.IGNORECASE)


def token(key: bytes, reference: str) -> str:
    """The capability for a case reference under one master key."""
    derived = hmac.new(key, LABEL, hashlib.sha256).digest()
    mac = hmac.new(derived, reference.upper().encode(), hashlib.sha256).digest()
    return base64.b32encode(mac).decode().lower()[:TOKEN_LEN]


def valid(keys: list[bytes], reference: str, candidate: str) -> bool:
    """Whether `candidate` is the case's token under any of the configured master keys."""
    return any(hmac.compare_digest(token(k, reference), candidate.lower()) for k in keys)


def reply_address(intake: str, reference: str, tok: str) -> str:
    """The intake address with the case and its token as a `+tag`."""
    local, domain = split_address(intake)
    base = local.split("+", 1)[0]
    return f"{base}+{reference.upper()}.{tok}@{domain}" if domain else intake


def subject_with_token(subject: str, tok: str) -> str:
    return subject if SUBJECT_TOKEN_RE.search(subject) else f"{subject} {{{tok}}}"


def proven_reference(keys: list[bytes], subject: str, rcpt_tos: list[str]) -> str | None:
    """The case reference a message proves by a valid token: in a recipient's `+tag`, else in the
    subject next to the reference; None when it carries no valid token."""
    for address in rcpt_tos:
        local = split_address(address)[0]
        if "+" in local:
            m = TAG_RE.match(local.split("+", 1)[1])
            if m and valid(keys, m.group(1), m.group(2)):
                return m.group(1).upper()
    found = SUBJECT_TOKEN_RE.search(subject)
    if found:
        for ref in REF_RE.findall(subject):
            if valid(keys, ref, found.group(1)):
                return str(ref).upper()
    return None
