"""A tiny yente on loopback: `POST /match/{dataset}` over the fixture list, scored with
nomenklatura's logic-v2 as yente does, answering in yente's response shape."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from followthemoney import model
from nomenklatura.matching import LogicV2

from tests.casework import fixtures


def create() -> tuple[FastAPI, list[dict[str, Any]]]:
    """The app and the list of requests it received (params and body)."""
    web = FastAPI()
    seen: list[dict[str, Any]] = []
    entities = [model.get_proxy(e) for e in fixtures.FTM_ENTITIES if e["schema"] in ("Person", "Company", "Vessel")]

    @web.post("/match/{dataset}")
    async def match(dataset: str, request: Request) -> dict[str, Any]:
        if request.headers.get("authorization") != "ApiKey test-key":
            raise HTTPException(403)
        body = await request.json()
        seen.append({"dataset": dataset, "params": dict(request.query_params), "body": body})
        threshold = float(request.query_params.get("threshold", 0.7))
        responses = {}
        for key, query in body["queries"].items():
            q = model.get_proxy({"id": f"q-{key}", "schema": query["schema"], "properties": query["properties"]}, cleaned=False)
            results = []
            for e in entities:
                if not q.schema.can_match(e.schema):
                    continue
                r = LogicV2.compare(q, e, LogicV2.default_config())
                if r.score > 0:
                    results.append({"id": e.id, "caption": e.caption, "schema": e.schema.name, "properties": e.to_dict()["properties"],
                                    "datasets": ["fixture_sdn"], "score": r.score, "match": r.score >= threshold,
                                    "features": {k: f.score for k, f in r.explanations.items()}})
            results.sort(key=lambda x: -x["score"])
            responses[key] = {"status": 200, "results": results[: int(request.query_params.get("limit", 5))], "total": {"value": len(results)}}
        return {"responses": responses, "limit": 5}

    return web, seen


@asynccontextmanager
async def serve() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """Run the fake on 127.0.0.1 (a free port); yields its root URL and the requests log."""
    web, seen = create()
    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        server.should_exit = True
        await task
