"""Staff accounts and console sessions: argon2id passwords, TOTP, throttling, server-side sessions.

A session cookie carries a random token; the database keeps only its SHA-256. The CSRF token of a
session is an HMAC of the session token (so it never needs storing in clear) and its hash is kept
beside the session for comparison. Failed logins are throttled per blind-indexed account-client
pair and per client (review.throttle: reserve, count, then verify, so parallel tries cannot race
past the limit); argon2 runs in a thread pool and passwords follow review.passwords' rules.

The login form's CSRF token is bound to a pre-session: a server-minted, signed, short-lived
cookie (`presession`), whose HMAC the form carries. A cookie the server did not mint is refused,
so an attacker cannot plant a cookie and a matching field.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp

from review import throttle
from review.accounts import REQUIRE_TOTP, AuthError, StaffAccounts, Throttled, new_password
from review.model import Actor
from review.passwords import MIN_PASSWORD, verify_password
from storage.repositories import StaffRecord
from storage.review import ReviewQueries, SessionRow

log = logging.getLogger(__name__)

SESSION_IDLE = timedelta(hours=2)
SESSION_MAX = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)
PRESESSION_MAX = timedelta(hours=2)
__all__ = ["MIN_PASSWORD", "REQUIRE_TOTP", "AuthError", "AuthService", "LoginResult", "SessionInfo", "Throttled", "new_password"]
TOTP_ISSUER = "Magnitsky Intake"


def _sha(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def token_hash(token: str) -> str:
    return _sha("session", token)


def csrf_for(token: str) -> str:
    """The CSRF token belonging to a session token."""
    return hmac.new(token.encode(), b"csrf", hashlib.sha256).hexdigest()


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The TOTP time step (±1 for clock drift) whose code this is, or None."""
    totp = pyotp.TOTP(secret)
    typed = code.strip().replace(" ", "")
    base = totp.timecode(now)
    for step in (base - 1, base, base + 1):
        if hmac.compare_digest(totp.generate_otp(step), typed):
            return step
    return None


@dataclass
class LoginResult:
    token: str
    csrf: str
    stage: str  # ok | totp | enrol | password


@dataclass
class SessionInfo:
    """A live console session and its staff member."""

    id: str
    staff: StaffRecord
    csrf: str
    stage: str  # ok | totp | enrol | password
    token: str

    def actor(self, remote: str | None) -> Actor:
        return Actor(self.staff.id, self.staff.email, self.staff.role, remote)

    def csrf_ok(self, submitted: str | None) -> bool:
        return bool(submitted) and hmac.compare_digest(self.csrf, submitted or "")


class AuthService(StaffAccounts):
    """Accounts (review.accounts), logins, second factor and sessions."""

    # ---- login -------------------------------------------------------------------------------

    async def _keys(self, session: Any, email: str, remote: str | None) -> throttle.Keys:  # the unit of work's session
        """Keyed hashes (the blind index) of the email and the client address: no plaintext stored."""
        index = await self.store.keys.blind_index(session)
        return throttle.Keys(index("login-email", email), index("login-remote", remote) if remote else None)

    async def _reserve(self, email: str, remote: str | None) -> tuple[throttle.Keys, str]:
        """Reserve a failed attempt (committed), then count: refused tries raise `Throttled`."""
        async with self.store.write() as uow:
            keys = await self._keys(uow.session, email, remote)
            attempt = await throttle.Attempts(uow.session).reserve(keys, now=self.clock())
        async with self.store.read() as uow:
            wait = await throttle.over_limit(throttle.Attempts(uow.session), keys, self.clock())
        if wait is not None:
            async with self.store.write() as uow:
                await throttle.Attempts(uow.session).drop(attempt)
            log.warning("login throttled")
            raise Throttled(f"Too many failed attempts. Wait {throttle.in_words(wait)} and try again.")
        return keys, attempt

    async def login(self, email: str, password: str, *, remote: str | None) -> LoginResult:
        """Check email + password (throttled, verified off the event loop); on success open a
        session at the right stage. At most LOGINS_AT_ONCE run at a time; the rest wait their turn."""
        async with self._gate:
            return await self._login(email.strip().lower()[:320], password, remote=remote)

    async def _login(self, email: str, password: str, *, remote: str | None) -> LoginResult:
        keys, attempt = await self._reserve(email, remote)
        async with self.store.read() as uow:
            staff = await uow.staff.by_email(email)
            require_all = bool(await ReviewQueries(uow.session).get_setting(REQUIRE_TOTP))
        ok = await verify_password(self.hasher, staff.password_hash if staff else self._dummy, password[:1024])
        ok = ok and staff is not None and staff.active
        if not ok or staff is None:
            if staff is not None:  # the reservation stays: a verified failure
                async with self.store.write() as uow:
                    await throttle.Attempts(uow.session).count_failure(staff.id)
                    await uow.audit.record(action="staff.login_failed", now=self.clock(), actor_kind="staff", actor_id=staff.id,
                                           detail={}, remote=remote)
            log.info("login failed")
            raise AuthError("Wrong email or password.")
        async with self.store.write() as uow:
            queries = ReviewQueries(uow.session)
            now = self.clock()
            await throttle.Attempts(uow.session).succeeded(attempt, keys)
            second_ok = staff.totp_secret is None and not (staff.totp_required or require_all)
            token = secrets.token_urlsafe(32)
            csrf = csrf_for(token)
            await queries.add_session(staff_id=staff.id, token_hash=token_hash(token), csrf_token_hash=_sha("csrf", csrf),
                                      second_factor_ok=second_ok, now=now, expires_at=now + SESSION_MAX, remote=remote)
            await uow.staff.update(staff.id, failed_logins=0, last_login_at=now)
            # housekeeping: expired sessions and attempts older than any throttle window go
            await queries.purge_sessions(before=now)
            await queries.purge_login_attempts(before=now - throttle.KEEP)
            await uow.audit.record(action="staff.login", now=now, actor_kind="staff", actor_id=staff.id, detail={"second_factor": not second_ok}, remote=remote)
        log.info("staff %s logged in", staff.id)
        return LoginResult(token, csrf, self._stage(staff, second_ok, require_all))

    # ---- login CSRF bound to a pre-session ---------------------------------------------------

    async def _index(self) -> Any:
        async with self.store.read() as uow:
            return await self.store.keys.blind_index(uow.session)

    async def new_presession(self) -> tuple[str, str]:
        """A fresh pre-session cookie value (nonce, time, server signature) and the login form's
        CSRF token bound to it."""
        index = await self._index()
        body = f"{secrets.token_urlsafe(18)}.{int(self.clock().timestamp())}"
        cookie = f"{body}.{index('login-presession', body)[:32]}"
        return cookie, index("login-csrf", cookie)

    async def presession_token(self, cookie: str | None) -> str | None:
        """The form token for an existing, valid pre-session cookie; None when it is not one the
        server minted (or it expired)."""
        if not cookie or len(cookie) > 200 or cookie.count(".") != 2:
            return None
        index = await self._index()
        body, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(index("login-presession", body)[:32], signature):
            return None
        try:
            issued = int(body.split(".", 1)[1])
        except ValueError:
            return None
        age = self.clock().timestamp() - issued
        if not 0 <= age <= PRESESSION_MAX.total_seconds():
            return None
        return str(index("login-csrf", cookie))

    async def login_csrf_ok(self, cookie: str | None, submitted: str) -> bool:
        """Whether the form's token is the one bound to this server-minted pre-session cookie."""
        expected = await self.presession_token(cookie)
        return expected is not None and bool(submitted) and hmac.compare_digest(expected, submitted)

    @staticmethod
    def _stage(staff: StaffRecord, second_ok: bool, require_all: bool) -> str:
        if not second_ok:
            return "totp" if staff.totp_secret else "enrol"
        if staff.totp_secret is None and (staff.totp_required or require_all):
            return "enrol"
        return "password" if staff.must_change_password else "ok"

    async def session(self, token: str | None) -> SessionInfo | None:
        """The live session for a cookie token, or None (expired, idle, revoked, staff inactive)."""
        if not token or len(token) > 200:
            return None
        now = self.clock()
        async with self.store.read() as uow:
            queries = ReviewQueries(uow.session)
            row = await queries.session_by_token_hash(token_hash(token))
            if row is None or not self._live(row, now):
                return None
            staff = await uow.staff.get(row.staff_id)
            require_all = bool(await queries.get_setting(REQUIRE_TOTP))
        if not staff.active:
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            async with self.store.write() as uow:
                await ReviewQueries(uow.session).update_session(row.id, last_seen_at=now)
        return SessionInfo(row.id, staff, csrf_for(token), self._stage(staff, row.second_factor_ok, require_all), token)

    @staticmethod
    def _live(row: SessionRow, now: Any) -> bool:
        return row.revoked_at is None and row.expires_at > now and now - row.last_seen_at < SESSION_IDLE

    async def logout(self, token: str) -> None:
        async with self.store.write() as uow:
            queries = ReviewQueries(uow.session)
            row = await queries.session_by_token_hash(token_hash(token))
            if row is None:
                return
            now = self.clock()
            await queries.update_session(row.id, revoked_at=now)
            await uow.audit.record(action="staff.logout", now=now, actor_kind="staff", actor_id=row.staff_id, detail={})

    # ---- second factor -----------------------------------------------------------------------

    async def verify_totp(self, info: SessionInfo, code: str, *, remote: str | None) -> bool:
        """Check a TOTP code for a session waiting for it (throttled like passwords)."""
        secret = info.staff.totp_secret
        if secret is None:
            return False
        keys, attempt = await self._reserve(info.staff.email, remote)
        step = totp_step(secret, code, self.clock())
        async with self.store.write() as uow:
            queries = ReviewQueries(uow.session)
            now = self.clock()
            # a code is good once: a replay of the same (or an older) time step is refused
            ok = step is not None and await queries.claim_totp_step(info.staff.id, step)
            if ok:
                await throttle.Attempts(uow.session).succeeded(attempt, keys)
                await queries.update_session(info.id, second_factor_ok=True, last_seen_at=now)
            await uow.audit.record(action="staff.totp_ok" if ok else "staff.totp_failed", now=now, actor_kind="staff",
                                   actor_id=info.staff.id, detail={}, remote=remote)
        return ok

    @staticmethod
    def new_totp_secret() -> str:
        return pyotp.random_base32()

    @staticmethod
    def provisioning_uri(email: str, secret: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)

    async def enrol_totp(self, info: SessionInfo, secret: str, code: str) -> bool:
        """Save `secret` as the staff member's TOTP if `code` proves their authenticator has it."""
        try:
            ok = pyotp.TOTP(secret).verify(code.strip().replace(" ", ""), for_time=self.clock(), valid_window=1)
        except (ValueError, TypeError):  # a tampered secret that is not base32
            ok = False
        if not ok:
            return False
        async with self.store.write() as uow:
            now = self.clock()
            await uow.staff.update(info.staff.id, totp_secret=secret)
            await ReviewQueries(uow.session).update_session(info.id, second_factor_ok=True)
            await ReviewQueries(uow.session).revoke_sessions(info.staff.id, now=now, except_id=info.id)
            await uow.audit.record(action="staff.totp_enrolled", now=now, actor_kind="staff", actor_id=info.staff.id, detail={})
        return True
