"""Queries the staff side needs beyond the shared repositories: queue selection, console sessions,
login attempts and run-time settings. Bound to one transaction through `UnitOfWork.session`.

Nothing here decrypts case content; the queue's pages and search are `storage.queue_pages`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AppSetting, Attachment, Case, Inbox, LoginAttempt, Message, Outbox, Staff, StaffSession, new_id


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass
class CaseStub:
    """A case's id, reference and version — what the queue needs before decrypting anything."""

    id: str
    reference: str
    version: int


@dataclass
class Activity:
    """When a case last changed, since when it waits, and its thread's latest message each way
    (first messages, unverified senders and internal notes left out) — for the queue's age, last activity and
    "new reply" marker."""

    updated_at: datetime
    since: datetime  # submitted (or created, for a draft)
    last_in: datetime | None
    last_out: datetime | None
    lang: str

    @property
    def last_activity(self) -> datetime:
        return max(t for t in (self.updated_at, self.last_in, self.last_out) if t is not None)

    @property
    def new_reply(self) -> bool:
        """The submitter wrote after our last message to them."""
        return self.last_in is not None and (self.last_out is None or self.last_in > self.last_out)


@dataclass
class SessionRow:
    id: str
    staff_id: str
    csrf_token_hash: str | None
    second_factor_ok: bool
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    remote: str | None


class ReviewQueries:
    """SQL for the review service; every method runs in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    # ---- the queue ---------------------------------------------------------------------------

    async def case_stubs(
        self,
        *,
        statuses: list[str] | None = None,
        channels: list[str] | None = None,
        assigned_to: str | None = None,
        unassigned: bool = False,
        has_attachments: bool | None = None,
        newest_first: bool = True,
    ) -> list[CaseStub]:
        """Ids of the cases matching the column filters, in queue order (submission time)."""
        stmt = select(Case.id, Case.reference, Case.version)
        if statuses:
            stmt = stmt.where(Case.status.in_(statuses))
        if channels:
            stmt = stmt.where(Case.channel.in_(channels))
        if assigned_to is not None:
            stmt = stmt.where(Case.assigned_to == assigned_to)
        if unassigned:
            stmt = stmt.where(Case.assigned_to.is_(None))
        if has_attachments is not None:
            has = exists().where(Attachment.case_id == Case.id)
            stmt = stmt.where(has if has_attachments else ~has)
        order = func.coalesce(Case.submitted_at, Case.created_at)
        stmt = stmt.order_by(order.desc() if newest_first else order.asc(), Case.id)
        return [CaseStub(r[0], r[1], int(r[2])) for r in (await self.s.execute(stmt)).all()]

    async def activity(self, case_ids: list[str]) -> dict[str, Activity]:
        """The `Activity` of each case (two grouped queries, no decryption)."""
        if not case_ids:
            return {}
        last: dict[tuple[str, str], datetime] = {}
        stmt = (
            select(Message.case_id, Message.direction, func.max(Message.created_at))
            .where(Message.case_id.in_(case_ids), Message.direction.in_(["in", "out"]), Message.verified.is_(True),
                   Message.kind != "first_message")
            .group_by(Message.case_id, Message.direction)
        )
        for case_id, direction, at in (await self.s.execute(stmt)).all():
            last[(case_id, direction)] = _utc(at)  # type: ignore[assignment]
        rows = await self.s.execute(select(Case.id, Case.updated_at, func.coalesce(Case.submitted_at, Case.created_at), Case.lang)
                                    .where(Case.id.in_(case_ids)))
        return {
            r[0]: Activity(_utc(r[1]), _utc(r[2]), last.get((r[0], "in")), last.get((r[0], "out")), r[3])  # type: ignore[arg-type]
            for r in rows.all()
        }

    async def attachment_counts(self, case_ids: list[str]) -> dict[str, int]:
        if not case_ids:
            return {}
        stmt = select(Attachment.case_id, func.count()).where(Attachment.case_id.in_(case_ids)).group_by(Attachment.case_id)
        return {r[0]: int(r[1]) for r in (await self.s.execute(stmt)).all()}

    async def outbox_status_for(self, outbox_ids: list[str]) -> dict[str, str]:
        """Delivery status (pending | sent | failed) of the given outbox rows."""
        if not outbox_ids:
            return {}
        rows = (await self.s.execute(select(Outbox.id, Outbox.status).where(Outbox.id.in_(outbox_ids)))).all()
        return {r[0]: r[1] for r in rows}

    async def outbox_brief(self, outbox_id: str) -> tuple[str, str | None] | None:
        """(status, case id) of one outbox row, without decrypting its payload."""
        row = (await self.s.execute(select(Outbox.status, Outbox.case_id).where(Outbox.id == outbox_id))).first()
        return (row[0], row[1]) if row else None

    async def failed_counts(self) -> dict[str, int]:
        inbox = await self.s.scalar(select(func.count()).select_from(Inbox).where(Inbox.status == "failed"))
        outbox = await self.s.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "failed"))
        return {"inbox": int(inbox or 0), "outbox": int(outbox or 0)}

    # ---- console sessions --------------------------------------------------------------------

    async def add_session(
        self, *, staff_id: str, token_hash: str, csrf_token_hash: str, second_factor_ok: bool, now: datetime, expires_at: datetime, remote: str | None
    ) -> str:
        row_id = new_id()
        self.s.add(
            StaffSession(
                id=row_id, staff_id=staff_id, token_hash=token_hash, csrf_token_hash=csrf_token_hash,
                second_factor_ok=second_factor_ok, created_at=now, last_seen_at=now, expires_at=expires_at, remote=remote,
            )
        )
        await self.s.flush()
        return row_id

    async def session_by_token_hash(self, token_hash: str) -> SessionRow | None:
        row = await self.s.scalar(select(StaffSession).where(StaffSession.token_hash == token_hash))
        if row is None:
            return None
        return SessionRow(
            row.id, row.staff_id, row.csrf_token_hash, row.second_factor_ok, _utc(row.created_at) or row.created_at,
            _utc(row.last_seen_at) or row.last_seen_at, _utc(row.expires_at) or row.expires_at, _utc(row.revoked_at), row.remote,
        )

    async def update_session(self, session_id: str, **fields: Any) -> None:
        await self.s.execute(update(StaffSession).where(StaffSession.id == session_id).values(**fields))

    async def revoke_sessions(self, staff_id: str, *, now: datetime, except_id: str | None = None) -> None:
        """End every live session of one staff member (password change, deactivation)."""
        stmt = update(StaffSession).where(StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None))
        if except_id is not None:
            stmt = stmt.where(StaffSession.id != except_id)
        await self.s.execute(stmt.values(revoked_at=now))

    async def claim_totp_step(self, staff_id: str, step: int) -> bool:
        """Record `step` as the newest TOTP time step used by this staff member, atomically;
        False when it (or a later one) was used already — a replayed code."""
        result = await self.s.execute(
            update(Staff)
            .where(Staff.id == staff_id, or_(Staff.totp_last_step.is_(None), Staff.totp_last_step < step))
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def purge_sessions(self, *, before: datetime) -> None:
        await self.s.execute(delete(StaffSession).where(StaffSession.expires_at < before))

    # ---- login throttling --------------------------------------------------------------------

    async def add_login_attempt(self, *, email_index: str, remote_index: str | None, success: bool, now: datetime) -> None:
        self.s.add(LoginAttempt(id=new_id(), email_index=email_index, remote_index=remote_index, success=success, at=now))
        await self.s.flush()

    async def failed_logins_since(self, *, since: datetime, email_index: str | None = None, remote_index: str | None = None) -> int:
        stmt = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.at >= since, LoginAttempt.success.is_(False))
        if email_index is not None:
            stmt = stmt.where(LoginAttempt.email_index == email_index)
        if remote_index is not None:
            stmt = stmt.where(LoginAttempt.remote_index == remote_index)
        return int(await self.s.scalar(stmt) or 0)

    async def purge_login_attempts(self, *, before: datetime) -> None:
        await self.s.execute(delete(LoginAttempt).where(LoginAttempt.at < before))

    # ---- run-time settings -------------------------------------------------------------------

    async def get_setting(self, key: str) -> Any:
        row = await self.s.get(AppSetting, key)
        return row.value if row is not None else None

    async def all_settings(self) -> dict[str, Any]:
        return {r.key: r.value for r in (await self.s.scalars(select(AppSetting))).all()}

    async def set_setting(self, key: str, value: Any, *, now: datetime, by: str | None) -> None:
        row = await self.s.get(AppSetting, key)
        if row is None:
            self.s.add(AppSetting(key=key, value=value, updated_at=now, updated_by=by))
        else:
            row.value, row.updated_at, row.updated_by = value, now, by
        await self.s.flush()
