"""The console and the JSON API through the real ASGI app (httpx + ASGITransport)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator

import httpx
import pyotp
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Route

from intake.app import App
from intake.app import build as build_app
from review.auth import AuthService
from review.service import Actor, ReviewService
from review.web import create_app
from tests.review.conftest import PASSWORD, add_staff, make_case
from tests.support import reply

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
XSS = {
    "case_title": "<script>window.__pwned=1</script> title",
    "case_summary": '<img src=x onerror="window.__pwned=2"> and <a href="javascript:window.__pwned=3">click</a>',
    "perpetrators.0.perp_name": "javascript:alert(1)",
}


@pytest.fixture
def web(app: App, auth: AuthService, review: ReviewService) -> FastAPI:
    return create_app(app, review=review, auth=auth)


@pytest.fixture
async def client(web: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://testserver") as c:
        yield c


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/login")
    token = CSRF.search(page.text)
    assert token, page.text
    return await client.post("/login", data={"email": email, "password": password, "csrf": token.group(1)})


async def csrf_of(client: httpx.AsyncClient, path: str = "/") -> str:
    page = await client.get(path)
    found = CSRF.search(page.text)
    assert found, (page.status_code, page.text[:500])
    return found.group(1)


async def test_login_logout_and_cookie_flags(client: httpx.AsyncClient, alice: Actor) -> None:
    assert (await client.get("/")).headers["location"] == "/login"
    r = await login(client, "alice@example.org")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "intake_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    home = await client.get("/")
    assert home.status_code == 200 and "Case queue" in home.text
    assert "default-src 'none'" in home.headers["content-security-policy"] and home.headers["x-content-type-options"] == "nosniff"
    token = CSRF.search(home.text)
    assert token
    out = await client.post("/logout", data={"csrf": token.group(1)})
    assert out.status_code == 303
    assert (await client.get("/")).status_code == 303


async def test_secure_cookie_when_public_url_is_https(app: App, auth: AuthService, alice: Actor) -> None:
    https_app = dataclasses.replace(app, settings=app.settings.model_copy(update={"public_url": "https://console.example.org"}))
    web = create_app(https_app, auth=auth)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="https://testserver") as c:
        r = await login(c, "alice@example.org")
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("__Host-intake_session=") and "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
    assert "max-age" in r.headers["strict-transport-security"]


async def test_wrong_password_and_throttling(client: httpx.AsyncClient, app: App, alice: Actor) -> None:
    r = await login(client, "alice@example.org", "wrong password!")
    assert r.status_code == 401 and "Wrong email or password" in r.text and "set-cookie" not in {k.lower() for k in r.headers if k.lower() == "set-cookie" and "intake_session" in r.headers[k]}
    unknown = await login(client, "nobody@example.org", "whatever at all")
    assert unknown.status_code == 401 and "Wrong email or password" in unknown.text
    for _ in range(4):
        assert (await login(client, "alice@example.org", "wrong password!")).status_code == 401
    blocked = await login(client, "alice@example.org")  # even the right password, for a while
    assert blocked.status_code == 429 and "Too many failed attempts" in blocked.text
    app.clock.advance(minutes=16)  # type: ignore[attr-defined]
    assert (await login(client, "alice@example.org")).status_code == 303


async def test_login_form_needs_its_csrf_token(client: httpx.AsyncClient, alice: Actor) -> None:
    await client.get("/login")
    r = await client.post("/login", data={"email": "alice@example.org", "password": PASSWORD})
    assert r.status_code == 403
    r = await client.post("/login", data={"email": "alice@example.org", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 403


async def test_totp_login(client: httpx.AsyncClient, app: App, auth: AuthService, alice: Actor) -> None:
    secret = pyotp.random_base32()
    async with app.store.write() as uow:
        await uow.staff.update(alice.staff_id, totp_secret=secret)
    r = await login(client, "alice@example.org")
    assert r.headers["location"] == "/login/totp"
    assert (await client.get("/")).headers["location"] == "/login/totp"
    assert (await client.get("/api/queue")).status_code == 401
    token = await csrf_of(client, "/login/totp")
    wrong = await client.post("/login/totp", data={"csrf": token, "code": "000000"})
    assert wrong.status_code == 401
    code = pyotp.TOTP(secret).at(app.clock())
    assert (await client.post("/login/totp", data={"code": code})).status_code == 403  # CSRF still required
    ok = await client.post("/login/totp", data={"csrf": token, "code": code})
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    assert (await client.get("/")).status_code == 200
    # the same code a second time (an observed or phished code) does not open another session
    client.cookies.clear()
    await login(client, "alice@example.org")
    token = await csrf_of(client, "/login/totp")
    assert (await client.post("/login/totp", data={"csrf": token, "code": code})).status_code == 401
    app.clock.advance(seconds=30)  # type: ignore[attr-defined]
    fresh = pyotp.TOTP(secret).at(app.clock())
    assert (await client.post("/login/totp", data={"csrf": token, "code": fresh})).status_code == 303


async def test_admin_enforced_totp_enrolment(client: httpx.AsyncClient, app: App, auth: AuthService, admin: Actor, alice: Actor) -> None:
    await auth.set_require_totp(admin, True)
    r = await login(client, "alice@example.org")
    assert r.headers["location"] == "/account"
    assert (await client.get("/")).headers["location"] == "/account"
    page = await client.get("/account")
    assert page.status_code == 200 and 'src="data:image/svg+xml;base64,' in page.text
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', page.text)
    assert secret
    token = CSRF.search(page.text)
    assert token
    bad = await client.post("/account/totp", data={"csrf": token.group(1), "secret": secret.group(1), "code": "123456"})
    assert bad.status_code == 400
    code = pyotp.TOTP(secret.group(1)).at(app.clock())
    ok = await client.post("/account/totp", data={"csrf": token.group(1), "secret": secret.group(1), "code": code})
    assert ok.status_code == 303 and (await client.get("/")).status_code == 200
    staff = await auth.by_email("alice@example.org")
    assert staff is not None and staff.totp_secret == secret.group(1)


async def test_first_admin_must_change_password(client: httpx.AsyncClient, auth: AuthService) -> None:
    created = await auth.ensure_first_admin("first@example.org")
    assert created is not None and await auth.ensure_first_admin() is None
    r = await login(client, created[0], created[1])
    assert r.headers["location"] == "/account"
    assert (await client.get("/admin/staff")).headers["location"] == "/account"
    token = await csrf_of(client, "/account")
    new = "a much better passphrase"
    changed = await client.post("/account/password", data={"csrf": token, "current": created[1], "new": new, "confirm": new})
    assert changed.status_code == 303
    assert (await client.get("/admin/staff")).status_code == 200


async def test_csrf_missing_or_wrong_is_403(client: httpx.AsyncClient, app: App, alice: Actor) -> None:
    ref = await make_case(app)
    await login(client, "alice@example.org")
    assert (await client.post(f"/cases/{ref}/claim")).status_code == 403
    assert (await client.post(f"/cases/{ref}/claim", data={"csrf": "nope"})).status_code == 403
    assert (await client.post(f"/api/cases/{ref}/claim")).status_code == 403
    assert (await client.post(f"/api/cases/{ref}/claim", headers={"x-csrf-token": "nope"})).status_code == 403
    token = await csrf_of(client)
    assert (await client.post(f"/cases/{ref}/claim", data={"csrf": token})).status_code == 303


async def test_reviewer_gets_403_on_admin_pages(client: httpx.AsyncClient, alice: Actor) -> None:
    await login(client, "alice@example.org")
    token = await csrf_of(client)
    for path in ("/admin/staff", "/admin/failed", "/admin/settings"):
        assert (await client.get(path)).status_code == 403, path
    assert (await client.post("/admin/staff", data={"csrf": token, "email": "x@example.org", "role": "admin"})).status_code == 403
    assert (await client.post("/admin/settings", data={"csrf": token, "require_totp": "on"})).status_code == 403
    assert (await client.post("/admin/failed/outbox/abc/retry", data={"csrf": token})).status_code == 403


async def test_unauthenticated_on_every_route(client: httpx.AsyncClient, web: FastAPI) -> None:
    public = {"/login", "/healthz"}
    checked = 0
    routes: list[object] = []
    for top in web.routes:  # FastAPI keeps an included router's routes on the original router
        routes += getattr(getattr(top, "original_router", None), "routes", [top])
    for route in routes:
        if not isinstance(route, APIRoute | Route) or route.path in public:
            continue
        path = re.sub(r"\{[^}]+\}", "HT-2222-3333", route.path)
        for method in route.methods or ():
            if method == "HEAD":
                continue
            r = await client.request(method, path)
            checked += 1
            if path.startswith("/api"):
                assert r.status_code == 401, (method, path, r.status_code)
            else:
                assert r.status_code in (303, 403), (method, path, r.status_code)
                if r.status_code == 303:
                    assert r.headers["location"] == "/login", (method, path)
    assert checked >= 30


async def test_healthz(client: httpx.AsyncClient, app: App) -> None:
    assert (await client.get("/healthz")).status_code == 200
    broken_settings = app.settings.model_copy(update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    broken = build_app(broken_settings, clock=app.clock)
    try:
        web = create_app(broken)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://testserver") as c:
            assert (await c.get("/healthz")).status_code == 503
    finally:
        await broken.store.close()


async def test_attachment_download_headers_and_audit(client: httpx.AsyncClient, app: App, alice: Actor) -> None:
    ref = await make_case(app)
    async with app.store.write() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        att = await uow.attachments.add(case_id=case.id, filename='évidence "1".html', data=b"<script>alert(1)</script>",
                                        now=app.clock(), source="email", content_type="text/html")
    await login(client, "alice@example.org")
    page = await client.get(f"/cases/{ref}")
    assert page.status_code == 200 and f"/cases/{ref}/files/{att.id}" in page.text
    r = await client.get(f"/cases/{ref}/files/{att.id}")
    assert r.status_code == 200 and r.content == b"<script>alert(1)</script>"
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith("attachment; ")
    assert "filename*=UTF-8''%C3%A9vidence%20%221%22.html" in r.headers["content-disposition"]
    assert r.headers["x-content-type-options"] == "nosniff" and "sandbox" in r.headers["content-security-policy"]
    assert (await client.get(f"/cases/{ref}/files/{'0' * 32}")).status_code == 404
    async with app.store.read() as uow:
        events = [(e.action, e.actor_id, e.remote) for e in await uow.audit.for_case(att.case_id)]
    assert ("case.viewed", alice.staff_id, "127.0.0.1") in events
    assert ("attachment.downloaded", alice.staff_id, "127.0.0.1") in events


async def test_case_page_escapes_submitter_content(client: httpx.AsyncClient, app: App, alice: Actor) -> None:
    ref = await make_case(app, answers=XSS)
    await login(client, "alice@example.org")
    page = await client.get(f"/cases/{ref}")
    assert "<script>window.__pwned" not in page.text and "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page.text
    assert "<img src=x" not in page.text and "&lt;img src=x onerror=" in page.text
    assert 'href="javascript:' not in page.text
    assert 'dir="auto"' in page.text
    queue = await client.get("/", params={"q": "pwned"})
    assert ref in queue.text and "<script>window" not in queue.text


async def test_forms_drive_a_case_to_a_decision(client: httpx.AsyncClient, app: App, alice: Actor) -> None:
    ref = await make_case(app, "telegram", who="777")
    await login(client, "alice@example.org")
    token = await csrf_of(client)
    assert (await client.post(f"/cases/{ref}/claim", data={"csrf": token})).headers["location"] == f"/cases/{ref}?done=claim"
    again = await client.post(f"/cases/{ref}/claim", data={"csrf": token})
    assert again.status_code == 409 and "already assigned" in again.text
    r = await client.post(f"/cases/{ref}/request-info", data={"csrf": token, "text": "Which port?", "reopen": ["abuse_locations", "case_summary"]})
    assert r.status_code == 303
    await reply(app, "telegram", "777", "Port of Durban")
    await client.post(f"/cases/{ref}/status", data={"csrf": token, "status": "in_review"})
    await client.post(f"/cases/{ref}/note", data={"csrf": token, "text": "corroborated by partner"})
    bad = await client.post(f"/cases/{ref}/decide", data={"csrf": token, "outcome": "accepted", "reason": ""})
    assert bad.status_code == 400
    assert (await client.post(f"/cases/{ref}/decide", data={"csrf": token, "outcome": "accepted", "reason": "solid"})).status_code == 303
    page = await client.get(f"/cases/{ref}")
    assert "Port of Durban" in page.text and "corroborated by partner" in page.text and "delivery:" in page.text
    for action in ("case.claimed", "case.info_requested", "thread.reply", "case.status_changed", "note.added", "case.decided", "case.viewed"):
        assert action in page.text, action
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        rows = await uow.outbox.list(case_id=case.id)
    assert [r.channel for r in rows if r.kind == "followup"] == ["telegram"]
    assert case.status == "accepted" and case.reopened == ["abuse_locations", "case_summary"]


async def test_json_api(client: httpx.AsyncClient, app: App, alice: Actor, web: FastAPI) -> None:
    ref = await make_case(app, "email", who="api@example.org")
    await login(client, "alice@example.org")
    session = (await client.get("/api/session")).json()
    headers = {"x-csrf-token": session["csrf"]}
    queue = (await client.get("/api/queue", params={"status": "submitted"})).json()
    assert [i["reference"] for i in queue["items"]] == [ref] and queue["counts"]["submitted"] == 1
    assert (await client.post(f"/api/cases/{ref}/claim", headers=headers)).json()["status"] == "in_review"
    assert (await client.post(f"/api/cases/{ref}/claim", headers=headers)).status_code == 409
    r = await client.post(f"/api/cases/{ref}/request-info", headers=headers, json={"text": "More?", "reopen": ["case_summary"]})
    assert r.status_code == 200 and r.json()["status"] == "needs_info" and r.json()["outbox_id"]
    assert (await client.post(f"/api/cases/{ref}/decide", headers=headers, json={"outcome": "accepted", "reason": "x"})).status_code == 400
    case = (await client.get(f"/api/cases/{ref}")).json()
    assert case["status"] == "needs_info" and case["thread"][0]["delivery"] == "pending"
    schema = (await client.get("/api/openapi.json")).json()
    assert "/api/queue" in schema["paths"] and "/api/cases/{reference}/request-info" in schema["paths"]
    assert not any(p.startswith("/admin") or p == "/login" for p in schema["paths"])


async def test_admin_pages(client: httpx.AsyncClient, app: App, admin: Actor, auth: AuthService) -> None:
    await login(client, "root@example.org")
    token = await csrf_of(client, "/admin/staff")
    r = await client.post("/admin/staff", data={"csrf": token, "email": "Carol@Example.org", "role": "reviewer"})
    assert r.status_code == 200 and "One-time password for" in r.text
    carol = await auth.by_email("carol@example.org")
    assert carol is not None and carol.must_change_password
    assert (await client.post(f"/admin/staff/{carol.id}", data={"csrf": token, "action": "require_totp"})).status_code == 303
    assert (await client.post(f"/admin/staff/{carol.id}", data={"csrf": token, "action": "deactivate"})).status_code == 303
    carol = await auth.by_email("carol@example.org")
    assert carol is not None and carol.totp_required and not carol.active
    settings = await client.get("/admin/settings")
    assert settings.status_code == 200 and "INTAKE_PUBLIC_URL" in settings.text and "kkkk" not in settings.text
    # failed items: one failed outbox row, one failed inbox row, both retried
    ref = await make_case(app, "email", who="failing@example.org")
    async with app.store.write() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        out_id = await uow.outbox.enqueue(channel="email", kind="followup", case_id=case.id, payload={"text": "secret words"}, now=app.clock())
        await uow.outbox.mark_failed(out_id, error="relay refused: 550")
        in_id, _ = await uow.inbox.add(dedup_key="m1", envelope={"from": "x@example.org"}, raw=b"Subject: secret\n\nbody", now=app.clock())
        await uow.inbox.mark_failed(in_id, error="unparseable", now=app.clock())
    page = await client.get("/admin/failed")
    assert page.status_code == 200 and "relay refused: 550" in page.text and "unparseable" in page.text
    assert "secret words" not in page.text and "Subject: secret" not in page.text
    assert (await client.post(f"/admin/failed/outbox/{out_id}/retry", data={"csrf": token})).status_code == 303
    assert (await client.post(f"/admin/failed/inbox/{in_id}/retry", data={"csrf": token})).status_code == 303
    assert (await client.post(f"/admin/failed/outbox/{out_id}/retry", data={"csrf": token})).status_code == 404
    async with app.store.read() as uow:
        assert [r.status for r in await uow.outbox.list(case_id=case.id) if r.id == out_id] == ["pending"]
        assert (await uow.inbox.get(in_id)).status == "new"


async def test_extra_routes_bypass_console_auth(app: App, auth: AuthService) -> None:
    from fastapi import APIRouter

    hook = APIRouter()

    @hook.post("/telegram/webhook")
    async def telegram_webhook() -> dict[str, bool]:
        return {"ok": True}

    web = create_app(app, auth=auth, extra_routes=[hook])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://testserver") as c:
        assert (await c.post("/telegram/webhook")).json() == {"ok": True}
        assert (await c.post("/cases/HT-2222-3333/claim")).status_code == 303


async def test_admin_cannot_lock_themselves_out(client: httpx.AsyncClient, admin: Actor) -> None:
    await login(client, "root@example.org")
    token = await csrf_of(client, "/admin/staff")
    r = await client.post(f"/admin/staff/{admin.staff_id}", data={"csrf": token, "action": "deactivate"})
    assert r.status_code == 400


async def test_sessions_expire_when_idle(client: httpx.AsyncClient, app: App, alice: Actor) -> None:
    await login(client, "alice@example.org")
    assert (await client.get("/")).status_code == 200
    app.clock.advance(hours=3)  # type: ignore[attr-defined]
    assert (await client.get("/")).headers["location"] == "/login"


async def test_deactivated_staff_lose_their_session(client: httpx.AsyncClient, auth: AuthService, admin: Actor) -> None:
    bob = await add_staff(auth, "bob2@example.org")
    await login(client, "bob2@example.org")
    assert (await client.get("/")).status_code == 200
    await auth.update_staff(admin, bob.staff_id, active=False)
    assert (await client.get("/")).status_code == 303
