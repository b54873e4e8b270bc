"""Login throttling that cannot be raced, and that slows an attacker without locking out the owner.

Every password (or TOTP) check first *reserves* a failed attempt and commits it, then counts the
failures committed so far; only then is the password verified. Whoever commits k-th sees at least
k reservations, so of any number of parallel tries at most the limit go on to be verified — on
SQLite and on PostgreSQL alike, with no lock held across the (slow) argon2 check. A refused try
deletes its reservation, so knocking on the door does not extend the wait; a verified wrong
password keeps it as a failure; a right one turns it into a success and clears the failures of
that account from that client.

Keys are blind indexes (keyed hashes), never the email or the address: the account-client pair
and the client alone. The limits are a ladder of windows (e.g. 5 a minute, 10 a quarter hour,
20 an hour, 50 a day for one pair), so each step slows further instead of locking: a hard lock
on the account would let anyone lock out its owner, and the right password from another client
is never refused because of someone else's failures.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.throttle import Attempts, Keys

__all__ = ["Attempts", "Keys", "in_words", "over_limit", "wait_for"]

Ladder = tuple[tuple[timedelta, int], ...]
PAIR_LADDER: Ladder = ((timedelta(minutes=1), 5), (timedelta(minutes=15), 10), (timedelta(hours=1), 20), (timedelta(days=1), 50))
CLIENT_LADDER: Ladder = ((timedelta(minutes=1), 20), (timedelta(minutes=15), 50), (timedelta(hours=1), 100), (timedelta(days=1), 300))
KEEP = timedelta(days=1)  # the longest window: older attempts are purged


def wait_for(count: int, oldest: datetime | None, ladder_step: tuple[timedelta, int], now: datetime) -> timedelta:
    """How long until the window's oldest failure leaves it (at least a second)."""
    window, _ = ladder_step
    if oldest is None:
        return timedelta(seconds=1)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return max(timedelta(seconds=1), oldest + window - now)


async def over_limit(attempts: Attempts, keys: Keys, now: datetime) -> timedelta | None:
    """None when a try may go on; otherwise how long to wait (the reservation already counted)."""
    checks: list[tuple[Ladder, bool]] = [(PAIR_LADDER, True)]
    if keys.client is not None:
        checks.append((CLIENT_LADDER, False))
    for ladder, pair in checks:
        for step in ladder:
            count, oldest = await attempts.failures(since=now - step[0], account=keys.account, client=keys.client, pair=pair)
            if count > step[1]:
                return wait_for(count, oldest, step, now)
    return None


def in_words(wait: timedelta) -> str:
    seconds = int(wait.total_seconds())
    if seconds < 90:
        return f"{max(1, seconds)} seconds"
    if seconds < 5400:
        return f"{-(-seconds // 60)} minutes"
    return f"{-(-seconds // 3600)} hours"
