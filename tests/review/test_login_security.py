"""Login hardening through the real app: parallel wrong passwords cannot race past the limit (real
uvicorn), /healthz stays fast during a burst of logins (argon2 at its production cost, off the
event loop), X-Forwarded-For believed only from INTAKE_TRUSTED_PROXIES, progressive delays that
never lock the owner out, password rules, and the login form's CSRF token bound to a pre-session.
On each database."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import statistics
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from intake.app import App
from review.auth import AuthError, AuthService
from review.runtime import Console
from review.service import Actor, ReviewService
from review.throttle import CLIENT_LADDER, PAIR_LADDER
from review.web import create_app
from storage.models import AuditEvent
from tests.review.conftest import PASSWORD
from tests.review.test_web import CSRF, csrf_of, login

LIMIT = PAIR_LADDER[0][1]
BURST = int(os.environ.get("LOGIN_BURST", "60"))  # logins at argon2's production cost (LOGIN_BURST=120: CONTRIBUTING.md)


@pytest.fixture
async def console(app: App) -> AsyncIterator[Console]:
    """The console as `intake run` serves it (uvicorn on a free port, production argon2 cost)."""
    local = dataclasses.replace(app, settings=app.settings.model_copy(update={"http_port": 0}))
    served = Console(local, announce=False)
    await served.start()
    try:
        yield served
    finally:
        await served.stop()


async def login_form(client: httpx.AsyncClient) -> str:
    page = await client.get("/login")
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


async def audit_actions(app: App, action: str) -> list[str | None]:
    """The `remote` of every audit event with this action, oldest first."""
    async with app.store.read() as uow:
        result = await uow.session.execute(select(AuditEvent.remote).where(AuditEvent.action == action).order_by(AuditEvent.at, AuditEvent.id))
        return [r[0] for r in result.all()]


async def test_parallel_wrong_passwords_check_at_most_the_limit(app: App, console: Console) -> None:
    await console.auth.add_staff("alice@example.org", PASSWORD, "reviewer")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{console.port}", timeout=60) as client:
        token = await login_form(client)
        form = {"email": "alice@example.org", "password": "not the password at all", "csrf": token}
        answers = await asyncio.gather(*(client.post("/login", data=form) for _ in range(30)))
        codes = [r.status_code for r in answers]
        verified = codes.count(401)
        print(f"\n30 parallel wrong passwords: {verified} verified, {codes.count(429)} refused unverified (limit {LIMIT})")
        assert verified + codes.count(429) == 30
        assert 1 <= verified <= LIMIT
        assert len(await audit_actions(app, "staff.login_failed")) == verified  # each verified failure audited once
        staff = await console.auth.by_email("alice@example.org")
        assert staff is not None and staff.failed_logins == verified
        assert (await client.post("/login", data={**form, "password": PASSWORD})).status_code == 429  # same client: wait


async def healthz_during_logins(base: str, email: str, password: str, n: int) -> tuple[list[float], float]:
    """(healthz latencies sampled while `n` parallel logins run, seconds the logins took)."""
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        token = await login_form(client)
        started = time.perf_counter()
        logins = [
            asyncio.create_task(client.post("/login", data={"email": email, "password": password, "csrf": token},
                                            headers={"x-forwarded-for": f"10.0.{i // 250}.{i % 250 + 1}"}))
            for i in range(n)  # n clients behind a trusted proxy (one client's parallel tries would be throttled)
        ]
        latencies: list[float] = []
        await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=base, timeout=120) as probe:
            while not all(t.done() for t in logins):
                t0 = time.perf_counter()
                assert (await probe.get("/healthz")).status_code == 200
                latencies.append(time.perf_counter() - t0)
                await asyncio.sleep(0.05)
        results = await asyncio.gather(*logins)
        assert all(r.status_code == 303 for r in results), {r.status_code for r in results}
        return latencies, time.perf_counter() - started


async def test_healthz_stays_fast_during_a_login_burst(app: App) -> None:
    local = dataclasses.replace(app, settings=app.settings.model_copy(update={"http_port": 0, "trusted_proxies": "127.0.0.1"}))
    console = Console(local, announce=False)
    await console.start()
    try:
        await console.auth.add_staff("alice@example.org", PASSWORD, "reviewer")
        latencies, took = await healthz_during_logins(f"http://127.0.0.1:{console.port}", "alice@example.org", PASSWORD, BURST)
    finally:
        await console.stop()
    latencies.sort()
    median, p90 = statistics.median(latencies), latencies[int(len(latencies) * 0.9)]
    print(f"\n/healthz during {BURST} logins ({took:.1f} s): median {median * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms, {len(latencies)} probes")
    assert len(latencies) >= 10  # probes kept getting answers while the logins ran (argon2 on the event loop: a handful)
    assert median < 0.25 and p90 < 1.0


async def test_forwarded_for_believed_only_from_trusted_proxies(app: App) -> None:
    seen: list[str] = []
    for trusted, expected in (("", "127.0.0.1"), ("127.0.0.1", "203.0.113.9")):
        local = dataclasses.replace(app, settings=app.settings.model_copy(update={"http_port": 0, "trusted_proxies": trusted}))
        served = Console(local, announce=False)
        await served.start()
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{served.port}") as client:
                await served.auth.add_staff(f"x{len(trusted)}@example.org", PASSWORD, "reviewer")
                token = await login_form(client)
                r = await client.post("/login", headers={"x-forwarded-for": "203.0.113.9"},
                                      data={"email": f"x{len(trusted)}@example.org", "password": "wrong but long enough", "csrf": token})
                assert r.status_code == 401
        finally:
            await served.stop()
        seen.append(expected)
        assert sorted(await audit_actions(app, "staff.login_failed")) == sorted(seen), trusted  # the audit's remote


@pytest.fixture
def web(app: App, auth: AuthService, review: ReviewService) -> FastAPI:
    return create_app(app, review=review, auth=auth)


def client_at(web: FastAPI, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=web, client=(address, 40000)), base_url="http://testserver")


async def test_progressive_delay_never_locks_the_owner_out(app: App, web: FastAPI, alice: Actor) -> None:
    async with client_at(web, "198.51.100.7") as attacker, client_at(web, "192.0.2.10") as owner:
        for _ in range(LIMIT):
            assert (await login(attacker, "alice@example.org", "guess guess guess")).status_code == 401
        blocked = await login(attacker, "alice@example.org")
        assert blocked.status_code == 429 and re.search(r"Wait \d+ seconds", blocked.text)
        assert (await login(owner, "alice@example.org")).status_code == 303  # a fresh client: the owner gets in
        waits = []
        for _ in range(8):  # one try a minute goes on being checked, until the quarter-hour step
            app.clock.advance(seconds=61)  # type: ignore[attr-defined]
            r = await login(attacker, "alice@example.org", "guess guess guess")
            waits.append(r.status_code)
            if r.status_code == 429:
                assert re.search(r"Wait \d+ minutes", r.text), r.text
                break
        assert waits == [401] * (PAIR_LADDER[1][1] - LIMIT) + [429]
        app.clock.advance(minutes=16)
        assert (await login(attacker, "alice@example.org")).status_code == 303  # slowed, never locked


async def test_weak_passwords_refused_with_reasons(app: App, auth: AuthService, web: FastAPI, alice: Actor) -> None:
    for weak, reason in (("aaaaaaaaaaaa", "repeated"), ("123456789012", "sequential"), ("abcdefghijkl", "sequential"),
                         ("password1234", "too easy to guess"), ("new@example.org!", "email"), ("short", "at least 12")):
        with pytest.raises(AuthError, match=reason):
            await auth.add_staff("new@example.org", weak, "reviewer")
    async with client_at(web, "192.0.2.20") as client:
        await login(client, "alice@example.org")
        token = await csrf_of(client, "/account")
        for weak in ("alice@example.org", "password1234", "qwertyuiopasdf"):
            r = await client.post("/account/password", data={"csrf": token, "current": PASSWORD, "new": weak, "confirm": weak})
            assert r.status_code == 400 and "password" in r.text.lower(), weak
        good = "violet kettle mountain sings"
        r = await client.post("/account/password", data={"csrf": token, "current": PASSWORD, "new": good, "confirm": good})
        assert r.status_code == 303


async def test_login_csrf_is_bound_to_a_server_presession(app: App, web: FastAPI, alice: Actor) -> None:
    form = {"email": "alice@example.org", "password": PASSWORD}

    async def post(client: httpx.AsyncClient, cookie: str, token: str) -> int:
        client.cookies.clear()
        r = await client.post("/login", data={**form, "csrf": token}, headers={"cookie": f"intake_login_csrf={cookie}"})
        return r.status_code

    async with client_at(web, "192.0.2.30") as client:
        assert await post(client, "attacker-chosen", "attacker-chosen") == 403  # a plain double submit is not enough
        real = await login_form(client)
        cookie = client.cookies["intake_login_csrf"]
        assert cookie.count(".") == 2 and real != cookie
        nonce, issued, _ = cookie.split(".")
        assert await post(client, f"{nonce}.{issued}.{'0' * 32}", real) == 403  # a cookie the server did not sign
        assert await post(client, cookie, "0" * 64) == 403  # the server's cookie with a field not bound to it
        app.clock.advance(hours=3)  # type: ignore[attr-defined]
        assert await post(client, cookie, real) == 403  # an expired pre-session
        client.cookies.clear()
        assert (await login(client, "alice@example.org")).status_code == 303  # a fresh form works


async def test_one_client_guessing_many_accounts_is_slowed(app: App, web: FastAPI, alice: Actor) -> None:
    per_client = CLIENT_LADDER[0][1]
    async with client_at(web, "198.51.100.8") as sprayer, client_at(web, "192.0.2.11") as owner:
        for n in range(per_client):  # one wrong password each for many accounts: every pair stays under its limit
            assert (await login(sprayer, f"user{n}@example.org", "guess guess guess")).status_code == 401
        refused = await login(sprayer, "alice@example.org")
        assert refused.status_code == 429 and "Too many failed attempts" in refused.text  # the client's own ladder
        assert (await login(owner, "alice@example.org")).status_code == 303
        app.clock.advance(seconds=61)  # type: ignore[attr-defined]
        assert (await login(sprayer, "alice@example.org")).status_code == 303
