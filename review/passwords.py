"""Password rules and argon2id hashing off the event loop.

Rules: at least 12 characters; not the account's own email (or its local part); not one or two
characters repeated, nor a run of sequential characters (`123456789012`, `abcdefghijkl`); and
not easy to guess by zxcvbn's estimate (common passwords, keyboard walks, dates, l33t words),
given the email as context. Each refusal says why in words staff can act on.

argon2 is deliberately slow (tens of milliseconds, 64 MiB each), so hashing and verifying run in
a small thread pool shared by the process, at a lower CPU priority (nice +10): the event loop keeps
serving other requests during a burst of logins, and at most `HASH_THREADS` hashes use memory at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable: moderate protection from offline slow-hash scenario"
HASH_THREADS = 2
HASH_NICE = 10


def _lower_priority() -> None:
    """Run this hashing thread (and the lane threads argon2 starts from it) at a lower CPU priority,
    so that on a busy machine the event loop is scheduled before the hashes."""
    with contextlib.suppress(AttributeError, OSError):  # not on every platform
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICE)


_pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="argon2", initializer=_lower_priority)


def _longest_run(password: str) -> int:
    """The longest stretch of characters each one code point above (or below) the one before."""
    best = run = 1
    step = 0
    for a, b in zip(password, password[1:], strict=False):
        delta = ord(b) - ord(a)
        if delta in (1, -1) and (run == 1 or delta == step):
            run, step = run + 1, delta
        elif delta in (1, -1):
            run, step = 2, delta
        else:
            run, step = 1, 0
        best = max(best, run)
    return best


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why `password` is refused for the account `email`, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"a password has at most {MAX_PASSWORD} characters"
    lowered = password.lower()
    email = email.strip().lower()
    local = email.split("@", 1)[0]
    if email and (email in lowered or (len(local) >= 4 and local in lowered)):
        return "a password must not contain your email address or its name part"
    if len(set(lowered)) <= 2:
        return "a password must not be one or two characters repeated"
    if _longest_run(lowered) * 2 >= len(lowered):
        return "a password must not be mostly a run of sequential characters (like 12345 or abcde)"
    context = [email, local, "magnitsky", "intake", "staff", "console"]
    estimate = zxcvbn(password[:100], user_inputs=[c for c in context if c])
    if estimate["score"] < MIN_SCORE:
        warning = (estimate.get("feedback") or {}).get("warning") or "it follows a common pattern"
        return f"this password is too easy to guess ({warning.rstrip('.')}); use four or more unrelated words, or a password manager"
    return None


async def hash_password(hasher: PasswordHasher, password: str) -> str:
    """argon2id hash of `password`, computed in the hashing pool."""
    return await asyncio.get_running_loop().run_in_executor(_pool, hasher.hash, password)


def _verify(hasher: PasswordHasher, hashed: str, password: str) -> bool:
    try:
        return hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(hasher: PasswordHasher, hashed: str, password: str) -> bool:
    """Whether `password` matches `hashed`, checked in the hashing pool (never raises on a mismatch)."""
    return await asyncio.get_running_loop().run_in_executor(_pool, _verify, hasher, hashed, password)
