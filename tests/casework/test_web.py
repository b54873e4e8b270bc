"""The casework router mounted the way the console mounts it (staff sessions from the real
AuthService, CSRF on forms), driven over HTTP: panel, confirm/dismiss, links, perpetrator view,
dossier download, JSON."""

from __future__ import annotations

import re

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request

from casework.links import Linker
from casework.web import case_panel, create_router
from intake.app import App
from review.auth import AuthService, SessionInfo
from tests.casework import fixtures
from tests.casework.conftest import add_case, perps_case
from tests.review.conftest import PASSWORD, add_staff

P = [p["perp"] for p in fixtures.PERPETRATORS]
COOKIE = "intake_session"


def console(app: App, auth: AuthService) -> FastAPI:
    async def session(request: Request) -> SessionInfo:
        info = await auth.session(request.cookies.get(COOKIE))
        if info is None or info.stage != "ok":
            raise HTTPException(401)
        return info

    async def form(request: Request, info: SessionInfo = Depends(session)) -> SessionInfo:
        token = (await request.form()).get("csrf")
        if not info.csrf_ok(token if isinstance(token, str) else None):
            raise HTTPException(403)
        return info

    web = FastAPI()
    web.include_router(create_router(app, session=session, form=form))
    return web


async def test_casework_pages(loaded: App, auth: AuthService, linker: Linker) -> None:
    await add_staff(auth, "alice@example.org")
    login = await auth.login("alice@example.org", PASSWORD, remote="127.0.0.1")
    other = await add_case(loaded, perps_case(P[1]))
    await linker.link_case(other)
    ref = await add_case(loaded, perps_case(P[0], P[13]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=console(loaded, auth)), base_url="http://testserver") as client:
        assert (await client.get(f"/cases/{ref}/casework")).status_code == 401
        client.cookies.set(COOKIE, login.token)
        assert (await client.post(f"/cases/{ref}/casework/screen", data={"csrf": "wrong"})).status_code == 403
        r = await client.post(f"/cases/{ref}/casework/screen", data={"csrf": login.csrf})
        assert r.status_code == 303
        page = (await client.get(r.headers["location"])).text
        assert "Designation checklist" in page and "Ivan Petrov" in page and "fx-oceanglory" in page
        assert f'href="/cases/{other}"' in page  # may also appear in
        r = await client.post(f"/cases/{ref}/casework/candidates",
                              data={"csrf": login.csrf, "perpetrator": "1", "entity_id": "fx-petrov", "decision": "confirmed"})
        assert r.status_code == 303
        r = await client.post(f"/cases/{ref}/casework/links",
                              data={"csrf": login.csrf, "perpetrator": "1", "other_reference": other, "other_perpetrator": "1", "status": "confirmed"})
        assert r.status_code == 303
        view = (await client.get(f"/cases/{ref}/perpetrators/1")).text
        assert re.search(rf"{other}</a></td><td>1</td><td>Иван Петров", view)
        pdf = await client.get(f"/cases/{ref}/dossier?format=pdf&jurisdiction=ca")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        assert pdf.headers["content-disposition"] == f'attachment; filename="{ref}-ca.pdf"'
        assert (await client.get(f"/cases/{ref}/dossier?format=docx")).status_code == 400
        data = (await client.get(f"/api/cases/{ref}/casework")).json()
    assert data == await case_panel(loaded, ref)
    assert data["screening"]["perpetrators"][0]["candidates"][0]["explanation"]["decision"] == "confirmed"
    assert data["links"][0]["status"] == "confirmed"
    async with loaded.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        actions = [(e.action, e.actor_id) for e in await uow.audit.for_case(case.id)]
    staff = await auth.by_email("alice@example.org")
    assert staff is not None
    assert ("screening.confirmed", staff.id) in actions and ("case.exported", staff.id) in actions
