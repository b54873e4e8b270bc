"""Staff accounts and the console's run-time settings: add (argon2id, password rules), list,
change role / active / TOTP requirement, reset and change passwords, require TOTP of everyone.
The base of `review.auth.AuthService`, which adds logins, sessions and the second factor."""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher

from intake.clock import Clock, utcnow
from review.model import ROLES, Actor, Forbidden, ReviewError
from review.passwords import hash_password, password_problem, verify_password
from storage.repositories import DuplicateRow, NotFound, StaffRecord
from storage.review import ReviewQueries
from storage.store import Store

if TYPE_CHECKING:
    from review.auth import SessionInfo

REQUIRE_TOTP = "require_totp"
LOGINS_AT_ONCE = 4


class AuthError(ReviewError):
    """A login or account request refused; the message is safe to show."""


class Throttled(AuthError):
    """Too many failed attempts recently."""


def new_password() -> str:
    """A random one-time password (about 120 bits)."""
    return secrets.token_urlsafe(15)


class StaffAccounts:
    """Accounts and run-time settings over the store (see the module docstring)."""

    def __init__(self, store: Store, *, clock: Clock = utcnow, hasher: PasswordHasher | None = None) -> None:
        self.store = store
        self.clock = clock
        self.hasher = hasher or PasswordHasher()  # argon2id with the library's recommended cost
        self._dummy = self.hasher.hash(secrets.token_hex(16))
        # logins in progress at once: a burst queues here, holding no database connection, so the
        # rest of the console (and /healthz) keeps its connections
        self._gate = asyncio.Semaphore(LOGINS_AT_ONCE)

    # ---- accounts ----------------------------------------------------------------------------

    @staticmethod
    def _check_password(password: str, email: str) -> None:
        problem = password_problem(password, email=email)
        if problem:
            raise AuthError(problem[0].upper() + problem[1:] + ".")

    async def add_staff(self, email: str, password: str, role: str, *, by: Actor | None = None, must_change_password: bool = False) -> StaffRecord:
        """Create a staff account (email unique, role reviewer|admin, argon2id hash)."""
        email = email.strip().lower()
        if "@" not in email or len(email) > 320 or any(c.isspace() for c in email):
            raise AuthError("an email address is required")
        if role not in ROLES:
            raise AuthError(f"role must be one of {', '.join(ROLES)}")
        self._check_password(password, email)
        hashed = await hash_password(self.hasher, password)
        try:
            async with self.store.write() as uow:
                if await uow.staff.by_email(email) is not None:
                    raise AuthError("a staff member with that email exists")
                now = self.clock()
                record = await uow.staff.add(email=email, password_hash=hashed, role=role, now=now, must_change_password=must_change_password)
                await uow.audit.record(action="staff.added", now=now, actor_kind="staff" if by else "system",
                                       actor_id=by.staff_id if by else None, detail={"staff": record.id, "role": role},
                                       remote=by.remote if by else None)
        except DuplicateRow:
            raise AuthError("a staff member with that email exists") from None
        return record

    async def ensure_first_admin(self, email: str = "admin@localhost") -> tuple[str, str] | None:
        """With no staff at all, create one admin with a one-time password and return (email, password)."""
        async with self.store.read() as uow:
            if await uow.staff.count() > 0:
                return None
        password = new_password()
        try:
            await self.add_staff(email, password, "admin", must_change_password=True)
        except AuthError:
            return None  # another process created it first
        return email, password

    async def list_staff(self) -> list[StaffRecord]:
        async with self.store.read() as uow:
            return await uow.staff.list()

    async def by_email(self, email: str) -> StaffRecord | None:
        async with self.store.read() as uow:
            return await uow.staff.by_email(email)

    async def actor_for(self, email: str, remote: str = "cli") -> Actor:
        """The active staff member with this email, as an actor (for the CLI's `--as`)."""
        staff = await self.by_email(email)
        if staff is None or not staff.active:
            raise AuthError(f"no active staff member {email}")
        return Actor(staff.id, staff.email, staff.role, remote)

    async def update_staff(self, actor: Actor, staff_id: str, *, role: str | None = None, active: bool | None = None,
                           totp_required: bool | None = None, reset_totp: bool = False) -> None:
        """Admin: change a staff member's role, active flag, TOTP requirement, or clear their TOTP."""
        if not actor.is_admin:
            raise Forbidden("admins only")
        fields: dict[str, Any] = {}
        if role is not None:
            if role not in ROLES:
                raise AuthError(f"role must be one of {', '.join(ROLES)}")
            fields["role"] = role
        if active is not None:
            fields["active"] = active
        if totp_required is not None:
            fields["totp_required"] = totp_required
        if reset_totp:
            fields["totp_secret"] = None
        if staff_id == actor.staff_id and (fields.get("active") is False or fields.get("role") == "reviewer"):
            raise AuthError("you cannot demote or deactivate yourself")
        async with self.store.write() as uow:
            try:
                await uow.staff.get(staff_id)
            except NotFound:
                raise AuthError("no such staff member") from None
            now = self.clock()
            await uow.staff.update(staff_id, **fields)
            if fields.get("active") is False or reset_totp:
                await ReviewQueries(uow.session).revoke_sessions(staff_id, now=now)
            await uow.audit.record(action="staff.updated", now=now, actor_kind="staff", actor_id=actor.staff_id,
                                   detail={"staff": staff_id, "fields": sorted(fields)}, remote=actor.remote)

    async def reset_password(self, actor: Actor, staff_id: str) -> str:
        """Admin: give a staff member a new one-time password (changed at next login)."""
        if not actor.is_admin:
            raise Forbidden("admins only")
        password = new_password()
        hashed = await hash_password(self.hasher, password)
        async with self.store.write() as uow:
            now = self.clock()
            await uow.staff.update(staff_id, password_hash=hashed, must_change_password=True, failed_logins=0, locked_until=None)
            await ReviewQueries(uow.session).revoke_sessions(staff_id, now=now)
            await uow.audit.record(action="staff.password_reset", now=now, actor_kind="staff", actor_id=actor.staff_id,
                                   detail={"staff": staff_id}, remote=actor.remote)
        return password

    async def change_password(self, info: SessionInfo, current: str, new: str) -> None:
        """Change your own password; other sessions of yours end."""
        if not await verify_password(self.hasher, info.staff.password_hash, current):
            raise AuthError("the current password is wrong")
        self._check_password(new, info.staff.email)
        if new == current:
            raise AuthError("choose a new password")
        hashed = await hash_password(self.hasher, new)
        async with self.store.write() as uow:
            now = self.clock()
            await uow.staff.update(info.staff.id, password_hash=hashed, must_change_password=False)
            await ReviewQueries(uow.session).revoke_sessions(info.staff.id, now=now, except_id=info.id)
            await uow.audit.record(action="staff.password_changed", now=now, actor_kind="staff", actor_id=info.staff.id, detail={})

    async def set_notify_email(self, actor: Actor, on: bool) -> None:
        """Your own opt-in to email notices (a case assigned to you, a reply on your case); audited."""
        async with self.store.write() as uow:
            now = self.clock()
            await uow.staff.update(actor.staff_id, notify_email=on)
            await uow.audit.record(action="staff.notify_changed", now=now, actor_kind="staff", actor_id=actor.staff_id,
                                   detail={"notify_email": on}, remote=actor.remote)

    # ---- settings ----------------------------------------------------------------------------

    async def settings(self) -> dict[str, Any]:
        async with self.store.read() as uow:
            values = await ReviewQueries(uow.session).all_settings()
        return {REQUIRE_TOTP: bool(values.get(REQUIRE_TOTP, False)), **{k: v for k, v in values.items() if k != REQUIRE_TOTP}}

    async def set_require_totp(self, actor: Actor, value: bool) -> None:
        """Admin: require TOTP of every staff member (those without it enrol at next login)."""
        if not actor.is_admin:
            raise Forbidden("admins only")
        async with self.store.write() as uow:
            now = self.clock()
            await ReviewQueries(uow.session).set_setting(REQUIRE_TOTP, value, now=now, by=actor.staff_id)
            await uow.audit.record(action="settings.changed", now=now, actor_kind="staff", actor_id=actor.staff_id,
                                   detail={"key": REQUIRE_TOTP, "value": value}, remote=actor.remote)
