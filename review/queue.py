"""The review queue: one page of items, paged by the database — column filters, facet filters and
the blind search index (storage.search_index) in SQL, only the page decrypted. Drafts are for
admins only; reviewers' counts leave them out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from intake import lifecycle
from intake.searchdoc import facets
from intake.triage import triage_facts
from review.base import ServiceBase, refusals_audited
from review.caseview import ago
from review.model import OPEN, QUEUE_STATUSES, AccessRefused, Actor, QueueFilter, QueueItem, QueuePage, ReviewError
from storage.queue_pages import COUNT_BOUND, PageQuery, QueuePages
from storage.repositories import CaseRecord
from storage.review import Activity, ReviewQueries


class QueueReading(ServiceBase):
    """Queue pages, counts and the options the filter form offers."""

    def _labels(self, question_id: str, values: list[str]) -> list[str]:
        question = self.q.questions().get(question_id)
        if question is None:
            return values
        return [(o.text.get("en") if (o := question.option(v)) else v) for v in values]

    def options(self, question_id: str) -> list[tuple[str, str]]:
        """(id, English text) of a choice question's options, for filter forms."""
        question = self.q.questions().get(question_id)
        return [(o.id, o.text.get("en")) for o in question.options] if question else []

    async def counts(self, actor: Actor | None = None) -> dict[str, int]:
        """Cases per status; drafts only for admins (the unnamed CLI operator included)."""
        async with self.store.read() as uow:
            counts = await uow.cases.count_by_status()
        return counts if actor is None or actor.is_admin else {k: v for k, v in counts.items() if k != lifecycle.DRAFT}

    @refusals_audited
    async def queue(self, flt: QueueFilter | None = None, *, actor: Actor | None = None) -> QueuePage:
        """One page of the queue, paged by the database (storage.queue_pages): column filters, facet
        filters and the search index in one query; only the page's cases are decrypted. Asking for
        drafts is refused unless the actor is an admin."""
        flt = flt or QueueFilter()
        for status in flt.statuses:
            if status not in lifecycle.STATUSES:
                raise ReviewError(f"unknown status '{status}'")
        if lifecycle.DRAFT in flt.statuses and not (actor is not None and actor.is_admin):
            raise AccessRefused("Drafts belong to their submitters until they submit them; only admins see drafts.", action="queue.drafts")
        if flt.assigned == "me" and actor is None:
            raise ReviewError("'assigned to me' needs a staff member")
        page, per_page = max(1, flt.page), min(max(1, flt.per_page), 500)
        country = flt.country.strip().upper() if flt.country else None
        query = PageQuery(
            statuses=flt.statuses, exclude_statuses=() if flt.statuses else [s for s in lifecycle.STATUSES if s not in QUEUE_STATUSES],
            channels=flt.channels,
            assigned_to=actor.staff_id if flt.assigned == "me" and actor else None, unassigned=flt.assigned == "unassigned",
            has_attachments=flt.has_attachments, consent=flt.consent, search=flt.search, order=flt.order, newest_first=flt.newest_first,
            facets={"abuse_forms": list(flt.abuse_forms), "countries": [country] if country else [],
                    "minors": [flt.minors] if flt.minors else [], "ongoing": [flt.ongoing] if flt.ongoing else []},
            limit=per_page, offset=(page - 1) * per_page,
        )
        async with self.store.read() as uow:
            pages = QueuePages(uow)
            total, records = await pages.page(query)
            queries = ReviewQueries(uow.session)
            activity = await queries.activity([r.id for r in records])
            n_files = await queries.attachment_counts([r.id for r in records])
            emails = {s.id: s.email for s in await uow.staff.list()}
            shown = [s for s in lifecycle.STATUSES if s != lifecycle.DRAFT or actor is None or actor.is_admin]
            counts = await pages.status_counts(shown)
        bound = query.offset + max(COUNT_BOUND, 10 * per_page)
        return QueuePage([self._item(case, activity.get(case.id), n_files.get(case.id, 0), emails) for case in records],
                         min(total, bound), page, per_page, counts, more=total > bound, counts_bound=COUNT_BOUND)

    def _item(self, case: CaseRecord, act: Activity | None, attachments: int, emails: dict[str, str]) -> QueueItem:
        """One queue line from a decrypted case (facets from its answers, activity from the thread's dates)."""
        answers = case.draft.get("answers") or {}
        f = facets(answers)
        now = self.clock()
        return QueueItem(
            reference=case.reference, status=case.status, channel=case.channel, created_at=case.created_at.isoformat(),
            submitted_at=case.submitted_at.isoformat() if case.submitted_at else None,
            assigned_to=emails.get(case.assigned_to or "", case.assigned_to), title=f["title"],
            abuse_forms=self._labels("abuse_forms", f["abuse_forms"]), countries=f["countries"],
            minors=f["minors"], ongoing=f["ongoing"], attachments=attachments, danger=triage_facts(self.q, answers).danger,
            new_reply=bool(act and act.new_reply and case.status in OPEN), lang=case.lang,
            age=ago(now - act.since) if act else "", last_activity=ago(now - act.last_activity) if act else "",
            last_activity_at=act.last_activity.isoformat() if act else "",
        )

    @refusals_audited
    async def stalled(self, actor: Actor, *, idle: timedelta = timedelta(hours=24)) -> list[dict[str, Any]]:
        """Admins only: drafts idle for longer than `idle`, oldest first, with their channel,
        language, age, last activity and how many questions were answered (0: a first contact
        that never began, e.g. an email that got a form in a language the sender does not read).
        Reading them is audited (ids only)."""
        if not actor.is_admin:
            raise AccessRefused("Only admins see stalled drafts.", action="queue.stalled")
        now = self.clock()
        out = []
        async with self.store.write() as uow:
            queries = ReviewQueries(uow.session)
            stubs = await queries.case_stubs(statuses=[lifecycle.DRAFT], newest_first=False)
            activity = await queries.activity([s.id for s in stubs])
            for stub in stubs:
                act = activity.get(stub.id)
                if act is None or now - act.last_activity < idle:
                    continue
                try:
                    case = await uow.cases.get(stub.id)
                except LookupError:
                    continue
                answered = len([k for k in (case.draft.get("answers") or {}) if not k.startswith("_")])
                out.append({"reference": case.reference, "channel": case.channel, "lang": case.lang, "age": ago(now - act.since),
                            "last_activity": ago(now - act.last_activity), "answered": answered,
                            "stage": "first contact" if answered == 0 else "draft"})
            await uow.audit.record(action="queue.stalled_viewed", now=now, actor_kind=actor.kind, actor_id=actor.staff_id,
                                   detail={"count": len(out)}, remote=actor.remote)
        return out
