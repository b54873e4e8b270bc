"""Repositories of the casework package (tables in `storage.models_casework`). Bound to one
transaction through `UnitOfWork.session`; none commits.

`SanctionsRepository` holds imported lists and their blocking index (public data, in clear);
`ScreeningRepository` the screening hits and staff decisions of cases; `LinkRepository` the
cross-case index (keyed hashes only) and the links staff confirm."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.keys import KeyStore
from storage.models import Case, new_id
from storage.models_casework import (
    CaseLink,
    PerpetratorKey,
    SanctionsDataset,
    SanctionsEntity,
    SanctionsKey,
    ScreeningDecision,
    ScreeningHit,
)


@dataclass
class ListEntity:
    """An imported list entity: its dataset, FtM id, schema, caption and data (properties…)."""

    dataset: str
    entity_id: str
    schema: str
    caption: str
    data: dict[str, Any]


@dataclass
class LoadBatchItem:
    entity_id: str
    schema: str
    caption: str
    data: dict[str, Any]
    keys: set[str]


class SanctionsRepository:
    """Imported sanctions lists and the blocking index over them."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def start_load(self, name: str, *, source: str, now: datetime, by: str | None) -> None:
        """Empty the dataset `name` (creating it if new): a reload replaces it whole."""
        rows = select(SanctionsEntity.id).where(SanctionsEntity.dataset == name).scalar_subquery()
        await self.s.execute(delete(SanctionsKey).where(SanctionsKey.entity_row.in_(rows)))
        await self.s.execute(delete(SanctionsEntity).where(SanctionsEntity.dataset == name))
        row = await self.s.get(SanctionsDataset, name)
        if row is None:
            self.s.add(SanctionsDataset(name=name, source=source, entities=0, loaded_at=now, loaded_by=by))
        else:
            row.source, row.entities, row.loaded_at, row.loaded_by = source, 0, now, by
        await self.s.flush()

    async def add_batch(self, name: str, items: Sequence[LoadBatchItem]) -> None:
        """Insert entities and their blocking keys (core inserts: nothing kept in the session)."""
        if not items:
            return
        ids = [new_id() for _ in items]
        await self.s.execute(insert(SanctionsEntity), [
            {"id": i, "dataset": name, "entity_id": it.entity_id[:255], "schema": it.schema, "caption": it.caption, "data": it.data}
            for i, it in zip(ids, items, strict=True)
        ])
        keys = [{"key": k, "entity_row": i} for i, it in zip(ids, items, strict=True) for k in it.keys]
        if keys:
            await self.s.execute(insert(SanctionsKey), keys)

    async def finish_load(self, name: str, *, count: int) -> None:
        await self.s.execute(update(SanctionsDataset).where(SanctionsDataset.name == name).values(entities=count))

    async def datasets(self) -> list[dict[str, Any]]:
        rows = (await self.s.scalars(select(SanctionsDataset).order_by(SanctionsDataset.name))).all()
        return [{"name": r.name, "source": r.source, "entities": r.entities, "loaded_at": r.loaded_at.isoformat()} for r in rows]

    async def candidates(self, keys: Iterable[str], *, limit: int = 50) -> list[ListEntity]:
        """Entities sharing the most blocking keys with the query, best first."""
        keys = list(set(keys))
        if not keys:
            return []
        shared = func.count(SanctionsKey.id).label("shared")
        top = (
            select(SanctionsKey.entity_row, shared).where(SanctionsKey.key.in_(keys))
            .group_by(SanctionsKey.entity_row).order_by(shared.desc(), SanctionsKey.entity_row).limit(limit)
        ).subquery()
        rows = (await self.s.execute(
            select(SanctionsEntity).join(top, top.c.entity_row == SanctionsEntity.id).order_by(top.c.shared.desc(), SanctionsEntity.id)
        )).scalars().all()
        return [ListEntity(r.dataset, r.entity_id, r.schema, r.caption, r.data) for r in rows]

    async def by_entity_ids(self, entity_ids: Iterable[str]) -> list[ListEntity]:
        rows = (await self.s.scalars(select(SanctionsEntity).where(SanctionsEntity.entity_id.in_(list(entity_ids))))).all()
        return [ListEntity(r.dataset, r.entity_id, r.schema, r.caption, r.data) for r in rows]


@dataclass
class HitRow:
    perpetrator: int
    entity_id: str
    score: float
    match: bool
    features: dict[str, Any]
    screened_at: datetime


class ScreeningRepository:
    """Screening results of cases and the staff decisions on them."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def replace_hits(self, case_id: str, hits: Sequence[HitRow]) -> None:
        await self.s.execute(delete(ScreeningHit).where(ScreeningHit.case_id == case_id))
        if hits:
            await self.s.execute(insert(ScreeningHit), [
                {"id": new_id(), "case_id": case_id, "perpetrator": h.perpetrator, "entity_id": h.entity_id, "score": h.score,
                 "match": h.match, "features": h.features, "screened_at": h.screened_at} for h in hits
            ])

    async def hits(self, case_id: str) -> list[HitRow]:
        rows = (await self.s.scalars(
            select(ScreeningHit).where(ScreeningHit.case_id == case_id).order_by(ScreeningHit.perpetrator, ScreeningHit.score.desc())
        )).all()
        return [HitRow(r.perpetrator, r.entity_id, r.score, r.match, r.features, r.screened_at) for r in rows]

    async def decide(self, case_id: str, perpetrator: int, entity_id: str, *, decision: str, staff_id: str | None, now: datetime) -> None:
        """Record (or change) a decision on one candidate of one perpetrator."""
        row = (await self.s.scalars(select(ScreeningDecision).where(
            ScreeningDecision.case_id == case_id, ScreeningDecision.perpetrator == perpetrator, ScreeningDecision.entity_id == entity_id
        ).with_for_update())).one_or_none()
        if row is None:
            self.s.add(ScreeningDecision(case_id=case_id, perpetrator=perpetrator, entity_id=entity_id, decision=decision,
                                         staff_id=staff_id, decided_at=now))
        else:
            row.decision, row.staff_id, row.decided_at = decision, staff_id, now
        await self.s.flush()

    async def decisions(self, case_id: str) -> dict[tuple[int, str], str]:
        rows = (await self.s.scalars(select(ScreeningDecision).where(ScreeningDecision.case_id == case_id))).all()
        return {(r.perpetrator, r.entity_id): r.decision for r in rows}

    async def screenable_cases(self, statuses: Sequence[str]) -> list[str]:
        """Ids of the cases in these statuses (oldest first)."""
        return list((await self.s.scalars(select(Case.id).where(Case.status.in_(list(statuses))).order_by(Case.created_at, Case.id))).all())


@dataclass
class LinkRow:
    case_id: str
    perpetrator: int
    other_case_id: str
    other_perpetrator: int
    score: float
    match: bool
    status: str


class LinkRepository:
    """The cross-case index (keyed hashes of blocking keys) and the links between perpetrators."""

    def __init__(self, session: AsyncSession, keys: KeyStore) -> None:
        self.s = session
        self.keys = keys

    async def _hash(self, values: Iterable[str]) -> list[str]:
        index = await self.keys.blind_index(self.s)
        return sorted({index("perp-key", v) for v in values})

    async def replace_keys(self, case_id: str, keys: dict[int, set[str]]) -> None:
        """Index the case's perpetrators: keyed hashes of their blocking keys, 1-based numbers."""
        await self.s.execute(delete(PerpetratorKey).where(PerpetratorKey.case_id == case_id))
        rows = [{"case_id": case_id, "perpetrator": n, "key_index": h} for n, ks in keys.items() for h in await self._hash(ks)]
        if rows:
            await self.s.execute(insert(PerpetratorKey), rows)

    async def candidates(self, case_id: str, keys: set[str], *, limit: int = 50) -> list[tuple[str, int]]:
        """(case id, perpetrator) of other cases sharing the most blocking keys, best first."""
        hashed = await self._hash(keys)
        if not hashed:
            return []
        shared = func.count(PerpetratorKey.id).label("shared")
        rows = (await self.s.execute(
            select(PerpetratorKey.case_id, PerpetratorKey.perpetrator, shared)
            .where(PerpetratorKey.key_index.in_(hashed), PerpetratorKey.case_id != case_id)
            .group_by(PerpetratorKey.case_id, PerpetratorKey.perpetrator)
            .order_by(shared.desc(), PerpetratorKey.case_id, PerpetratorKey.perpetrator).limit(limit)
        )).all()
        return [(r[0], int(r[1])) for r in rows]

    @staticmethod
    def _pair(a: tuple[str, int], b: tuple[str, int]) -> tuple[tuple[str, int], tuple[str, int], bool]:
        return (a, b, False) if a <= b else (b, a, True)

    async def upsert(self, a: tuple[str, int], b: tuple[str, int], *, score: float, match: bool, now: datetime) -> None:
        """Store the matcher's score for a pair; a staff decision on it is kept."""
        (ca, pa), (cb, pb), _ = self._pair(a, b)
        row = (await self.s.scalars(select(CaseLink).where(
            CaseLink.case_a == ca, CaseLink.perpetrator_a == pa, CaseLink.case_b == cb, CaseLink.perpetrator_b == pb
        ))).one_or_none()
        if row is None:
            self.s.add(CaseLink(case_a=ca, perpetrator_a=pa, case_b=cb, perpetrator_b=pb, score=score, match=match, status="suggested", scored_at=now))
        else:
            row.score, row.match, row.scored_at = score, match, now
        await self.s.flush()

    async def decide(self, a: tuple[str, int], b: tuple[str, int], *, status: str, staff_id: str | None, now: datetime) -> bool:
        (ca, pa), (cb, pb), _ = self._pair(a, b)
        result = await self.s.execute(update(CaseLink).where(
            CaseLink.case_a == ca, CaseLink.perpetrator_a == pa, CaseLink.case_b == cb, CaseLink.perpetrator_b == pb
        ).values(status=status, decided_by=staff_id, decided_at=now))
        return bool(getattr(result, "rowcount", 0))

    async def for_case(self, case_id: str) -> list[LinkRow]:
        """Links of the case, seen from it (its perpetrator first), best score first."""
        rows = (await self.s.scalars(select(CaseLink).where(or_(CaseLink.case_a == case_id, CaseLink.case_b == case_id))
                                     .order_by(CaseLink.score.desc(), CaseLink.id))).all()
        out = []
        for r in rows:
            if r.case_a == case_id:
                out.append(LinkRow(case_id, r.perpetrator_a, r.case_b, r.perpetrator_b, r.score, r.match, r.status))
            if r.case_b == case_id and r.case_a != case_id:
                out.append(LinkRow(case_id, r.perpetrator_b, r.case_a, r.perpetrator_a, r.score, r.match, r.status))
        return out

    async def drop_case(self, case_id: str) -> None:
        """Forget a case's index keys and unconfirmed links (e.g. when its content is destroyed)."""
        await self.s.execute(delete(PerpetratorKey).where(PerpetratorKey.case_id == case_id))
        await self.s.execute(delete(CaseLink).where(or_(CaseLink.case_a == case_id, CaseLink.case_b == case_id), CaseLink.status != "confirmed"))
