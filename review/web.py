"""The staff web console (server-rendered, no JavaScript) and the JSON API under /api.

Routes are thin: they authenticate, check CSRF, call `ReviewService` / `AuthService`, and render.
Every response carries a strict Content-Security-Policy and related headers. Extra routes (e.g.
the Telegram webhook) are mounted as given: they bypass console auth and CSRF, and only they do.
"""

# no `from __future__ import annotations`: FastAPI must resolve the closure-local Annotated aliases

import base64
import hmac
import io
import logging
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.routing import BaseRoute
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake import lifecycle
from intake.app import App
from review import export
from review.auth import AuthError, AuthService, SessionInfo, Throttled, new_password
from review.service import (
    ActionRefused,
    Actor,
    CaseNotFound,
    Conflict,
    Forbidden,
    QueueFilter,
    ReviewError,
    ReviewService,
)

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
LOGIN_CSRF_COOKIE = "intake_login_csrf"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
DONE = {
    "claim": "You claimed the case.",
    "assign": "The case was assigned.",
    "unassign": "The case was released to the queue.",
    "note": "Note added.",
    "request_info": "Your question was queued for the submitter's channel; the case waits for information.",
    "decide": "Decision recorded.",
    "status": "Status changed.",
    "close": "The case is closed.",
    "retry": "Queued for another attempt.",
    "staff": "Staff account updated.",
    "settings": "Setting saved.",
    "totp": "Two-factor authentication is on.",
    "password": "Password changed.",
}


class LoginRequired(Exception):
    """No usable session: pages redirect (to login or the pending step), the API answers 401."""

    def __init__(self, location: str = "/login") -> None:
        self.location = location


class CsrfFailed(Exception):
    """A state-changing request without the session's CSRF token."""


class AdminOnly(Exception):
    """A reviewer asked for an admin page."""


class SecurityHeaders:
    """ASGI middleware adding CSP, nosniff, no-referrer, no framing and no-store to every response."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", CSP.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        if https:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.headers if k not in present]
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, wrapped)


# ---- API bodies ----------------------------------------------------------------------------------


class AssignBody(BaseModel):
    staff: str = Field(description="Staff id or email")


class TextBody(BaseModel):
    text: str


class RequestInfoBody(BaseModel):
    text: str
    reopen: list[str] = []


class DecideBody(BaseModel):
    outcome: str = Field(description="accepted | declined | escalated")
    reason: str


class StatusBody(BaseModel):
    status: str = Field(description="in_review | submitted")


class CloseBody(BaseModel):
    message: str | None = None


def qr_data_uri(text: str) -> str:
    """A QR code of `text` as an SVG data: URI (rendered with qrcode's SVG factory, no PIL)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buf = io.BytesIO()
    image.save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the UTF-8 name (RFC 6266 / 5987)."""
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "._- ") else "_" for c in filename).strip() or "attachment"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def create_app(
    app: App,
    *,
    extra_routes: Sequence[BaseRoute | APIRouter] = (),
    review: ReviewService | None = None,
    auth: AuthService | None = None,
) -> FastAPI:
    """The console as an ASGI app. `extra_routes` are mounted outside console auth and CSRF."""
    settings = app.settings
    https = settings.public_url.startswith("https://")
    cookie = "__Host-intake_session" if https else "intake_session"
    review = review or ReviewService(app.store, app.questionnaire, clock=app.clock)
    auth = auth or AuthService(app.store, clock=app.clock)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined)
    templates = Jinja2Templates(env=env)
    web = FastAPI(title="Magnitsky Intake staff API", docs_url=None, redoc_url=None, openapi_url=None)
    web.state.review, web.state.auth = review, auth

    def remote(request: Request) -> str | None:
        return request.client.host if request.client else None

    def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("info", getattr(request.state, "info", None))
        ctx.setdefault("done", DONE.get(request.query_params.get("done", "")))
        return templates.TemplateResponse(request, name, ctx, status_code=status_code)

    # ---- dependencies ------------------------------------------------------------------------

    async def any_session(request: Request) -> SessionInfo:
        info = await auth.session(request.cookies.get(cookie))
        if info is None:
            raise LoginRequired("/login")
        request.state.info = info
        return info

    async def staff_session(info: Annotated[SessionInfo, Depends(any_session)]) -> SessionInfo:
        if info.stage == "totp":
            raise LoginRequired("/login/totp")
        if info.stage in ("enrol", "password"):
            raise LoginRequired("/account")
        return info

    async def admin_session(info: Annotated[SessionInfo, Depends(staff_session)]) -> SessionInfo:
        if info.staff.role != "admin":
            raise AdminOnly()
        return info

    async def form_csrf(request: Request, info: Annotated[SessionInfo, Depends(any_session)]) -> SessionInfo:
        form = await request.form()
        token = form.get("csrf")
        if not info.csrf_ok(token if isinstance(token, str) else None):
            raise CsrfFailed()
        return info

    async def staff_form(info: Annotated[SessionInfo, Depends(form_csrf)]) -> SessionInfo:
        return await staff_session(info)

    async def admin_form(info: Annotated[SessionInfo, Depends(form_csrf)]) -> SessionInfo:
        return await admin_session(await staff_session(info))

    async def api_csrf(request: Request, info: Annotated[SessionInfo, Depends(staff_session)]) -> SessionInfo:
        if not info.csrf_ok(request.headers.get("x-csrf-token")):
            raise CsrfFailed()
        return info

    Session = Annotated[SessionInfo, Depends(staff_session)]
    AnySession = Annotated[SessionInfo, Depends(any_session)]
    Admin = Annotated[SessionInfo, Depends(admin_session)]
    StaffForm = Annotated[SessionInfo, Depends(staff_form)]
    AdminForm = Annotated[SessionInfo, Depends(admin_form)]
    AnyForm = Annotated[SessionInfo, Depends(form_csrf)]
    ApiWrite = Annotated[SessionInfo, Depends(api_csrf)]

    # ---- errors ------------------------------------------------------------------------------

    def is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/") or request.url.path == "/api"

    @web.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if is_api(request):
            return JSONResponse({"detail": "not authenticated"}, status_code=401)
        return RedirectResponse(exc.location, status_code=303)

    @web.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        log.warning("CSRF check failed on %s", request.url.path)
        if is_api(request):
            return JSONResponse({"detail": "missing or invalid CSRF token"}, status_code=403)
        return render(request, "error.html", 403, title="Forbidden", message="The form was missing its security token. Go back, reload and try again.")

    @web.exception_handler(AdminOnly)
    async def _admin_only(request: Request, exc: AdminOnly) -> Response:
        if is_api(request):
            return JSONResponse({"detail": "admins only"}, status_code=403)
        return render(request, "error.html", 403, title="Forbidden", message="This page is for admins.")

    def status_for(exc: ReviewError) -> int:
        if isinstance(exc, CaseNotFound):
            return 404
        if isinstance(exc, Conflict):
            return 409
        if isinstance(exc, Forbidden):
            return 403
        if isinstance(exc, Throttled):
            return 429
        return 400

    @web.exception_handler(ReviewError)
    async def _review_error(request: Request, exc: ReviewError) -> Response:
        code = status_for(exc)
        if is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=code)
        back = request.url.path.rsplit("/", 1)[0] if request.method == "POST" else "/"
        return render(request, "error.html", code, title="Not done", message=str(exc), back=back)

    # ---- public ------------------------------------------------------------------------------

    @web.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        ok = await app.store.db.ping()
        return JSONResponse({"status": "ok" if ok else "unavailable"}, status_code=200 if ok else 503)

    def login_page(request: Request, status_code: int = 200, error: str | None = None) -> HTMLResponse:
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
        response = render(request, "login.html", status_code, login_csrf=token, error=error, info=None)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=https, path="/login")
        return response

    @web.get("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login_form(request: Request) -> HTMLResponse:
        return login_page(request)

    def set_session(response: Response, token: str) -> None:
        response.set_cookie(cookie, token, httponly=True, samesite="strict", secure=https, path="/")

    @web.post("/login", include_in_schema=False)
    async def login(request: Request, email: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
                    csrf: Annotated[str, Form()] = "") -> Response:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not hmac.compare_digest(expected, csrf):
            raise CsrfFailed()
        try:
            result = await auth.login(email, password, remote=remote(request))
        except Throttled as exc:
            return login_page(request, 429, str(exc))
        except AuthError as exc:
            return login_page(request, 401, str(exc))
        target = {"ok": "/", "totp": "/login/totp"}.get(result.stage, "/account")
        response = RedirectResponse(target, status_code=303)
        set_session(response, result.token)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    @web.get("/login/totp", response_class=HTMLResponse, include_in_schema=False)
    async def totp_form(request: Request, info: AnySession) -> Response:
        if info.stage != "totp":
            return RedirectResponse("/", status_code=303)
        return render(request, "totp.html", error=None)

    @web.post("/login/totp", include_in_schema=False)
    async def totp_check(request: Request, info: AnyForm, code: Annotated[str, Form()] = "") -> Response:
        if info.stage != "totp":
            return RedirectResponse("/", status_code=303)
        try:
            ok = await auth.verify_totp(info, code, remote=remote(request))
        except Throttled as exc:
            return render(request, "totp.html", 429, error=str(exc))
        if not ok:
            return render(request, "totp.html", 401, error="That code is not right. Codes change every 30 seconds.")
        return RedirectResponse("/account" if info.staff.must_change_password else "/", status_code=303)

    @web.post("/logout", include_in_schema=False)
    async def logout(info: AnyForm) -> Response:
        await auth.logout(info.token)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(cookie, path="/")
        return response

    # ---- account -----------------------------------------------------------------------------

    @web.get("/account", response_class=HTMLResponse, include_in_schema=False)
    async def account(request: Request, info: AnySession) -> Response:
        if info.stage == "totp":
            return RedirectResponse("/login/totp", status_code=303)
        secret = auth.new_totp_secret()
        uri = auth.provisioning_uri(info.staff.email, secret)
        return render(request, "account.html", secret=secret, qr=qr_data_uri(uri), error=None)

    @web.post("/account/totp", include_in_schema=False)
    async def account_totp(request: Request, info: AnyForm, secret: Annotated[str, Form()] = "", code: Annotated[str, Form()] = "") -> Response:
        if info.stage == "totp":
            return RedirectResponse("/login/totp", status_code=303)
        if not await auth.enrol_totp(info, secret, code):
            uri = auth.provisioning_uri(info.staff.email, secret) if secret.isalnum() and len(secret) <= 64 else ""
            return render(request, "account.html", 400, secret=secret, qr=qr_data_uri(uri) if uri else "",
                          error="That code did not match. Scan the QR code again and enter the current code.")
        return RedirectResponse("/account?done=totp" if info.staff.must_change_password else "/?done=totp", status_code=303)

    @web.post("/account/password", include_in_schema=False)
    async def account_password(request: Request, info: AnyForm, current: Annotated[str, Form()] = "",
                               new: Annotated[str, Form()] = "", confirm: Annotated[str, Form()] = "") -> Response:
        if info.stage in ("totp", "enrol"):
            return RedirectResponse("/account" if info.stage == "enrol" else "/login/totp", status_code=303)
        try:
            if new != confirm:
                raise AuthError("the two new passwords differ")
            await auth.change_password(info, current, new)
        except AuthError as exc:
            secret = auth.new_totp_secret()
            return render(request, "account.html", 400, secret=secret, qr=qr_data_uri(auth.provisioning_uri(info.staff.email, secret)),
                          error=str(exc))
        return RedirectResponse("/?done=password", status_code=303)

    # ---- queue and case ----------------------------------------------------------------------

    def queue_params(
        status: Annotated[list[str] | None, Query()] = None,
        channel: Annotated[list[str] | None, Query()] = None,
        form: Annotated[list[str] | None, Query()] = None,
        country: str = "", minors: str = "", ongoing: str = "", assigned: str = "", files: str = "",
        q: str = "", order: str = "newest", page: int = 1,
    ) -> QueueFilter:
        return QueueFilter(
            statuses=[s for s in status or [] if s], channels=[c for c in channel or [] if c], abuse_forms=[f for f in form or [] if f],
            country=country or None, minors=minors or None, ongoing=ongoing or None,
            assigned=assigned if assigned in ("me", "unassigned") else None,
            has_attachments={"yes": True, "no": False}.get(files), search=q[:500],
            newest_first=order != "oldest", page=max(1, page),
        )

    QueueParams = Annotated[QueueFilter, Depends(queue_params)]

    @web.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def queue(request: Request, info: Session, flt: QueueParams) -> HTMLResponse:
        result = await review.queue(flt, actor=info.actor(remote(request)))
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
        return render(
            request, "queue.html", page=result, flt=flt, statuses=lifecycle.STATUSES[1:], forms=review.options("abuse_forms"),
            base_query=urlencode(params),
        )

    @web.get("/cases/{reference}", response_class=HTMLResponse, include_in_schema=False)
    async def case_page(request: Request, reference: str, info: Session) -> HTMLResponse:
        view = await review.show(reference, info.actor(remote(request)))
        questions = [(qid, q.short("en")) for qid, q in review.q.questions().items()]
        return render(request, "case.html", case=view, staff=await review.staff_choices(), decisions=lifecycle.DECISIONS,
                      questions=questions)

    @web.get("/cases/{reference}/files/{attachment_id}", include_in_schema=False)
    async def download(request: Request, reference: str, attachment_id: str, info: Session) -> Response:
        record, data = await review.download(reference, attachment_id, info.actor(remote(request)))
        return Response(
            data, media_type="application/octet-stream",
            headers={"content-disposition": content_disposition(record.filename), "x-content-type-options": "nosniff",
                     "content-security-policy": "default-src 'none'; sandbox", "cache-control": "no-store"},
        )

    @web.get("/cases/{reference}/export", include_in_schema=False)
    async def export_case(request: Request, reference: str, info: Session, fmt: Annotated[str, Query(alias="format")] = "md") -> Response:
        """A dossier download (md, json, ftm); the export and the view it is made from are audited."""
        fmt = export.check_format(fmt)
        actor = info.actor(remote(request))
        await review.record_export(reference, actor, fmt=fmt)
        view = await review.show(reference, actor)
        body = export.render(fmt, view, review.q, export.Envelope(exported_at=review.clock(), exported_by=actor.email or actor.staff_id))
        return Response(
            body, media_type=export.MEDIA[fmt][0],
            headers={"content-disposition": content_disposition(export.filename(view, fmt)), "x-content-type-options": "nosniff",
                     "content-security-policy": "default-src 'none'; sandbox", "cache-control": "no-store"},
        )

    def back_to(reference: str, done: str) -> RedirectResponse:
        return RedirectResponse(f"/cases/{quote(reference.strip().upper())}?done={done}", status_code=303)

    @web.post("/cases/{reference}/claim", include_in_schema=False)
    async def claim(request: Request, reference: str, info: StaffForm) -> Response:
        await review.claim(info.actor(remote(request)), reference)
        return back_to(reference, "claim")

    @web.post("/cases/{reference}/assign", include_in_schema=False)
    async def assign(request: Request, reference: str, info: StaffForm, staff: Annotated[str, Form()] = "") -> Response:
        await review.assign(info.actor(remote(request)), reference, staff)
        return back_to(reference, "assign")

    @web.post("/cases/{reference}/unassign", include_in_schema=False)
    async def unassign(request: Request, reference: str, info: StaffForm) -> Response:
        await review.unassign(info.actor(remote(request)), reference)
        return back_to(reference, "unassign")

    @web.post("/cases/{reference}/note", include_in_schema=False)
    async def note(request: Request, reference: str, info: StaffForm, text: Annotated[str, Form()] = "") -> Response:
        await review.note(info.actor(remote(request)), reference, text)
        return back_to(reference, "note")

    @web.post("/cases/{reference}/request-info", include_in_schema=False)
    async def request_info(request: Request, reference: str, info: StaffForm, text: Annotated[str, Form()] = "",
                           reopen: Annotated[list[str] | None, Form()] = None) -> Response:
        await review.request_info(info.actor(remote(request)), reference, text, reopen=reopen or [])
        return back_to(reference, "request_info")

    @web.post("/cases/{reference}/decide", include_in_schema=False)
    async def decide(request: Request, reference: str, info: StaffForm, outcome: Annotated[str, Form()] = "",
                     reason: Annotated[str, Form()] = "") -> Response:
        await review.decide(info.actor(remote(request)), reference, outcome, reason)
        return back_to(reference, "decide")

    @web.post("/cases/{reference}/status", include_in_schema=False)
    async def set_status(request: Request, reference: str, info: StaffForm, status: Annotated[str, Form()] = "") -> Response:
        await review.set_status(info.actor(remote(request)), reference, status)
        return back_to(reference, "status")

    @web.post("/cases/{reference}/close", include_in_schema=False)
    async def close(request: Request, reference: str, info: StaffForm, message: Annotated[str, Form()] = "") -> Response:
        await review.close(info.actor(remote(request)), reference, message=message or None)
        return back_to(reference, "close")

    # ---- admin -------------------------------------------------------------------------------

    @web.get("/admin/staff", response_class=HTMLResponse, include_in_schema=False)
    async def staff_page(request: Request, info: Admin) -> HTMLResponse:
        return render(request, "staff.html", staff=await auth.list_staff(), new_password=None, error=None)

    @web.post("/admin/staff", include_in_schema=False)
    async def staff_add(request: Request, info: AdminForm, email: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "reviewer") -> Response:
        password: str | None = None
        error = None
        try:
            password = new_password()
            await auth.add_staff(email, password, role, by=info.actor(remote(request)), must_change_password=True)
        except AuthError as exc:
            password, error = None, str(exc)
        return render(request, "staff.html", 400 if error else 200, staff=await auth.list_staff(),
                      new_password=(email.strip().lower(), password) if password else None, error=error)

    @web.post("/admin/staff/{staff_id}", include_in_schema=False)
    async def staff_update(request: Request, staff_id: str, info: AdminForm, action: Annotated[str, Form()] = "",
                           role: Annotated[str, Form()] = "") -> Response:
        actor = info.actor(remote(request))
        if action == "reset_password":
            password = await auth.reset_password(actor, staff_id)
            target = next((s.email for s in await auth.list_staff() if s.id == staff_id), staff_id)
            return render(request, "staff.html", staff=await auth.list_staff(), new_password=(target, password), error=None)
        options: dict[str, dict[str, Any]] = {
            "role": {"role": role or None},
            "deactivate": {"active": False},
            "activate": {"active": True},
            "require_totp": {"totp_required": True},
            "optional_totp": {"totp_required": False},
            "reset_totp": {"reset_totp": True},
        }
        changes = options.get(action, {})
        if not changes:
            raise ActionRefused("unknown staff action")
        await auth.update_staff(actor, staff_id, **changes)
        return RedirectResponse("/admin/staff?done=staff", status_code=303)

    @web.get("/admin/settings", response_class=HTMLResponse, include_in_schema=False)
    async def settings_page(request: Request, info: Admin) -> HTMLResponse:
        db = urlsplit(settings.sqlalchemy_url).scheme.split("+")[0]
        shown = [
            ("INTAKE_ENV", settings.env), ("INTAKE_PUBLIC_URL", settings.public_url),
            ("INTAKE_HTTP_HOST / PORT", f"{settings.http_host}:{settings.http_port}"), ("Database", db),
            ("Encryption keys", "configured" if settings.secret_keys else "DEVELOPMENT key (not for real cases)"),
            ("INTAKE_MAIL_ADDRESS", settings.mail_address), ("INTAKE_SMTP_HOST / PORT", f"{settings.smtp_host}:{settings.smtp_port}"),
            ("Telegram", "on" if settings.telegram_token else "off"),
            ("Telegram mode", "webhook" if settings.telegram_webhook_url else "polling"),
        ]
        return render(request, "settings.html", shown=shown, runtime=await auth.settings())

    @web.post("/admin/settings", include_in_schema=False)
    async def settings_save(request: Request, info: AdminForm, require_totp: Annotated[str, Form()] = "") -> Response:
        await auth.set_require_totp(info.actor(remote(request)), require_totp == "on")
        return RedirectResponse("/admin/settings?done=settings", status_code=303)

    @web.get("/admin/failed", response_class=HTMLResponse, include_in_schema=False)
    async def failed_page(request: Request, info: Admin) -> HTMLResponse:
        items = await review.failed_items(info.actor(remote(request)))
        return render(request, "failed.html", items=items)

    @web.post("/admin/failed/{kind}/{item_id}/retry", include_in_schema=False)
    async def failed_retry(request: Request, kind: str, item_id: str, info: AdminForm) -> Response:
        await review.retry(info.actor(remote(request)), kind, item_id)
        return RedirectResponse("/admin/failed?done=retry", status_code=303)

    # ---- JSON API ----------------------------------------------------------------------------

    api = APIRouter(prefix="/api", tags=["review"])

    def actor_of(request: Request, info: SessionInfo) -> Actor:
        return info.actor(remote(request))

    @api.get("/queue")
    async def api_queue(request: Request, info: Session, flt: QueueParams) -> dict[str, Any]:
        """The queue: filters as query parameters (status, channel, form, country, minors, ongoing, assigned, files, q, order, page)."""
        return (await review.queue(flt, actor=actor_of(request, info))).to_dict()

    @api.get("/cases/{reference}")
    async def api_case(request: Request, reference: str, info: Session) -> dict[str, Any]:
        """One case (the view is audited)."""
        return (await review.show(reference, actor_of(request, info))).to_dict()

    @api.post("/cases/{reference}/claim")
    async def api_claim(request: Request, reference: str, info: ApiWrite) -> dict[str, Any]:
        """Claim an unassigned case. 409 when someone else has it."""
        return vars(await review.claim(actor_of(request, info), reference))

    @api.post("/cases/{reference}/assign")
    async def api_assign(request: Request, reference: str, body: AssignBody, info: ApiWrite) -> dict[str, Any]:
        return vars(await review.assign(actor_of(request, info), reference, body.staff))

    @api.post("/cases/{reference}/unassign")
    async def api_unassign(request: Request, reference: str, info: ApiWrite) -> dict[str, Any]:
        return vars(await review.unassign(actor_of(request, info), reference))

    @api.post("/cases/{reference}/note")
    async def api_note(request: Request, reference: str, body: TextBody, info: ApiWrite) -> dict[str, Any]:
        return vars(await review.note(actor_of(request, info), reference, body.text))

    @api.post("/cases/{reference}/request-info")
    async def api_request_info(request: Request, reference: str, body: RequestInfoBody, info: ApiWrite) -> dict[str, Any]:
        return vars(await review.request_info(actor_of(request, info), reference, body.text, reopen=body.reopen))

    @api.post("/cases/{reference}/decide")
    async def api_decide(request: Request, reference: str, body: DecideBody, info: ApiWrite) -> dict[str, Any]:
        return vars(await review.decide(actor_of(request, info), reference, body.outcome, body.reason))

    @api.post("/cases/{reference}/status")
    async def api_status(request: Request, reference: str, body: StatusBody, info: ApiWrite) -> dict[str, Any]:
        return vars(await review.set_status(actor_of(request, info), reference, body.status))

    @api.post("/cases/{reference}/close")
    async def api_close(request: Request, reference: str, body: CloseBody, info: ApiWrite) -> dict[str, Any]:
        return vars(await review.close(actor_of(request, info), reference, message=body.message))

    @api.get("/session")
    async def api_session(info: Session) -> dict[str, Any]:
        """Who is logged in, and the CSRF token to send as `X-CSRF-Token` on API writes."""
        return {"email": info.staff.email, "role": info.staff.role, "csrf": info.csrf}

    @api.get("/openapi.json", include_in_schema=False)
    async def api_openapi(info: Session) -> dict[str, Any]:
        return web.openapi()

    web.include_router(api)
    for route in extra_routes:
        if isinstance(route, APIRouter):
            web.include_router(route)
        else:
            web.router.routes.append(route)
    web.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    web.add_middleware(SecurityHeaders, https=https)
    return web
