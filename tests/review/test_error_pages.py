"""Console errors are pages in the console's style (404, 403, 500, a bad query), JSON only under /api."""

from __future__ import annotations

import httpx
from fastapi import APIRouter

from intake.app import App
from review.auth import AuthService
from review.service import Actor, ReviewService
from review.web import create_app
from tests.review.test_web import login


async def test_errors_are_pages_and_json_only_under_api(app: App, auth: AuthService, review: ReviewService, alice: Actor) -> None:
    broken = APIRouter()

    @broken.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug with secret detail")

    web = create_app(app, review=review, auth=auth, extra_routes=[broken])
    transport = httpx.ASGITransport(app=web, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await login(client, "alice@example.org")

        def is_page(r: httpx.Response, code: int, words: str) -> None:
            assert r.status_code == code and r.headers["content-type"].startswith("text/html"), (r.status_code, r.text[:200])
            assert "<html" in r.text and "console.css" in r.text and words in r.text, r.text
            assert "default-src 'none'" in r.headers["content-security-policy"]

        is_page(await client.get("/cases/HT-0000-0000"), 404, "no case HT-0000-0000")  # a missing case
        is_page(await client.get("/no/such/page"), 404, "There is no page at this address")
        is_page(await client.get("/cases/HT-0000-0000/files/nope"), 404, "Not")
        is_page(await client.get("/admin/staff"), 403, "This page is for admins")
        is_page(await client.get("/", params={"page": "many"}), 400, "not understood")
        crash = await client.get("/boom")
        is_page(crash, 500, "Something went wrong")
        assert "secret detail" not in crash.text and "Traceback" not in crash.text
        assert (await client.put("/cases/HT-0000-0000")).status_code == 405

        api = await client.get("/api/cases/HT-0000-0000")
        assert api.status_code == 404 and api.json() == {"detail": "no case HT-0000-0000"}
        assert (await client.get("/api/no/such")).json() == {"detail": "Not Found"}
        bad = await client.get("/api/queue", params={"page": "many"})
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/json"
