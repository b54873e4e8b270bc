"""A client for yente's `/match` API (OpenSanctions' matching server), used instead of the local
index when `INTAKE_YENTE_URL` is set. One POST per case, every perpetrator a query."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from followthemoney import EntityProxy


@dataclass
class YenteResult:
    entity_id: str
    caption: str
    schema: str
    score: float
    match: bool
    datasets: list[str]
    features: dict[str, float]
    properties: dict[str, list[str]] = field(default_factory=dict)


class YenteError(RuntimeError):
    """The yente server did not answer as expected (the message holds no case content)."""


class YenteClient:
    def __init__(self, url: str, *, dataset: str = "default", api_key: str | None = None, timeout: float = 20.0,
                 threshold: float = 0.7, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.dataset = dataset
        self.threshold = threshold
        self.timeout = timeout
        self.headers = {"authorization": f"ApiKey {api_key}"} if api_key else {}
        self.transport = transport

    async def match(self, queries: dict[str, EntityProxy], *, limit: int = 10) -> dict[str, list[YenteResult]]:
        """Results per query key, as yente scored them (algorithm logic-v2, our threshold)."""
        if not queries:
            return {}
        body = {"queries": {k: {"schema": e.schema.name, "properties": e.to_dict()["properties"]} for k, e in queries.items()}}
        params: dict[str, str | int | float] = {"algorithm": "logic-v2", "threshold": self.threshold, "limit": limit}
        try:
            async with httpx.AsyncClient(timeout=self.timeout, headers=self.headers, transport=self.transport) as client:
                resp = await client.post(f"{self.url}/match/{self.dataset}", params=params, json=body)
        except httpx.HTTPError as exc:
            raise YenteError(f"yente unreachable: {type(exc).__name__}") from None
        if resp.status_code != 200:
            raise YenteError(f"yente answered HTTP {resp.status_code}")
        data: dict[str, Any] = resp.json()
        out: dict[str, list[YenteResult]] = {}
        for key, answer in (data.get("responses") or {}).items():
            out[key] = [
                YenteResult(
                    entity_id=str(r.get("id")), caption=str(r.get("caption") or ""), schema=str(r.get("schema") or ""),
                    score=float(r.get("score") or 0.0), match=bool(r.get("match")), datasets=[str(d) for d in r.get("datasets") or []],
                    features={str(k): float(v) for k, v in (r.get("features") or {}).items() if isinstance(v, int | float)},
                    properties=r.get("properties") or {},
                )
                for r in answer.get("results") or []
            ]
        return out
