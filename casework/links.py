"""The same perpetrator across cases: the screening matcher applied between cases.

Each case's perpetrators are filed in a blind index (keyed hashes of their blocking keys);
`link_case` finds the perpetrators of other cases that share keys, decrypts only those cases,
scores the pairs and stores the links. Staff confirm or dismiss a link (audited); confirmed links
gather a perpetrator's cases into one view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from casework.matching import blocking_keys, compare
from casework.screening import SCREENED, ScreeningError, perpetrators
from casework.settings import CaseworkSettings
from intake.app import App
from storage.casework import LinkRepository, ScreeningRepository
from storage.repositories import CaseRecord, UnitOfWork

LINK_STATUSES = ("confirmed", "dismissed", "suggested")


@dataclass
class Link:
    perpetrator: int
    other_reference: str
    other_perpetrator: int
    score: float
    match: bool
    status: str = "suggested"

    def to_dict(self) -> dict[str, Any]:
        return {"perpetrator": self.perpetrator, "other_reference": self.other_reference, "other_perpetrator": self.other_perpetrator,
                "score": self.score, "match": self.match}


@dataclass
class LinksReport:
    reference: str
    links: list[Link]

    def to_dict(self) -> dict[str, Any]:
        """The shape `intake review links REF --json` prints."""
        return {"reference": self.reference, "links": [link.to_dict() for link in self.links]}


class Linker:
    def __init__(self, app: App, settings: CaseworkSettings | None = None) -> None:
        self.app = app
        self.settings = settings or CaseworkSettings(_env_file=None)  # type: ignore[call-arg]

    def _repo(self, uow: UnitOfWork) -> LinkRepository:
        return LinkRepository(uow.session, self.app.store.keys)

    async def _case(self, uow: UnitOfWork, ref_or_id: str) -> CaseRecord:
        case = await uow.cases.by_reference(ref_or_id)
        if case is None:
            try:
                case = await uow.cases.get(ref_or_id)
            except LookupError:
                raise ScreeningError(f"no case {ref_or_id}") from None
        return case

    async def link_case(self, ref_or_id: str) -> LinksReport:
        """Index the case, score its perpetrators against those of other cases sharing blocking
        keys, store the links (staff decisions kept) and return them, best first."""
        now = self.app.clock()
        async with self.app.store.write() as uow:
            repo = self._repo(uow)
            case = await self._case(uow, ref_or_id)
            perps = perpetrators(case)
            await repo.replace_keys(case.id, {n: blocking_keys(e) for n, _, e in perps})
            others: dict[str, CaseRecord | None] = {}
            for n, _, entity in perps:
                for other_id, other_n in await repo.candidates(case.id, blocking_keys(entity)):
                    if other_id not in others:
                        try:
                            others[other_id] = await uow.cases.get(other_id)
                        except LookupError:  # content destroyed
                            others[other_id] = None
                    other = others[other_id]
                    if other is None:
                        continue
                    match = next((e for m, _, e in perpetrators(other) if m == other_n), None)
                    if match is None:
                        continue
                    verdict = compare(entity, match, self.settings.match_threshold)
                    if verdict.score > 0:
                        await repo.upsert((case.id, n), (other_id, other_n), score=verdict.score, match=verdict.match, now=now)
        return await self.links(case.reference)

    async def links(self, reference: str) -> LinksReport:
        """The stored links of a case (no rescoring), best first."""
        async with self.app.store.read() as uow:
            case = await self._case(uow, reference)
            rows = await self._repo(uow).for_case(case.id)
            refs = {r.other_case_id: await self._reference(uow, r.other_case_id) for r in rows}
        return LinksReport(case.reference, [Link(r.perpetrator, refs[r.other_case_id], r.other_perpetrator, r.score, r.match, r.status) for r in rows])

    @staticmethod
    async def _reference(uow: UnitOfWork, case_id: str) -> str:
        try:
            return (await uow.cases.get(case_id)).reference
        except LookupError:
            return "(destroyed)"

    async def decide(self, reference: str, perpetrator: int, other_reference: str, other_perpetrator: int, status: str, *,
                     actor_id: str | None, actor_kind: str = "staff", remote: str | None = None) -> None:
        """Confirm or dismiss a link between two perpetrators; audited on both cases."""
        if status not in LINK_STATUSES:
            raise ScreeningError(f"status must be one of {', '.join(LINK_STATUSES)}")
        now = self.app.clock()
        async with self.app.store.write() as uow:
            a, b = await self._case(uow, reference), await self._case(uow, other_reference)
            if not await self._repo(uow).decide((a.id, perpetrator), (b.id, other_perpetrator), status=status, staff_id=actor_id, now=now):
                raise ScreeningError("no such link: run the link search first")
            for case, mine, theirs, other in ((a, perpetrator, other_perpetrator, b), (b, other_perpetrator, perpetrator, a)):
                await uow.audit.record(action=f"link.{status}", now=now, actor_kind=actor_kind, actor_id=actor_id, case_id=case.id, remote=remote,
                                       detail={"perpetrator": mine, "other_case": other.id, "other_perpetrator": theirs})

    async def perpetrator_view(self, reference: str, perpetrator: int) -> list[dict[str, Any]]:
        """Every (case, perpetrator) joined to this one by confirmed links, this one first:
        the corroboration across cases. Each item: reference, perpetrator, name, status."""
        async with self.app.store.read() as uow:
            start = await self._case(uow, reference)
            seen: dict[tuple[str, int], CaseRecord] = {(start.id, perpetrator): start}
            todo = [(start.id, perpetrator)]
            while todo:
                case_id, n = todo.pop()
                for row in await self._repo(uow).for_case(case_id):
                    key = (row.other_case_id, row.other_perpetrator)
                    if row.perpetrator == n and row.status == "confirmed" and key not in seen:
                        try:
                            seen[key] = await uow.cases.get(row.other_case_id)
                        except LookupError:
                            continue
                        todo.append(key)
        out = []
        for (_, n), case in seen.items():
            name = next((e.caption for m, _, e in perpetrators(case) if m == n), "")
            out.append({"reference": case.reference, "perpetrator": n, "name": name, "status": case.status})
        return out


async def link_all(app: App, *, settings: CaseworkSettings | None = None) -> int:
    """Index and link every case under review (e.g. after an upgrade); returns how many."""
    linker = Linker(app, settings)
    async with app.store.read() as uow:
        ids = await ScreeningRepository(uow.session).screenable_cases(SCREENED)
    for case_id in ids:
        await linker.link_case(case_id)
    return len(ids)

