"""Pseudonyms for identifiers in logs: a keyed hash, stable for one id, useless without the key.

Chat and user ids (in a private Telegram chat the chat id is the user id) and addresses must not
reach a log in clear. `log_id` gives each a short HMAC under a key derived from the newest master
key, so an operator can follow one conversation through the log (the same id always gives the same
pseudonym) without the log revealing who it is. Rotating the master key changes the pseudonyms.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from typing import Protocol

from intake.settings import Settings

DERIVATION_LABEL = b"intake log ids v1"


class HasSettings(Protocol):
    settings: Settings


@functools.lru_cache(maxsize=8)
def _derived(master: bytes) -> bytes:
    return hmac.new(master, DERIVATION_LABEL, hashlib.sha256).digest()


def log_id(app: HasSettings, kind: str, value: object) -> str:
    """`kind` (e.g. "chat") and a 12-hex-digit keyed hash of `value`: `chat#3f9a0c1d2e4b`."""
    key = _derived(app.settings.master_keys()[0])
    digest = hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:12]
    return f"{kind}#{digest}"
