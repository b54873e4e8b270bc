"""The review queue paged by the database: filters, the search index and the order in one query
with LIMIT/OFFSET, a COUNT(*) beside it, and only the page's cases decrypted (cases joined with
their data keys, one query). Also `reindex`: (re-)tokenise cases in batches."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, any_, bindparam, exists, func, literal, literal_column, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased
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
RARE = 2000  # a term held by at most this many index rows is "rare": its cases are gathered first


def _filtered(q: PageQuery, groups: Sequence[Sequence[str]], among: Any, cols: Any) -> Select[Any]:
    """The cases matching `q`'s column filters, holding one term of each group, and `among` (a
    condition: the ids gathered from a rare term) when given."""
    stmt = select(*cols).where(Case.shredded_at.is_(None))
    if among is not None:
        stmt = stmt.where(among)
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
    for tokens in groups:  # one probe of the (term, case_id) index per case walked
        stmt = stmt.where(_probe(select(literal(1)).where(CaseTerm.case_id == Case.id, CaseTerm.term.in_(list(tokens)))))
    return stmt


def _probe(stmt: Select[Any]) -> Any:
    """`stmt` (correlated) finds a row — written as a scalar subquery with LIMIT 1, which the
    planners evaluate per outer row (an index probe) instead of turning it into a join that reads
    every match (a semi-join, which PostgreSQL would plan from statistics a blind token lacks)."""
    return stmt.limit(1).scalar_subquery().is_not(None)


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
        "more" —, the decrypted cases of the window, in order).

        Term filters (each facet: any of its values; each search word) are "groups" of blind tokens.
        How a page is found depends on how common the rarest group is — the database's statistics
        cannot tell (tokens are opaque hashes), so the index is asked first, up to `RARE` rows:
        - a rare group: its cases (≤ RARE) are gathered and the page is sorted among them;
        - only common groups: the cases are walked in queue order and each is probed on the term
          index until the page is full (with a fraction f matching, about limit / f probes), and
          the total is counted from the rarest group's index rows, up to the bound.
        Either way the work depends on the page and the bound, not on how many cases there are."""
        groups: list[list[str]] = []
        if q.search.strip() or any(q.facets.values()):
            sk = await search_key(self.s, self.cases.keys)
            groups = [[sk.facet(name, v) for v in values] for name, values in q.facets.items() if values]
            words = sk.query(q.search)
            if q.search.strip() and not words:
                return 0, []
            groups += [[w] for w in words]
        bound = q.offset + max(COUNT_BOUND, 10 * q.limit)
        candidates: Any = None
        drive: list[str] | None = None
        if groups:
            sizes = await self._sizes(groups)
            groups = [g for _, g in sorted(zip(sizes, groups, strict=True), key=lambda pair: pair[0])]
            if min(sizes) == 0:
                return 0, []
            if min(sizes) <= RARE:
                rare = groups.pop(0)
                found = list((await self.s.scalars(select(CaseTerm.case_id).where(CaseTerm.term.in_(rare)).distinct())).all())
                candidates = self._among(found)
            else:
                drive = groups[0]
        if drive is None:
            window = _filtered(q, groups, candidates, [Case.id]).limit(bound + 1).subquery()
            total = int(await self.s.scalar(select(func.count()).select_from(window)) or 0)
        else:
            total = await self._count_driven(q, drive, groups[1:], bound)
        if total == 0:
            return 0, []
        ids = _filtered(q, groups, candidates, [Case.id]).order_by(*_order(q)).limit(q.limit).offset(q.offset).subquery()
        stmt = (
            select(Case, DataKeyRow.master_key_id, DataKeyRow.wrapped)
            .join(ids, ids.c.id == Case.id)
            .join(DataKeyRow, DataKeyRow.id == Case.data_key_id)
            .order_by(*_order(q))
        )
        return total, await self.records((await self.s.execute(stmt)).all())

    def _among(self, ids: list[str]) -> Any:
        """`Case.id` is one of `ids`, sent as ONE parameter — an array on PostgreSQL, a JSON list
        read by json_each on SQLite: an IN list of a thousand bound values costs more to build and
        send than the query takes to run."""
        if self.s.get_bind().dialect.name == "postgresql":
            return Case.id == any_(bindparam("among", ids, type_=postgresql.ARRAY(String), unique=True))
        listed: Select[Any] = select(literal_column("value")).select_from(func.json_each(bindparam("among", json.dumps(ids), unique=True)))
        return Case.id.in_(listed)

    async def _sizes(self, groups: Sequence[Sequence[str]]) -> list[int]:
        """Index rows of each group, each counted up to RARE + 1 (one statement)."""
        firsts = [select(func.count()).select_from(select(CaseTerm.case_id).where(CaseTerm.term.in_(list(g))).limit(RARE + 1).subquery())
                  .scalar_subquery() for g in groups]
        return [int(n or 0) for n in (await self.s.execute(select(*firsts))).one()]

    async def _count_driven(self, q: PageQuery, drive: Sequence[str], others: Sequence[Sequence[str]], bound: int) -> int:
        """Matching cases, up to bound + 1, walked from the rarest group's index rows (each case
        looked up by its key and checked against the rest of the filter), not from all cases."""
        term = aliased(CaseTerm)
        matches = _filtered(q, others, None, [literal(1)]).where(Case.id == term.case_id)
        # in case-id order, so the distinct ids stream from the (term, case_id) index and stop at the bound
        hits = (select(term.case_id).where(term.term.in_(list(drive)), _probe(matches)).distinct()
                .order_by(term.case_id).limit(bound + 1).subquery())
        return int(await self.s.scalar(select(func.count()).select_from(hits)) or 0)

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

    async def status_counts(self, statuses: Sequence[str], bound: int | None = None) -> dict[str, int]:
        """Cases per status, each counted up to `bound` + 1 on the status index (one statement):
        a count above `bound` means "more than `bound`". Exact counts walk every case of a status,
        so the queue page would grow with the cases (`SqlCases.count_by_status` is exact)."""
        if not statuses:
            return {}
        bound = COUNT_BOUND if bound is None else bound
        firsts = [select(func.count()).select_from(select(Case.id).where(Case.status == s).limit(bound + 1).subquery()).scalar_subquery()
                  for s in statuses]
        row = (await self.s.execute(select(*firsts))).one()
        return {s: int(n) for s, n in zip(statuses, row, strict=True) if n}

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
