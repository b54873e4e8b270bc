"""Envelope encryption at rest, and keyed hashes for lookups.

- Master keys (32 bytes each, newest first) only wrap *data keys*; they never touch content.
- Each case (and each submitter identity, inbox message, …) has a random 32-byte data key,
  stored wrapped (AES-GCM under the newest master key, bound to the data key's id).
- Content is AES-GCM under the data key with associated data naming the table, column and row,
  so a ciphertext copied into another row or column fails to decrypt.
- Lookups (a Telegram id, an email address) use HMAC-SHA256 under an index key — a blind index.
  The index key is itself a data key (purpose `blind_index`), so rotating master keys keeps it.

Destroying a data key (deleting the wrapped copy) makes every ciphertext under it unreadable.
Copies of the wrapped key in older backups stay readable only while the master key that wrapped
them is configured: `intake keys rotate` re-wraps live data keys under the newest master key, after
which the older master key can be removed from INTAKE_SECRET_KEYS and those backups are dead too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
FORMAT = b"\x01"


class CryptoError(Exception):
    """A ciphertext could not be decrypted (wrong key, wrong row, tampered, or key destroyed)."""


class KeyConfigError(ValueError):
    """INTAKE_SECRET_KEYS is not a list of base64 32-byte keys."""


def key_id(key: bytes) -> str:
    """A short public identifier of a master key (not secret: a hash prefix)."""
    return hashlib.sha256(b"intake-master-key-id:" + key).hexdigest()[:16]


def parse_master_keys(text: str) -> list[bytes]:
    """Parse comma-separated base64 keys; each must decode to exactly 32 bytes."""
    keys: list[bytes] = []
    for n, part in enumerate((p.strip() for p in text.split(",")), 1):
        if not part:
            continue
        try:
            raw = base64.b64decode(part, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != KEY_BYTES:
            raise KeyConfigError(f"key #{n} in INTAKE_SECRET_KEYS is not base64 of 32 bytes")
        keys.append(raw)
    return keys


def generate_key_b64() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def aad_for(table: str, column: str, row_id: str) -> bytes:
    return f"{table}\x1f{column}\x1f{row_id}".encode()


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != FORMAT:
        raise CryptoError("not a ciphertext of a known format")
    try:
        return AESGCM(key).decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)
    except InvalidTag:
        raise CryptoError("decryption failed") from None


class MasterKeys:
    """The configured master keys: wraps with the newest, unwraps with whichever wrapped."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise KeyConfigError("at least one master key is needed")
        self._keys = {key_id(k): k for k in keys}
        self.newest_id = key_id(keys[0])

    @property
    def ids(self) -> list[str]:
        return list(self._keys)

    def wrap(self, data_key: bytes, data_key_id: str) -> tuple[str, bytes]:
        """Wrap a data key under the newest master key; returns (master key id, wrapped bytes)."""
        return self.newest_id, _seal(self._keys[self.newest_id], data_key, aad_for("data_keys", "wrapped", data_key_id))

    def unwrap(self, master_id: str, wrapped: bytes, data_key_id: str) -> bytes:
        key = self._keys.get(master_id)
        if key is None:
            raise CryptoError("the master key that wrapped this data key is not configured")
        return _open(key, wrapped, aad_for("data_keys", "wrapped", data_key_id))


@dataclass(frozen=True)
class DataKey:
    """An unwrapped data key: encrypts values of one case (or one other owner)."""

    id: str
    key: bytes

    def encrypt(self, plaintext: bytes, *, table: str, column: str, row_id: str) -> bytes:
        return _seal(self.key, plaintext, aad_for(table, column, row_id))

    def decrypt(self, blob: bytes, *, table: str, column: str, row_id: str) -> bytes:
        return _open(self.key, blob, aad_for(table, column, row_id))

    def encrypt_text(self, text: str, *, table: str, column: str, row_id: str) -> bytes:
        return self.encrypt(text.encode("utf-8"), table=table, column=column, row_id=row_id)

    def decrypt_text(self, blob: bytes, *, table: str, column: str, row_id: str) -> str:
        return self.decrypt(blob, table=table, column=column, row_id=row_id).decode("utf-8")

    def encrypt_json(self, value: Any, *, table: str, column: str, row_id: str) -> bytes:
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return self.encrypt(data, table=table, column=column, row_id=row_id)

    def decrypt_json(self, blob: bytes, *, table: str, column: str, row_id: str) -> Any:
        return json.loads(self.decrypt(blob, table=table, column=column, row_id=row_id))


def new_data_key(data_key_id: str) -> DataKey:
    return DataKey(data_key_id, AESGCM.generate_key(bit_length=256))


class BlindIndex:
    """Keyed hashes for looking up identities without storing them in the clear."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, kind: str, value: str) -> str:
        msg = f"{kind}\x1f{value}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()
