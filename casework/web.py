"""The console's casework parts: an APIRouter with the checklist panel, screening candidates
(confirm / dismiss), "may also appear in" (cross-case links), the perpetrator view and dossier
downloads per jurisdiction, plus JSON under /api. Routes are thin: they call the casework
services and render `casework/templates`.

The console mounts it (see README "Casework"): `create_router(app, session=<staff session
dependency>, form=<staff form + CSRF dependency>)`; both dependencies return the console's
session object, read here only through `staff.id`, `staff.email` and `csrf`."""

# no `from __future__ import annotations`: FastAPI resolves the Annotated aliases at run time

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Protocol
from urllib.parse import quote

import jinja2
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import escape
from starlette.templating import Jinja2Templates

from casework import dossier
from casework.checklist import checklist, labels
from casework.links import Linker
from casework.screening import Screener, ScreeningError
from casework.settings import CaseworkSettings
from casework.yente import YenteError
from intake.app import App

TEMPLATES = Path(__file__).parent / "templates"


class StaffRef(Protocol):
    id: str
    email: str


class ConsoleSession(Protocol):
    staff: StaffRef
    csrf: str


def templates(extra: jinja2.BaseLoader | None = None) -> Jinja2Templates:
    """The casework templates (and `extra`'s, e.g. the console's, behind them)."""
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(TEMPLATES)] + ([extra] if extra else [])
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True, undefined=jinja2.StrictUndefined)
    return Jinja2Templates(env=env)


async def case_panel(app: App, reference: str, settings: CaseworkSettings | None = None) -> dict[str, Any]:
    """What the case page shows of casework, from stored results (nothing rescored, nothing audited):
    `checklist` (with labels of the deciding answers), `screening`, `links`, `jurisdictions`."""
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(reference.strip().upper())
    if case is None:
        raise ScreeningError(f"no case {reference}")
    answers = (case.draft or {}).get("answers") or {}
    result = checklist(app.questionnaire, answers)
    items = [{**e.__dict__, "labels": labels(app.questionnaire, e.answers)} for e in result.elements]
    return {
        "reference": case.reference,
        "checklist": {**result.to_dict(), "elements": items, "reopen": result.to_reopen()},
        "screening": (await Screener(app, settings).stored(case.reference)).to_dict(),
        "links": [dict(link.to_dict(), status=link.status) for link in (await Linker(app, settings).links(case.reference)).links],
        "jurisdictions": list(dossier.JURISDICTIONS),
    }


def create_router(app: App, *, session: Callable[..., Any], form: Callable[..., Any], settings: CaseworkSettings | None = None,
                  pages: Jinja2Templates | None = None) -> APIRouter:
    """The casework routes; `session` and `form` are the console's staff dependencies."""
    router = APIRouter()
    tpl = pages or templates()
    cfg = settings or CaseworkSettings()
    screener, linker = Screener(app, cfg), Linker(app, cfg)
    Session = Annotated[Any, Depends(session)]
    StaffForm = Annotated[Any, Depends(form)]

    def remote(request: Request) -> str | None:
        return request.client.host if request.client else None

    def back(reference: str, done: str) -> RedirectResponse:
        return RedirectResponse(f"/cases/{quote(reference.strip().upper())}/casework?done={quote(done)}", status_code=303)

    def refused(exc: Exception) -> Response:
        return HTMLResponse(f"<p>Not done: {escape(str(exc))}</p>", status_code=400)

    @router.get("/cases/{reference}/casework", response_class=HTMLResponse, include_in_schema=False)
    async def panel(request: Request, reference: str, info: Session) -> Response:
        try:
            ctx = await case_panel(app, reference, cfg)
        except ScreeningError as exc:
            return HTMLResponse(str(escape(str(exc))), status_code=404)
        return tpl.TemplateResponse(request, "casework_page.html", {"cw": ctx, "info": info, "done": request.query_params.get("done")})

    @router.post("/cases/{reference}/casework/screen", include_in_schema=False)
    async def screen(reference: str, info: StaffForm) -> Response:
        try:
            await screener.screen(reference, actor_kind="staff", actor_id=info.staff.id)
            await linker.link_case(reference)
        except (ScreeningError, YenteError) as exc:
            return refused(exc)
        return back(reference, "screened")

    @router.post("/cases/{reference}/casework/candidates", include_in_schema=False)
    async def decide(request: Request, reference: str, info: StaffForm, perpetrator: Annotated[int, Form()],
                     entity_id: Annotated[str, Form()], decision: Annotated[str, Form()]) -> Response:
        try:
            await screener.decide(reference, perpetrator, entity_id, decision, actor_id=info.staff.id, remote=remote(request))
        except ScreeningError as exc:
            return refused(exc)
        return back(reference, decision)

    @router.post("/cases/{reference}/casework/links", include_in_schema=False)
    async def decide_link(request: Request, reference: str, info: StaffForm, perpetrator: Annotated[int, Form()],
                          other_reference: Annotated[str, Form()], other_perpetrator: Annotated[int, Form()],
                          status: Annotated[str, Form()]) -> Response:
        try:
            await linker.decide(reference, perpetrator, other_reference, other_perpetrator, status, actor_id=info.staff.id, remote=remote(request))
        except ScreeningError as exc:
            return refused(exc)
        return back(reference, f"link {status}")

    @router.get("/cases/{reference}/perpetrators/{number}", response_class=HTMLResponse, include_in_schema=False)
    async def perpetrator(request: Request, reference: str, number: int, info: Session) -> Response:
        try:
            cases = await linker.perpetrator_view(reference.strip().upper(), number)
        except ScreeningError as exc:
            return HTMLResponse(str(escape(str(exc))), status_code=404)
        return tpl.TemplateResponse(request, "casework_perpetrator.html", {"cases": cases, "info": info, "reference": reference.upper(), "done": None})

    @router.get("/cases/{reference}/dossier", include_in_schema=False)
    async def download(request: Request, reference: str, info: Session, fmt: Annotated[str, Query(alias="format")] = "pdf",
                       jurisdiction: str = "us", internal: bool = False) -> Response:
        """A dossier (audited) in a jurisdiction's form; --internal parts on request."""
        try:
            data = await dossier.export(app, reference, fmt=fmt, jurisdiction=jurisdiction, internal=internal, actor_kind="staff",
                                        actor_id=info.staff.id, actor_name=info.staff.email, remote=remote(request))
        except dossier.DossierError as exc:
            return refused(exc)
        name = dossier.filename_for(reference.strip().upper(), fmt, jurisdiction)
        return Response(data, media_type=dossier.MEDIA[fmt][0], headers={
            "content-disposition": f'attachment; filename="{name}"', "x-content-type-options": "nosniff",
            "content-security-policy": "default-src 'none'; sandbox", "cache-control": "no-store"})

    @router.get("/api/cases/{reference}/casework")
    async def api_panel(reference: str, info: Session) -> Response:
        try:
            return JSONResponse(await case_panel(app, reference, cfg))
        except ScreeningError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)

    return router
