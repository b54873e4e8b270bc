"""What every console router shares: the console's context (services, templates, cookie name),
rendering, the session and CSRF dependencies, the queue's query parameters, and the errors the
app module turns into pages (or JSON under /api)."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from intake.app import App
from review.auth import AuthService, SessionInfo
from review.model import Actor, QueueFilter
from review.service import ReviewService

# what a page says after a redirect with ?done=<key> (the staff actions add theirs from their table)
DONE = {
    "retry": "Queued for another attempt.",
    "staff": "Staff account updated.",
    "settings": "Setting saved.",
    "totp": "Two-factor authentication is on.",
    "password": "Password changed.",
    "notify": "Your email notification setting was saved.",
}


class LoginRequired(Exception):
    """No usable session: pages redirect (to login or the pending step), the API answers 401."""

    def __init__(self, location: str = "/login") -> None:
        self.location = location


class CsrfFailed(Exception):
    """A state-changing request without the session's CSRF token."""


class AdminOnly(Exception):
    """A reviewer asked for an admin page."""


@dataclass
class Console:
    """The console's shared parts, kept on `app.state.console` for the routers' dependencies."""

    app: App
    review: ReviewService
    auth: AuthService
    templates: Jinja2Templates
    https: bool
    done: dict[str, str]

    @property
    def cookie(self) -> str:
        return "__Host-intake_session" if self.https else "intake_session"


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def remote(request: Request) -> str | None:
    """The client's address (a trusted proxy's X-Forwarded-For already applied by the middleware)."""
    return request.client.host if request.client else None


def actor_of(request: Request, info: SessionInfo) -> Actor:
    return info.actor(remote(request))


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    """A console page: the session (if any) and the `done` message ride along to the template."""
    ctx.setdefault("info", getattr(request.state, "info", None))
    console = console_of(request)
    ctx.setdefault("done", console.done.get(request.query_params.get("done", "")))
    return console.templates.TemplateResponse(request, name, ctx, status_code=status_code)


def error_page(request: Request, status_code: int, title: str, message: str, back: str = "/") -> HTMLResponse:
    return render(request, "error.html", status_code, title=title, message=message, back=back)


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


# ---- dependencies --------------------------------------------------------------------------------


async def any_session(request: Request) -> SessionInfo:
    """A live session at any stage (TOTP or enrolment pending included)."""
    console = console_of(request)
    info = await console.auth.session(request.cookies.get(console.cookie))
    if info is None:
        raise LoginRequired("/login")
    request.state.info = info
    return info


async def staff_session(info: Annotated[SessionInfo, Depends(any_session)]) -> SessionInfo:
    """A fully logged-in session: the second factor and any forced password change are done."""
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
    """A form post carrying the session's CSRF token in its `csrf` field."""
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
    """An API write carrying the session's CSRF token in `X-CSRF-Token`."""
    if not info.csrf_ok(request.headers.get("x-csrf-token")):
        raise CsrfFailed()
    return info


def queue_params(
    status: Annotated[list[str] | None, Query()] = None,
    channel: Annotated[list[str] | None, Query()] = None,
    form: Annotated[list[str] | None, Query()] = None,
    country: str = "", minors: str = "", ongoing: str = "", consent: str = "", assigned: str = "", files: str = "",
    q: str = "", order: str = "needs", page: int = 1,
) -> QueueFilter:
    """The queue's filters from the query string (the page and the API use the same names)."""
    return QueueFilter(
        statuses=[s for s in status or [] if s], channels=[c for c in channel or [] if c], abuse_forms=[f for f in form or [] if f],
        country=country or None, minors=minors or None, ongoing=ongoing or None,
        consent=consent if consent in ("allowed", "refused", "not_said") else None,
        assigned=assigned if assigned in ("me", "unassigned") else None,
        has_attachments={"yes": True, "no": False}.get(files), search=q[:500],
        newest_first=order != "oldest", order=order if order in ("needs", "ready") else "", page=max(1, page),
    )


Session = Annotated[SessionInfo, Depends(staff_session)]
AnySession = Annotated[SessionInfo, Depends(any_session)]
Admin = Annotated[SessionInfo, Depends(admin_session)]
StaffForm = Annotated[SessionInfo, Depends(staff_form)]
AdminForm = Annotated[SessionInfo, Depends(admin_form)]
AnyForm = Annotated[SessionInfo, Depends(form_csrf)]
ApiWrite = Annotated[SessionInfo, Depends(api_csrf)]
QueueParams = Annotated[QueueFilter, Depends(queue_params)]
