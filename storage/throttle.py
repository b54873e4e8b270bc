"""The rows login throttling reads and writes (see review/throttle.py for the rules): failed
attempts reserved before a password is checked, counted per account-client pair and per client,
and the staff member's failure counter incremented in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LoginAttempt, Staff, new_id


@dataclass(frozen=True)
class Keys:
    """The blind-indexed account and client (None when the client address is unknown)."""

    account: str
    client: str | None


class Attempts:
    """The login-attempt rows the throttle reads and writes, in the caller's transaction.

    (SQL for `login_attempts` beyond storage.review's: reserve, settle, count a pair; and the
    staff row's failure counter, incremented in SQL.)"""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def reserve(self, keys: Keys, *, now: datetime) -> str:
        row_id = new_id()
        self.s.add(LoginAttempt(id=row_id, email_index=keys.account, remote_index=keys.client, success=False, at=now))
        await self.s.flush()
        return row_id

    async def failures(self, *, since: datetime, account: str | None, client: str | None, pair: bool) -> tuple[int, datetime | None]:
        """(count, oldest time) of failed attempts since `since` for the pair, or for the client alone."""
        stmt = select(func.count(), func.min(LoginAttempt.at)).where(LoginAttempt.at >= since, LoginAttempt.success.is_(False))
        if pair:
            stmt = stmt.where(LoginAttempt.email_index == account)
        stmt = stmt.where(LoginAttempt.remote_index.is_(None) if client is None else LoginAttempt.remote_index == client)
        count, oldest = (await self.s.execute(stmt)).one()
        return int(count or 0), oldest

    async def count_failure(self, staff_id: str) -> None:
        """Add one to the staff member's failed-login counter atomically (parallel failures all count)."""
        await self.s.execute(update(Staff).where(Staff.id == staff_id).values(failed_logins=Staff.failed_logins + 1))

    async def drop(self, attempt_id: str) -> None:
        await self.s.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))

    async def succeeded(self, attempt_id: str, keys: Keys) -> None:
        """Mark the attempt a success and clear the pair's failures (the owner is back in)."""
        await self.s.execute(update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(success=True))
        client = LoginAttempt.remote_index.is_(None) if keys.client is None else LoginAttempt.remote_index == keys.client
        await self.s.execute(
            delete(LoginAttempt).where(LoginAttempt.email_index == keys.account, client, LoginAttempt.success.is_(False))
        )
