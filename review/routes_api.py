"""The JSON API's reading routes: the queue, one case, the session (with its CSRF token) and the
OpenAPI document. Its action routes are generated from review.action_table."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from review.webctx import QueueParams, Session, actor_of, console_of

router = APIRouter(prefix="/api", tags=["review"])


@router.get("/queue")
async def api_queue(request: Request, info: Session, flt: QueueParams) -> dict[str, Any]:
    """The queue: filters as query parameters (status, channel, form, country, minors, ongoing, assigned, files, q, order, page)."""
    return (await console_of(request).review.queue(flt, actor=actor_of(request, info))).to_dict()


@router.get("/cases/{reference}")
async def api_case(request: Request, reference: str, info: Session) -> dict[str, Any]:
    """One case (the view is audited)."""
    return (await console_of(request).review.show(reference, actor_of(request, info))).to_dict()


@router.get("/session")
async def api_session(info: Session) -> dict[str, Any]:
    """Who is logged in, and the CSRF token to send as `X-CSRF-Token` on API writes."""
    return {"email": info.staff.email, "role": info.staff.role, "csrf": info.csrf}


@router.get("/openapi.json", include_in_schema=False)
async def api_openapi(request: Request, info: Session) -> dict[str, Any]:
    openapi: dict[str, Any] = request.app.openapi()
    return openapi
