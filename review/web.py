"""The staff web console (server-rendered, no JavaScript) and the JSON API under /api, assembled.

This module only puts the console together: security headers and proxy middleware, the error
pages (HTML in the console, JSON under /api), templates, static files, and the routers — one per
area: login and account (review.routes_account), queue and cases (review.routes_cases), admin
(review.routes_admin), the API's reading routes (review.routes_api), and the staff actions' form
and API routes generated from one table (review.action_table). Extra routes (e.g. the Telegram
webhook) are mounted as given: they bypass console auth and CSRF, and only they do.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import jinja2
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from casework import web as casework_web
from intake.app import App
from review import action_table, routes_account, routes_admin, routes_api, routes_cases
from review.auth import AuthService, Throttled
from review.model import AccessRefused, CaseNotFound, Conflict, Forbidden, ReviewError
from review.service import ReviewService
from review.webctx import (
    DONE,
    AdminOnly,
    Console,
    CsrfFailed,
    LoginRequired,
    actor_of,
    console_of,
    error_page,
    is_api,
    staff_form,
    staff_session,
)

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
TITLES = {400: "Not done", 403: "Not allowed", 404: "Not found", 405: "Not allowed", 409: "Not done", 429: "Slow down"}


def filesize(n: int) -> str:
    """A byte count as people read it: "812 bytes", "14.2 KB", "3.1 MB"."""
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def security_headers(https: bool) -> list[tuple[bytes, bytes]]:
    """CSP, nosniff, no-referrer, no framing (and HSTS behind https) for every response."""
    headers = [
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"cross-origin-resource-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]
    if https:
        headers.append((b"strict-transport-security", b"max-age=31536000"))
    return headers


class SecurityHeaders:
    """ASGI middleware adding the security headers and no-store to every response."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = security_headers(https)

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


def add_error_pages(web: FastAPI) -> None:
    """Every error as a page in the console's style, and as `{"detail": ...}` JSON under /api."""

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
        return error_page(request, 403, "Forbidden", "The form was missing its security token. Go back, reload and try again.")

    @web.exception_handler(AdminOnly)
    async def _admin_only(request: Request, exc: AdminOnly) -> Response:
        info = getattr(request.state, "info", None)
        if info is not None:  # audited like every refusal: the route, never its content
            route = getattr(request.scope.get("route"), "path", "admin")
            await console_of(request).review.record_refusal(actor_of(request, info), AccessRefused("admins only", action=f"{request.method} {route}"))
        if is_api(request):
            return JSONResponse({"detail": "admins only"}, status_code=403)
        return error_page(request, 403, "Forbidden", "This page is for admins.")

    @web.exception_handler(ReviewError)
    async def _review_error(request: Request, exc: ReviewError) -> Response:
        code = status_for(exc)
        if is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=code)
        back = request.url.path.rsplit("/", 1)[0] if request.method == "POST" else "/"
        return error_page(request, code, "Not allowed" if code == 403 else "Not done", str(exc), back)

    @web.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if is_api(request) or request.url.path.startswith("/static/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        message = "There is no page at this address." if exc.status_code == 404 else str(exc.detail)
        return error_page(request, exc.status_code, TITLES.get(exc.status_code, "Not done"), message)

    @web.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if is_api(request):
            return JSONResponse({"detail": jsonable(exc.errors())}, status_code=422)
        return error_page(request, 400, "Not done", "Part of the request was not understood. Go back and try again.")

    @web.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        # runs outside the middleware stack (Starlette's ServerErrorMiddleware): add the headers here
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        response: Response
        if is_api(request):
            response = JSONResponse({"detail": "internal error"}, status_code=500)
        else:
            response = error_page(request, 500, "Something went wrong",
                                  "The console could not do that. Nothing was shown or changed; try again, and tell an admin if it persists.")
        for key, value in [*security_headers(console_of(request).https), (b"cache-control", b"no-store")]:
            response.headers[key.decode()] = value.decode()
        return response


def jsonable(errors: Sequence[object]) -> list[object]:
    from fastapi.encoders import jsonable_encoder

    encoded: list[object] = jsonable_encoder(errors)
    return encoded


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
    review = review or ReviewService(app.store, app.questionnaire, clock=app.clock,
                                     reviewers_may_note_others=settings.reviewers_may_note_others)
    auth = auth or AuthService(app.store, clock=app.clock)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["filesize"] = filesize
    web = FastAPI(title="Magnitsky Intake staff API", docs_url=None, redoc_url=None, openapi_url=None)
    web.state.review, web.state.auth = review, auth
    web.state.console = Console(app, review, auth, Jinja2Templates(env=env), https, {**DONE, **action_table.DONE_TEXTS})
    add_error_pages(web)

    @web.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        ok = await app.store.db.ping()
        return JSONResponse({"status": "ok" if ok else "unavailable"}, status_code=200 if ok else 503)

    web.include_router(routes_account.router)
    web.include_router(routes_cases.router)
    web.include_router(action_table.form_router())
    web.include_router(routes_admin.router)
    web.include_router(routes_api.router)
    web.include_router(action_table.api_router())
    # casework (checklist, screening, links, dossiers), in the console's pages and behind its login
    web.include_router(casework_web.create_router(app, session=staff_session, form=staff_form,
                                                  pages=casework_web.templates(jinja2.FileSystemLoader(HERE / "templates"))))
    for route in extra_routes:
        if isinstance(route, APIRouter):
            web.include_router(route)
        else:
            web.router.routes.append(route)
    web.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    if settings.trusted_proxy_list:
        web.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    web.add_middleware(SecurityHeaders, https=https)
    return web
