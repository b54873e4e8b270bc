"""Screening a case's perpetrators against the imported sanctions lists (or a yente server).

`screen_case` scores every perpetrator, stores the hits (ids, scores and feature scores only)
and audits the run; `rescreen_all` does it for every case under review (after a list is loaded);
`decide` records a staff member's confirm / dismiss of one candidate, audited. The JSON shape of
`ScreeningReport.to_dict()` is what `intake sanctions screen REF --json` prints."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from followthemoney import EntityProxy

from casework import values as v
from casework.matching import blocking_keys, compare, entity_from_dict, perpetrator_entity
from casework.settings import CaseworkSettings
from casework.yente import YenteClient
from intake import lifecycle
from intake.app import App
from storage.casework import HitRow, SanctionsRepository, ScreeningRepository
from storage.repositories import CaseRecord, UnitOfWork

log = logging.getLogger(__name__)
SHOWN = 5  # candidates kept per perpetrator
FLOOR = 0.3  # scores below this are not candidates
SCREENED = [lifecycle.SUBMITTED, lifecycle.IN_REVIEW, lifecycle.NEEDS_INFO, lifecycle.ESCALATED, lifecycle.ACCEPTED]
DECISIONS = ("confirmed", "dismissed")
QUALIFIERS = {"identifier_mismatch", "country_mismatch", "dob_year_disjoint", "dob_day_disjoint", "gender_mismatch", "schema"}


class ScreeningError(Exception):
    """A screening request that cannot be done; the message is safe to show to staff."""


@dataclass
class Candidate:
    entity_id: str
    caption: str
    score: float
    match: bool
    datasets: list[str]
    explanation: dict[str, Any]
    programs: list[str] = field(default_factory=list)
    decision: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"entity_id": self.entity_id, "caption": self.caption, "score": self.score, "match": self.match,
                "datasets": self.datasets, "explanation": {**self.explanation, "programs": self.programs, "decision": self.decision}}


@dataclass
class PerpetratorResult:
    index: int
    name: str
    candidates: list[Candidate]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name, "candidates": [c.to_dict() for c in self.candidates]}


@dataclass
class ScreeningReport:
    reference: str
    perpetrators: list[PerpetratorResult]

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "perpetrators": [p.to_dict() for p in self.perpetrators]}


def perpetrators(case: CaseRecord) -> list[tuple[int, dict[str, Any], EntityProxy]]:
    """(1-based number, answers, FtM entity) of every named perpetrator of the case."""
    answers = (case.draft or {}).get("answers") or {}
    out = []
    for i, perp in enumerate(v.instances(answers, "perpetrators"), 1):
        entity = perpetrator_entity(perp, f"{case.reference}-p{i}")
        if entity.get("name"):
            out.append((i, perp, entity))
    return out


def explain(features: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Feature scores with the fields that agreed (raised the score) and disagreed (lowered it)."""
    agreed = sorted(k for k, f in features.items() if k not in QUALIFIERS and f["score"] > 0)
    disagreed = sorted(k for k, f in features.items() if k in QUALIFIERS and f["score"] > 0)
    return {"agreed": agreed, "disagreed": disagreed, "features": features}


async def _local(uow: UnitOfWork, entity: EntityProxy, threshold: float) -> list[Candidate]:
    found = []
    for row in await SanctionsRepository(uow.session).candidates(blocking_keys(entity)):
        verdict = compare(entity, entity_from_dict({"id": row.entity_id, "schema": row.schema, "properties": row.data.get("properties")}), threshold)
        if verdict.score >= FLOOR:
            found.append(Candidate(row.entity_id, row.caption, verdict.score, verdict.match, list(row.data.get("datasets") or [row.dataset]),
                                   explain(verdict.explanation), list(row.data.get("programs") or [])))
    return found


async def _yente(client: YenteClient, perps: list[tuple[int, dict[str, Any], EntityProxy]]) -> dict[int, list[Candidate]]:
    answers = await client.match({str(n): e for n, _, e in perps}, limit=SHOWN)
    out: dict[int, list[Candidate]] = {}
    for n, _, _ in perps:
        out[n] = [
            Candidate(r.entity_id, r.caption, round(r.score, 4), r.score >= client.threshold, r.datasets,
                      explain({k: {"score": s, "detail": None} for k, s in r.features.items()}),
                      [str(p) for p in r.properties.get("programId") or []])
            for r in answers.get(str(n), []) if r.score >= FLOOR
        ]
    return out


class Screener:
    """Screening over the app's store, with the casework settings."""

    def __init__(self, app: App, settings: CaseworkSettings | None = None) -> None:
        self.app = app
        self.settings = settings or CaseworkSettings(_env_file=None)  # type: ignore[call-arg]
        s = self.settings
        self.yente = YenteClient(s.yente_url, dataset=s.yente_dataset, api_key=s.yente_api_key, timeout=s.yente_timeout,
                                 threshold=s.match_threshold) if s.yente_url else None

    async def _case(self, uow: UnitOfWork, ref_or_id: str) -> CaseRecord:
        case = await uow.cases.by_reference(ref_or_id)
        if case is None:
            try:
                case = await uow.cases.get(ref_or_id)
            except LookupError:
                raise ScreeningError(f"no case {ref_or_id}") from None
        return case

    async def screen(self, ref_or_id: str, *, actor_kind: str = "system", actor_id: str | None = None) -> ScreeningReport:
        """Score every perpetrator, replace the stored hits, audit the run; the report, best first."""
        threshold = self.settings.match_threshold
        async with self.app.store.read() as uow:
            case = await self._case(uow, ref_or_id)
            perps = perpetrators(case)
            if self.yente is None:
                found = {n: await _local(uow, e, threshold) for n, _, e in perps}
        if self.yente is not None:
            found = await self._remote(perps)
        now = self.app.clock()
        async with self.app.store.write() as uow:
            repo = ScreeningRepository(uow.session)
            decisions = await repo.decisions(case.id)
            results = []
            hits = []
            for n, _, entity in perps:
                best = sorted(found.get(n, []), key=lambda c: (-c.score, c.entity_id))[:SHOWN]
                for c in best:
                    c.decision = decisions.get((n, c.entity_id))
                    hits.append(HitRow(n, c.entity_id, c.score, c.match, {k: f["score"] for k, f in c.explanation["features"].items()}, now))
                results.append(PerpetratorResult(n, entity.caption, best))
            await repo.replace_hits(case.id, hits)
            await uow.audit.record(action="case.screened", now=now, actor_kind=actor_kind, actor_id=actor_id, case_id=case.id,
                                   detail={"perpetrators": len(perps), "candidates": len(hits), "matches": sum(h.match for h in hits),
                                           "source": "yente" if self.yente else "local"})
        log.info("case %s screened: %d candidates", case.reference, len(hits))
        return ScreeningReport(case.reference, results)

    async def _remote(self, perps: list[tuple[int, dict[str, Any], EntityProxy]]) -> dict[int, list[Candidate]]:
        assert self.yente is not None
        return await _yente(self.yente, perps)

    async def decide(self, reference: str, perpetrator: int, entity_id: str, decision: str, *, actor_id: str | None,
                     actor_kind: str = "staff", remote: str | None = None) -> None:
        """Confirm or dismiss one candidate of one perpetrator; remembered and audited."""
        if decision not in DECISIONS:
            raise ScreeningError(f"decision must be one of {', '.join(DECISIONS)}")
        async with self.app.store.write() as uow:
            case = await self._case(uow, reference)
            if perpetrator not in {n for n, _, _ in perpetrators(case)}:
                raise ScreeningError(f"case {reference} has no perpetrator {perpetrator}")
            await ScreeningRepository(uow.session).decide(case.id, perpetrator, entity_id, decision=decision, staff_id=actor_id, now=self.app.clock())
            await uow.audit.record(action=f"screening.{decision}", now=self.app.clock(), actor_kind=actor_kind, actor_id=actor_id,
                                   case_id=case.id, remote=remote, detail={"perpetrator": perpetrator, "entity_id": entity_id})

    async def stored(self, reference: str) -> ScreeningReport:
        """The last screening as stored (no rescoring): what the case page shows."""
        async with self.app.store.read() as uow:
            case = await self._case(uow, reference)
            repo = ScreeningRepository(uow.session)
            hits, decisions = await repo.hits(case.id), await repo.decisions(case.id)
            rows = {r.entity_id: r for r in await SanctionsRepository(uow.session).by_entity_ids({h.entity_id for h in hits})}
        results = []
        for n, _, entity in perpetrators(case):
            cands = []
            for h in (h for h in hits if h.perpetrator == n):
                row = rows.get(h.entity_id)
                feats = {k: {"score": s, "detail": None} for k, s in h.features.items()}
                cands.append(Candidate(h.entity_id, row.caption if row else h.entity_id, h.score, h.match,
                                       list(row.data.get("datasets") or []) if row else [], explain(feats),
                                       list(row.data.get("programs") or []) if row else [], decisions.get((n, h.entity_id))))
            results.append(PerpetratorResult(n, entity.caption, cands))
        return ScreeningReport(case.reference, results)


async def screen_case(app: App, reference: str, *, settings: CaseworkSettings | None = None) -> ScreeningReport:
    """Screen one case (on submit, when its answers change, or on demand)."""
    return await Screener(app, settings).screen(reference)


async def rescreen_all(app: App, *, settings: CaseworkSettings | None = None) -> int:
    """Screen every case under review again (after a list is loaded); returns how many."""
    screener = Screener(app, settings)
    async with app.store.read() as uow:
        ids = await ScreeningRepository(uow.session).screenable_cases(SCREENED)
    for case_id in ids:
        try:
            await screener.screen(case_id)
        except LookupError:  # content destroyed meanwhile
            continue
    return len(ids)
