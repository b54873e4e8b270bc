"""The queue page and the case pages: one case, its file downloads and its dossier exports.
(The staff actions' form routes are generated from review.action_table.)"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from casework import web as casework_web
from intake import lifecycle
from intake.app import App
from review import auditview, export
from review.auth import SessionInfo
from review.webctx import QueueParams, Session, actor_of, console_of, content_disposition, render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
DOWNLOAD_HEADERS = {"x-content-type-options": "nosniff", "content-security-policy": "default-src 'none'; sandbox", "cache-control": "no-store"}


@router.get("/", response_class=HTMLResponse)
async def queue(request: Request, info: Session, flt: QueueParams) -> HTMLResponse:
    review = console_of(request).review
    result = await review.queue(flt, actor=actor_of(request, info))
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    return render(
        request, "queue.html", page=result, flt=flt, statuses=lifecycle.STATUSES[1:], forms=review.options("abuse_forms"),
        base_query=urlencode(params),
    )


@router.get("/cases/{reference}", response_class=HTMLResponse)
async def case_page(request: Request, reference: str, info: Session, audit: str | None = None) -> HTMLResponse:
    """One case: the first screen (glance, perpetrators, actions), the rest folded below;
    `?audit=staff|submitter|system` filters the audit timeline."""
    console = console_of(request)
    review = console.review
    view = await review.show(reference, actor_of(request, info))
    kind = audit if audit in auditview.KINDS else None
    return render(request, "case.html", case=view, staff=await review.staff_choices(), decisions=lifecycle.DECISIONS,
                  audit_lines=auditview.lines(view.audit, channel=view.channel, kind=kind), audit_kind=kind, open_all=False,
                  checklist_html=await casework_panel(console.app, view.reference, info))


_panel_pages = casework_web.templates()


async def casework_panel(app: App, reference: str, info: SessionInfo) -> Markup | None:
    """The casework panel (designation checklist, screening, links) rendered for the first screen;
    None when it cannot be had (the page still shows everything else)."""
    try:
        cw = await casework_web.case_panel(app, reference)
    except Exception as exc:  # noqa: BLE001 - the case page must not fail because casework did
        log.warning("casework panel of case %s not shown (%s)", reference, type(exc).__name__)
        return None
    html = _panel_pages.get_template("casework_panel.html").render(cw=cw, info=info)
    return Markup(html)  # noqa: S704 - rendered by an autoescaping Jinja environment


@router.get("/cases/{reference}/files/{attachment_id}")
async def download(request: Request, reference: str, attachment_id: str, info: Session, original: bool = False) -> Response:
    """The file without its metadata; `?original=1` (admins) the file as received."""
    record, data = await console_of(request).review.download(reference, attachment_id, actor_of(request, info), original=original)
    return Response(data, media_type="application/octet-stream",
                    headers={"content-disposition": content_disposition(record.filename), **DOWNLOAD_HEADERS})


@router.get("/cases/{reference}/export")
async def export_case(request: Request, reference: str, info: Session, fmt: Annotated[str, Query(alias="format")] = "md") -> Response:
    """A dossier download (md, json, ftm); the export and the view it is made from are audited."""
    review = console_of(request).review
    fmt = export.check_format(fmt)
    actor = actor_of(request, info)
    await review.record_export(reference, actor, fmt=fmt)
    view = await review.show(reference, actor)
    body = export.render(fmt, view, review.q, export.Envelope(exported_at=review.clock(), exported_by=actor.email or actor.staff_id))
    return Response(body, media_type=export.MEDIA[fmt][0],
                    headers={"content-disposition": content_disposition(export.filename(view, fmt)), **DOWNLOAD_HEADERS})
