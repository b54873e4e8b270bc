"""The review queue paged by the database: filters, the search index and the order in one query
with LIMIT/OFFSET, a COUNT(*) beside it, and only the page's cases decrypted (cases joined with
their data keys, one query). Also `reindex`: (re-)tokenise cases in batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.sql import Select

from storage.casefiles import SqlCases
from storage.crypto import DataKey
from storage.models import Attachment, Case, CaseTerm, DataKeyRow
from storage.records import CaseRecord
from storage.repositories import UnitOfWork
from storage.search_index import NOT_INDEXED, SEARCH_KEY_ID, index_case, search_key


@dataclass
class PageQuery:
    """What the queue asks: column filters, facet filters (values, any of), consent, a text search
    (every word), the order ("" queue time, "needs", "ready"), and the window."""

    statuses: Sequence[str] = ()
    exclude_statuses: Sequence[str] = ()  # e.g. ("draft",): the whole queue, walked on the queue-time index
    channels: Sequence[str] = ()
    assigned_to: str | None = None
    unassigned: bool = False
    has_attachments: bool | None = None
    facets: dict[str, list[str]] = field(default_factory=dict)
    consent: str | None = None
    search: str = ""
    order: str = ""
    newest_first: bool = True
    limit: int = 50
    offset: int = 0


COUNT_BOUND = 1000  # a page's total is exact up to this many matches (or ten pages ahead), "N+" beyond


def _filtered(q: PageQuery, facet_tokens: dict[str, list[str]], query_tokens: list[str], cols: Any) -> Select[Any]:
    stmt = select(*cols).where(Case.shredded_at.is_(None))
    if q.statuses:
        stmt = stmt.where(Case.status.in_(list(q.statuses)))
    for status in q.exclude_statuses:
        stmt = stmt.where(Case.status != status)
    if q.channels:
        stmt = stmt.where(Case.channel.in_(list(q.channels)))
    if q.assigned_to is not None:
        stmt = stmt.where(Case.assigned_to == q.assigned_to)
    if q.unassigned:
        stmt = stmt.where(Case.assigned_to.is_(None))
    if q.has_attachments is not None:
        has = exists().where(Attachment.case_id == Case.id)
        stmt = stmt.where(has if q.has_attachments else ~has)
    if q.consent:
        stmt = stmt.where(Case.consent == q.consent)
    for tokens in facet_tokens.values():  # each facet: any of its values, looked up on the term index
        stmt = stmt.where(Case.id.in_(select(CaseTerm.case_id).where(CaseTerm.term.in_(tokens))))
    if query_tokens:  # every word, anywhere in the case or its thread: one grouped lookup on the term index
        hits = (
            select(CaseTerm.case_id).where(CaseTerm.term.in_(query_tokens)).group_by(CaseTerm.case_id)
            .having(func.count(func.distinct(CaseTerm.term)) == len(query_tokens))
        )
        stmt = stmt.where(Case.id.in_(hits))
    return stmt


def _order(q: PageQuery) -> list[Any]:
    queued = Case.queued_at.desc() if q.newest_first else Case.queued_at.asc()
    if q.order == "needs":  # danger first, then a new reply, then the longest waiting (kept by storage.search_index)
        return [Case.need_rank.asc(), Case.waiting_at.asc(), Case.id]
    if q.order == "ready":
        return [Case.readiness.desc(), queued, Case.id]
    return [queued, Case.id]


class QueuePages:
    """Queue pages over one unit of work (its session, keys and per-transaction key cache)."""

    def __init__(self, uow: UnitOfWork) -> None:
        cases = uow.cases
        assert isinstance(cases, SqlCases)
        self.cases = cases
        self.s = uow.session

    async def page(self, q: PageQuery) -> tuple[int, list[CaseRecord]]:
        """(how many cases match — exact up to the bound, else the bound + 1: `total > bound` means
        "more" —, the decrypted cases of the window, in order)."""
        facet_tokens: dict[str, list[str]] = {}
        query_tokens: list[str] = []
        if q.search.strip() or any(q.facets.values()):
            sk = await search_key(self.s, self.cases.keys)
            facet_tokens = {name: [sk.facet(name, v) for v in values] for name, values in q.facets.items() if values}
            query_tokens = sk.query(q.search)
            if q.search.strip() and not query_tokens:
                return 0, []
        # the total is counted up to a bound (ten pages past this one, at least COUNT_BOUND): an exact
        # count walks every match, so a page would grow with the cases; past the bound "N+" is shown
        bound = q.offset + max(COUNT_BOUND, 10 * q.limit)
        window = _filtered(q, facet_tokens, query_tokens, [Case.id]).limit(bound + 1).subquery()
        total = int(await self.s.scalar(select(func.count()).select_from(window)) or 0)
        if total == 0:
            return 0, []
        ids = _filtered(q, facet_tokens, query_tokens, [Case.id]).order_by(*_order(q)).limit(q.limit).offset(q.offset).subquery()
        stmt = (
            select(Case, DataKeyRow.master_key_id, DataKeyRow.wrapped)
            .join(ids, ids.c.id == Case.id)
            .join(DataKeyRow, DataKeyRow.id == Case.data_key_id)
            .order_by(*_order(q))
        )
        return total, await self.records((await self.s.execute(stmt)).all())

    async def records(self, rows: Sequence[Any]) -> list[CaseRecord]:
        """Decrypt joined (case, master key id, wrapped key) rows; cases whose key is gone are left out."""
        out = []
        for row, master_id, wrapped in rows:
            if wrapped is None or master_id is None:
                continue
            if row.data_key_id not in self.cases._dk:
                self.cases._dk[row.data_key_id] = DataKey(row.data_key_id, self.cases.keys.master.unwrap(master_id, wrapped, row.data_key_id))
            out.append(await self.cases._record(row))
        return out

    async def status_counts(self) -> dict[str, int]:
        """Cases per status (COUNT(*) grouped on the status index)."""
        return await self.cases.count_by_status()

    async def reindex_batch(self, *, after: str, limit: int, now: datetime, force: bool = False) -> tuple[int, str | None]:
        """(Re-)tokenise up to `limit` cases with ids after `after` (keyset over the primary key):
        those not in the index under the current search key, or all with `force`. Returns (how many
        were indexed, the last id seen — None when there are no more)."""
        stmt = (
            select(Case, DataKeyRow.master_key_id, DataKeyRow.wrapped)
            .join(DataKeyRow, DataKeyRow.id == Case.data_key_id)
            .where(Case.id > after, Case.status.not_in(list(NOT_INDEXED)), Case.shredded_at.is_(None))
            .order_by(Case.id).limit(limit)
        )
        if not force:
            stmt = stmt.where(or_(Case.search_key.is_(None), Case.search_key != SEARCH_KEY_ID))
        rows = (await self.s.execute(stmt)).all()
        if not rows:
            return 0, None
        key_of = {r[0].id: r[0].data_key_id for r in rows}
        records = await self.records(rows)
        for record in records:
            key = self.cases._dk[key_of[record.id]]
            await index_case(self.s, self.cases.keys, record, key, self.cases.documents, indexed_with=None)
        return len(records), rows[-1][0].id
