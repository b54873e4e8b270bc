"""Admin pages: staff accounts, run-time settings, failed inbox and outbox items."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from review.auth import AuthError, new_password
from review.model import ActionRefused
from review.webctx import Admin, AdminForm, actor_of, console_of, render

router = APIRouter(prefix="/admin", include_in_schema=False)

STAFF_CHANGES: dict[str, dict[str, Any]] = {
    "deactivate": {"active": False},
    "activate": {"active": True},
    "require_totp": {"totp_required": True},
    "optional_totp": {"totp_required": False},
    "reset_totp": {"reset_totp": True},
}


@router.get("/stalled", response_class=HTMLResponse)
async def stalled_page(request: Request, info: Admin, hours: int = 24) -> HTMLResponse:
    """Drafts and first contacts idle for more than `hours` (default 24), with language and age."""
    hours = min(max(hours, 0), 24 * 365)
    items = await console_of(request).review.stalled(actor_of(request, info), idle=timedelta(hours=hours))
    return render(request, "stalled.html", items=items, hours=hours)


@router.get("/staff", response_class=HTMLResponse)
async def staff_page(request: Request, info: Admin) -> HTMLResponse:
    return render(request, "staff.html", staff=await console_of(request).auth.list_staff(), new_password=None, error=None)


@router.post("/staff")
async def staff_add(request: Request, info: AdminForm, email: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "reviewer") -> Response:
    auth = console_of(request).auth
    password: str | None = None
    error = None
    try:
        password = new_password()
        await auth.add_staff(email, password, role, by=actor_of(request, info), must_change_password=True)
    except AuthError as exc:
        password, error = None, str(exc)
    return render(request, "staff.html", 400 if error else 200, staff=await auth.list_staff(),
                  new_password=(email.strip().lower(), password) if password else None, error=error)


@router.post("/staff/{staff_id}")
async def staff_update(request: Request, staff_id: str, info: AdminForm, action: Annotated[str, Form()] = "",
                       role: Annotated[str, Form()] = "") -> Response:
    auth = console_of(request).auth
    actor = actor_of(request, info)
    if action == "reset_password":
        password = await auth.reset_password(actor, staff_id)
        target = next((s.email for s in await auth.list_staff() if s.id == staff_id), staff_id)
        return render(request, "staff.html", staff=await auth.list_staff(), new_password=(target, password), error=None)
    changes = {"role": role or None} if action == "role" else STAFF_CHANGES.get(action, {})
    if not changes:
        raise ActionRefused("unknown staff action")
    await auth.update_staff(actor, staff_id, **changes)
    return RedirectResponse("/admin/staff?done=staff", status_code=303)


@router.get("/settings", response_class=HTMLResponse)
async def settings_page(request: Request, info: Admin) -> HTMLResponse:
    console = console_of(request)
    settings = console.app.settings
    db = urlsplit(settings.sqlalchemy_url).scheme.split("+")[0]
    shown = [
        ("INTAKE_ENV", settings.env), ("INTAKE_PUBLIC_URL", settings.public_url),
        ("INTAKE_HTTP_HOST / PORT", f"{settings.http_host}:{settings.http_port}"), ("Database", db),
        ("Encryption keys", "configured" if settings.secret_keys else "DEVELOPMENT key (not for real cases)"),
        ("INTAKE_MAIL_ADDRESS", settings.mail_address), ("INTAKE_SMTP_HOST / PORT", f"{settings.smtp_host}:{settings.smtp_port}"),
        ("Telegram", "on" if settings.telegram_token else "off"),
        ("Telegram mode", "webhook" if settings.telegram_webhook_url else "polling"),
        ("INTAKE_TRUSTED_PROXIES", settings.trusted_proxies or "none (X-Forwarded-For ignored)"),
        ("INTAKE_REVIEWERS_MAY_NOTE_OTHERS", "yes" if settings.reviewers_may_note_others else "no"),
    ]
    return render(request, "settings.html", shown=shown, runtime=await console.auth.settings())


@router.post("/settings")
async def settings_save(request: Request, info: AdminForm, require_totp: Annotated[str, Form()] = "") -> Response:
    await console_of(request).auth.set_require_totp(actor_of(request, info), require_totp == "on")
    return RedirectResponse("/admin/settings?done=settings", status_code=303)


@router.get("/failed", response_class=HTMLResponse)
async def failed_page(request: Request, info: Admin) -> HTMLResponse:
    items = await console_of(request).review.failed_items(actor_of(request, info))
    return render(request, "failed.html", items=items)


@router.post("/failed/{kind}/{item_id}/retry")
async def failed_retry(request: Request, kind: str, item_id: str, info: AdminForm) -> Response:
    await console_of(request).review.retry(actor_of(request, info), kind, item_id)
    return RedirectResponse("/admin/failed?done=retry", status_code=303)
