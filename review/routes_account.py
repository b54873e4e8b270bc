"""Login, second factor, logout and the account page (TOTP enrolment, password change)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from review.auth import AuthError, Throttled
from review.webctx import AnyForm, AnySession, CsrfFailed, StaffForm, actor_of, console_of, qr_data_uri, remote, render

LOGIN_CSRF_COOKIE = "intake_login_csrf"  # the pre-session cookie the login form's token is bound to

router = APIRouter(include_in_schema=False)


async def login_page(request: Request, status_code: int = 200, error: str | None = None) -> HTMLResponse:
    """The login form; a valid pre-session cookie is kept, anything else is replaced by a new one."""
    console = console_of(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    token = await console.auth.presession_token(cookie)
    if token is None:
        cookie, token = await console.auth.new_presession()
    assert cookie is not None
    response = render(request, "login.html", status_code, login_csrf=token, error=error, info=None)
    response.set_cookie(LOGIN_CSRF_COOKIE, cookie, httponly=True, samesite="strict", secure=console.https, path="/login")
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    return await login_page(request)


@router.post("/login")
async def login(request: Request, email: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
                csrf: Annotated[str, Form()] = "") -> Response:
    console = console_of(request)
    if not await console.auth.login_csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), csrf):
        raise CsrfFailed()
    try:
        result = await console.auth.login(email, password, remote=remote(request))
    except Throttled as exc:
        return await login_page(request, 429, str(exc))
    except AuthError as exc:
        return await login_page(request, 401, str(exc))
    target = {"ok": "/", "totp": "/login/totp"}.get(result.stage, "/account")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(console.cookie, result.token, httponly=True, samesite="strict", secure=console.https, path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.get("/login/totp", response_class=HTMLResponse)
async def totp_form(request: Request, info: AnySession) -> Response:
    if info.stage != "totp":
        return RedirectResponse("/", status_code=303)
    return render(request, "totp.html", error=None)


@router.post("/login/totp")
async def totp_check(request: Request, info: AnyForm, code: Annotated[str, Form()] = "") -> Response:
    if info.stage != "totp":
        return RedirectResponse("/", status_code=303)
    try:
        ok = await console_of(request).auth.verify_totp(info, code, remote=remote(request))
    except Throttled as exc:
        return render(request, "totp.html", 429, error=str(exc))
    if not ok:
        return render(request, "totp.html", 401, error="That code is not right. Codes change every 30 seconds.")
    return RedirectResponse("/account" if info.staff.must_change_password else "/", status_code=303)


@router.post("/logout")
async def logout(request: Request, info: AnyForm) -> Response:
    console = console_of(request)
    await console.auth.logout(info.token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(console.cookie, path="/")
    return response


@router.get("/account", response_class=HTMLResponse)
async def account(request: Request, info: AnySession) -> Response:
    if info.stage == "totp":
        return RedirectResponse("/login/totp", status_code=303)
    auth = console_of(request).auth
    secret = auth.new_totp_secret()
    uri = auth.provisioning_uri(info.staff.email, secret)
    return render(request, "account.html", secret=secret, qr=qr_data_uri(uri), error=None)


@router.post("/account/totp")
async def account_totp(request: Request, info: AnyForm, secret: Annotated[str, Form()] = "", code: Annotated[str, Form()] = "") -> Response:
    if info.stage == "totp":
        return RedirectResponse("/login/totp", status_code=303)
    auth = console_of(request).auth
    if not await auth.enrol_totp(info, secret, code):
        uri = auth.provisioning_uri(info.staff.email, secret) if secret.isalnum() and len(secret) <= 64 else ""
        return render(request, "account.html", 400, secret=secret, qr=qr_data_uri(uri) if uri else "",
                      error="That code did not match. Scan the QR code again and enter the current code.")
    return RedirectResponse("/account?done=totp" if info.staff.must_change_password else "/?done=totp", status_code=303)


@router.post("/account/notify")
async def account_notify(request: Request, info: StaffForm, notify: Annotated[str, Form()] = "") -> Response:
    """Opt in to (or out of) email notices of a case assigned to you and a reply on your case."""
    await console_of(request).auth.set_notify_email(actor_of(request, info), notify == "on")
    return RedirectResponse("/account?done=notify", status_code=303)


@router.post("/account/password")
async def account_password(request: Request, info: AnyForm, current: Annotated[str, Form()] = "",
                           new: Annotated[str, Form()] = "", confirm: Annotated[str, Form()] = "") -> Response:
    if info.stage in ("totp", "enrol"):
        return RedirectResponse("/account" if info.stage == "enrol" else "/login/totp", status_code=303)
    auth = console_of(request).auth
    try:
        if new != confirm:
            raise AuthError("the two new passwords differ")
        await auth.change_password(info, current, new)
    except AuthError as exc:
        secret = auth.new_totp_secret()
        return render(request, "account.html", 400, secret=secret, qr=qr_data_uri(auth.provisioning_uri(info.staff.email, secret)),
                      error=str(exc))
    return RedirectResponse("/?done=password", status_code=303)
