"""The review queue: column filters in SQL, answer filters and full-text search over the in-memory
index (review.search), one page of items. Drafts are for admins only; reviewers' counts leave
them out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from intake import lifecycle
from review.base import ServiceBase, refusals_audited
from review.caseview import ago
from review.model import OPEN, QUEUE_STATUSES, AccessRefused, Actor, QueueFilter, QueueItem, QueuePage, ReviewError
from review.search import terms
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
        """One page of the queue: column filters in SQL, answer filters and search in memory.
        Asking for drafts is refused unless the actor is an admin."""
        flt = flt or QueueFilter()
        for status in flt.statuses:
            if status not in lifecycle.STATUSES:
                raise ReviewError(f"unknown status '{status}'")
        if lifecycle.DRAFT in flt.statuses and not (actor is not None and actor.is_admin):
            raise AccessRefused("Drafts belong to their submitters until they submit them; only admins see drafts.", action="queue.drafts")
        if flt.assigned == "me" and actor is None:
            raise ReviewError("'assigned to me' needs a staff member")
        page, per_page = max(1, flt.page), min(max(1, flt.per_page), 500)
        needles = terms(flt.search)
        country = flt.country.strip().upper() if flt.country else None
        async with self.store.read() as uow:
            queries = ReviewQueries(uow.session)
            stubs = await queries.case_stubs(
                statuses=flt.statuses or QUEUE_STATUSES,
                channels=flt.channels or None,
                assigned_to=actor.staff_id if flt.assigned == "me" and actor else None,
                unassigned=flt.assigned == "unassigned",
                has_attachments=flt.has_attachments,
                newest_first=flt.newest_first,
            )
            await self.index.refresh(uow)
            matched = []
            for stub in stubs:
                entry = self.index.entries.get(stub.id)
                if entry is None:
                    continue  # content destroyed
                if flt.abuse_forms and not set(flt.abuse_forms) & set(entry.abuse_forms):
                    continue
                if country and country not in entry.countries:
                    continue
                if flt.minors and entry.minors != flt.minors:
                    continue
                if flt.ongoing and entry.ongoing != flt.ongoing:
                    continue
                if flt.consent and entry.consent != flt.consent:
                    continue
                if needles and not entry.matches(needles):
                    continue
                matched.append(stub)
            activity = await queries.activity([m.id for m in matched])
            if flt.order == "needs":
                matched.sort(key=lambda stub: self._need(self.index.entries[stub.id].danger, activity.get(stub.id)))
            elif flt.order == "ready":  # closest to a designation package first (the casework checklist's score)
                matched.sort(key=lambda stub: -self.index.entries[stub.id].readiness)
            window = matched[(page - 1) * per_page : page * per_page]
            records = []
            for stub in window:
                try:
                    records.append(await uow.cases.get(stub.id))
                except LookupError:  # destroyed or deleted since the index looked
                    continue
            n_files = await queries.attachment_counts([r.id for r in records])
            emails = {s.id: s.email for s in await uow.staff.list()}
            counts = await uow.cases.count_by_status()
        if actor is not None and not actor.is_admin:
            counts.pop(lifecycle.DRAFT, None)
        now = self.clock()
        items = []
        for case in records:
            entry = self.index.entries[case.id]
            act = activity.get(case.id)
            items.append(
                QueueItem(
                    reference=case.reference, status=case.status, channel=case.channel, created_at=case.created_at.isoformat(),
                    submitted_at=case.submitted_at.isoformat() if case.submitted_at else None,
                    assigned_to=emails.get(case.assigned_to or "", case.assigned_to), title=entry.title,
                    abuse_forms=self._labels("abuse_forms", entry.abuse_forms), countries=entry.countries,
                    minors=entry.minors, ongoing=entry.ongoing, attachments=n_files.get(case.id, 0), danger=entry.danger,
                    new_reply=bool(act and act.new_reply and case.status in OPEN), lang=case.lang,
                    age=ago(now - act.since) if act else "", last_activity=ago(now - act.last_activity) if act else "",
                    last_activity_at=act.last_activity.isoformat() if act else "",
                )
            )
        return QueuePage(items, len(matched), page, per_page, counts)

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

    @staticmethod
    def _need(danger: bool | None, act: Activity | None) -> tuple[int, int, datetime]:
        """The "needs a person first" order: danger first, then a new reply, then the longest
        waiting (since the reply, else since submission)."""
        if act is None:
            return (int(not danger), 1, datetime.max.replace(tzinfo=UTC))
        waiting = act.last_in if act.new_reply and act.last_in else act.since
        return (int(not danger), int(not act.new_reply), waiting)
