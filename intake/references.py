"""Case references: `HT-7K3M-Q9TX`, from an alphabet without look-alikes, and their normal form."""

from __future__ import annotations

import secrets

REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U
REF_PATTERN = r"HT-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}"


def new_reference() -> str:
    chars = "".join(secrets.choice(REF_ALPHABET) for _ in range(8))
    return f"HT-{chars[:4]}-{chars[4:]}"


def normalise_reference(text: str) -> str:
    """Accept `ht-7k3m-q9tx`, `HT 7K3M Q9TX`, `HT7K3MQ9TX`; map look-alikes O→0-free alphabet."""
    compact = "".join(ch for ch in text.upper() if ch.isalnum())
    if compact.startswith("HT"):
        compact = compact[2:]
    compact = compact.replace("O", "0").replace("I", "1").replace("L", "1")
    return f"HT-{compact[:4]}-{compact[4:8]}" if len(compact) == 8 else text.strip().upper()
