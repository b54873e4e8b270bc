"""The staff side's core: the queue, one case read for review, and every staff action.

Channel-independent: it reads and writes through the storage repositories and reaches a
submitter only by writing an outbox row (in the same transaction as the case change). Each action
is one method that loads the case under a row lock, checks the lifecycle, changes it, and records
an audit event holding ids and outcomes only. Viewing a case, downloading a file and exporting are
audited too (who, when, from where).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from intake import engine, lifecycle
from intake.clock import Clock, utcnow
from intake.questionnaire import Questionnaire
from review.search import CaseIndex, terms
from storage.repositories import AttachmentRecord, CaseRecord, ConcurrentUpdate, NotFound, UnitOfWork
from storage.review import ReviewQueries
from storage.store import Store

log = logging.getLogger(__name__)

OPEN = [lifecycle.SUBMITTED, lifecycle.IN_REVIEW, lifecycle.NEEDS_INFO]
QUEUE_STATUSES = [s for s in lifecycle.STATUSES if s != lifecycle.DRAFT]
MAX_TEXT = 8000
ROLES = ("reviewer", "admin")

# "What staff triage first" (questionnaire.md): blocks of question ids shown above everything.
# Group ids are listed so that an instance header ("Alleged perpetrator 1") heads its lines.
TRIAGE: list[tuple[str, set[str]]] = [
    ("Abuse", {"abuse_forms", "violence_or_detention", "means_used", "ilo_indicators", "victims_minors"}),
    ("Perpetrators", {
        "perpetrators", "perp_kind", "perp_name", "perp_aliases", "perp_name_native", "perp_dob", "perp_nationality",
        "perp_id_docs", "id_doc_type", "id_doc_number", "id_doc_country", "perp_positions", "pos_title", "pos_employer",
        "pos_country", "perp_is_official", "perp_role", "perp_role_detail",
    }),
    ("When and where", {"abuse_dates", "abuse_ongoing", "abuse_locations", "loc_country", "loc_place", "loc_type", "victims_count", "victims_count_estimate"}),
    ("Evidence", {"evidence", "ev_type", "ev_origin", "ev_shareable", "corroboration", "exculpatory"}),
    ("Accountability and sanctions", {"domestic_proceedings", "existing_sanctions", "existing_sanctions_detail"}),
    ("Links to sanctioning jurisdictions", {"nexus_assets", "nexus_assets_detail", "nexus_travel", "nexus_business", "nexus_family", "nexus_diplomatic", "target_jurisdictions"}),
    ("Go / no-go: consent and risk", {"consent_status", "consent_limits", "immediate_danger", "risks", "risks_detail", "perp_aware"}),
]


class ReviewError(Exception):
    """A staff request that cannot be done; the message is safe to show to staff."""


class CaseNotFound(ReviewError):
    """No case (or no attachment / outbox / inbox row) with that reference."""


class ActionRefused(ReviewError):
    """The lifecycle (or the case's state) does not allow this action now."""


class Conflict(ReviewError):
    """Someone else changed the case first (a lost claim race, a stale version)."""


class Forbidden(ReviewError):
    """The staff member's role does not allow this."""


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where (an IP address, or `cli`)."""

    staff_id: str
    email: str
    role: str
    remote: str | None = None
    kind: str = "staff"  # audit actor_kind: staff, or cli for an unnamed operator at the terminal

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass
class QueueFilter:
    statuses: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    abuse_forms: list[str] = field(default_factory=list)
    country: str | None = None
    minors: str | None = None  # yes | no | unknown
    ongoing: str | None = None  # yes | no | unknown
    assigned: str | None = None  # me | unassigned | None
    has_attachments: bool | None = None
    search: str = ""
    newest_first: bool = True
    page: int = 1
    per_page: int = 50


@dataclass
class QueueItem:
    reference: str
    status: str
    channel: str
    created_at: str
    submitted_at: str | None
    assigned_to: str | None
    title: str | None
    abuse_forms: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    minors: str | None = None
    ongoing: str | None = None
    attachments: int = 0


@dataclass
class QueuePage:
    items: list[QueueItem]
    total: int
    page: int
    per_page: int
    counts: dict[str, int]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict[str, Any]:
        return {"items": [asdict(i) for i in self.items], "total": self.total, "page": self.page, "per_page": self.per_page,
                "pages": self.pages, "counts": self.counts}


@dataclass
class CaseView:
    reference: str
    status: str
    channel: str
    lang: str
    questionnaire: str
    created_at: str
    submitted_at: str | None
    assigned_to: str | None
    decision: str | None
    decision_reason: str | None
    answers: dict[str, Any]
    sections: list[dict[str, Any]]
    missing: list[str]
    triage: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    thread: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ActionResult:
    reference: str
    status: str
    assigned_to: str | None
    outbox_id: str | None = None


@dataclass
class FailedItems:
    inbox: list[dict[str, Any]]
    outbox: list[dict[str, Any]]


def _qid(path: str) -> str:
    """The question (or group) id a summary path ends with: `perpetrators.0.perp_name` → `perp_name`."""
    parts = [p for p in path.split(".") if not p.isdigit()]
    return parts[-1] if parts else path


def _clean_text(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ActionRefused(f"{what} is required")
    if len(text) > MAX_TEXT:
        raise ActionRefused(f"{what} is longer than {MAX_TEXT} characters")
    return text


class ReviewService:
    """Queue, case view and staff actions over the store (see the module docstring)."""

    def __init__(self, store: Store, questionnaire: Questionnaire, *, clock: Clock = utcnow, index: CaseIndex | None = None) -> None:
        self.store = store
        self.q = questionnaire
        self.clock = clock
        self.index = index or CaseIndex(questionnaire)

    # ---- reading -----------------------------------------------------------------------------

    def _labels(self, question_id: str, values: list[str]) -> list[str]:
        question = self.q.questions().get(question_id)
        if question is None:
            return values
        return [(o.text.get("en") if (o := question.option(v)) else v) for v in values]

    def options(self, question_id: str) -> list[tuple[str, str]]:
        """(id, English text) of a choice question's options, for filter forms."""
        question = self.q.questions().get(question_id)
        return [(o.id, o.text.get("en")) for o in question.options] if question else []

    async def counts(self) -> dict[str, int]:
        async with self.store.read() as uow:
            return await uow.cases.count_by_status()

    async def queue(self, flt: QueueFilter | None = None, *, actor: Actor | None = None) -> QueuePage:
        """One page of the queue: column filters in SQL, answer filters and search in memory."""
        flt = flt or QueueFilter()
        for status in flt.statuses:
            if status not in lifecycle.STATUSES:
                raise ReviewError(f"unknown status '{status}'")
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
                if needles and not entry.matches(needles):
                    continue
                matched.append(stub)
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
        items = []
        for case in records:
            entry = self.index.entries[case.id]
            items.append(
                QueueItem(
                    reference=case.reference, status=case.status, channel=case.channel, created_at=case.created_at.isoformat(),
                    submitted_at=case.submitted_at.isoformat() if case.submitted_at else None,
                    assigned_to=emails.get(case.assigned_to or "", case.assigned_to), title=entry.title,
                    abuse_forms=self._labels("abuse_forms", entry.abuse_forms), countries=entry.countries,
                    minors=entry.minors, ongoing=entry.ongoing, attachments=n_files.get(case.id, 0),
                )
            )
        return QueuePage(items, len(matched), page, per_page, counts)

    async def show(self, reference: str, actor: Actor) -> CaseView:
        """One case for review: triage first, answers by section, files, thread, notes, audit.
        The view itself is recorded in the audit before anything is returned."""
        async with self.store.write() as uow:
            case = await self._load(uow, reference)
            await uow.audit.record(action="case.viewed", now=self.clock(), actor_kind=actor.kind, actor_id=actor.staff_id, case_id=case.id, remote=actor.remote)
            attachments = await uow.attachments.for_case(case.id)
            messages = await uow.messages.for_case(case.id)
            audit = await uow.audit.for_case(case.id)
            statuses = await ReviewQueries(uow.session).outbox_status_for([m.outbox_id for m in messages if m.outbox_id])
            emails = {s.id: s.email for s in await uow.staff.list()}
        return self._view(case, attachments, messages, audit, statuses, emails)

    def _view(self, case: CaseRecord, attachments: list[AttachmentRecord], messages: list[Any], audit: list[Any],
              statuses: dict[str, str], emails: dict[str, str]) -> CaseView:
        draft = engine.Draft.model_validate(case.draft)
        summary = engine.summary(self.q, draft)
        sections = [{"id": s.id, "index": s.index, "title": s.title, "answers": [asdict(line) for line in s.lines]} for s in summary]
        lines = [line for s in summary for line in s.lines]
        triage = []
        for title, ids in TRIAGE:
            block = [asdict(line) for line in lines if _qid(line.path) in ids]
            if block:
                triage.append({"title": title, "answers": block})
        answers = draft.answers
        warnings = []
        if answers.get("immediate_danger") is True:
            warnings.append("The submitter said someone in this case is in immediate danger.")
        if answers.get("consent_status") == "no":
            warnings.append("No consent from the people concerned.")
        if answers.get("victims_minors") == "yes":
            warnings.append("Victims include minors.")
        return CaseView(
            reference=case.reference,
            status=case.status,
            channel=case.channel,
            lang=case.lang,
            questionnaire=f"{case.questionnaire_id}@{case.questionnaire_version}",
            created_at=case.created_at.isoformat(),
            submitted_at=case.submitted_at.isoformat() if case.submitted_at else None,
            assigned_to=emails.get(case.assigned_to or "", case.assigned_to),
            decision=case.decision,
            decision_reason=case.decision_reason,
            answers=answers,
            sections=sections,
            missing=[engine.path_key(slot.path) for slot in engine.missing(self.q, draft)],
            triage=triage,
            warnings=warnings,
            reopened=list(case.reopened),
            attachments=[
                {"id": a.id, "question": a.question_path, "filename": a.filename, "sha256": a.sha256, "size": a.size,
                 "content_type": a.content_type, "sniffed_type": a.sniffed_type, "executable": a.executable,
                 "source": a.source, "created_at": a.created_at.isoformat()}
                for a in attachments
            ],
            thread=[
                {"id": m.id, "direction": m.direction, "channel": m.channel, "kind": m.kind, "body": m.body,
                 "verified": m.verified, "created_at": m.created_at.isoformat(),
                 "author": emails.get(m.author_staff_id or "", m.author_staff_id),
                 "delivery": statuses.get(m.outbox_id) if m.outbox_id else None}
                for m in messages if m.direction != "note"
            ],
            notes=[
                {"id": m.id, "body": m.body, "author": emails.get(m.author_staff_id or "", m.author_staff_id), "created_at": m.created_at.isoformat()}
                for m in messages if m.direction == "note"
            ],
            audit=[
                {"at": e.at.isoformat(), "action": e.action, "actor_kind": e.actor_kind,
                 "actor": emails.get(e.actor_id, e.actor_id) if e.actor_kind == "staff" and e.actor_id else e.actor_id,
                 "detail": e.detail, "remote": e.remote}
                for e in audit
            ],
            allowed=self.allowed_actions(case),
        )

    @staticmethod
    def allowed_actions(case: CaseRecord) -> list[str]:
        """The actions the case's state allows now (what the console offers)."""
        out = []
        if case.status in OPEN:
            out += ["assign"]
            out += ["unassign"] if case.assigned_to else ["claim"]
        if case.status not in (lifecycle.WITHDRAWN, lifecycle.DRAFT):
            out.append("note")
        if lifecycle.NEEDS_INFO in lifecycle.allowed(case.status) and case.status != lifecycle.NEEDS_INFO:
            out.append("request_info")
        if case.status in (lifecycle.NEEDS_INFO,) or (case.status == lifecycle.SUBMITTED):
            out.append("start_review")
        if set(lifecycle.DECISIONS) & lifecycle.allowed(case.status):
            out.append("decide")
        if case.status == lifecycle.IN_REVIEW:
            out.append("return_to_queue")
        if lifecycle.CLOSED in lifecycle.allowed(case.status):
            out.append("close")
        return out

    async def download(self, reference: str, attachment_id: str, actor: Actor) -> tuple[AttachmentRecord, bytes]:
        """A file's metadata and decrypted bytes; the download is audited first."""
        async with self.store.write() as uow:
            case = await self._load(uow, reference)
            try:
                record = await uow.attachments.get(case.id, attachment_id)
                data = await uow.attachments.read(case.id, attachment_id)
            except NotFound:
                raise CaseNotFound("no such attachment") from None
            await uow.audit.record(
                action="attachment.downloaded", now=self.clock(), actor_kind=actor.kind, actor_id=actor.staff_id, case_id=case.id,
                detail={"attachment": record.id}, remote=actor.remote,
            )
        log.info("attachment %s of case %s downloaded by %s", record.id, case.id, actor.staff_id)
        return record, data

    async def record_export(self, reference: str, actor: Actor, *, fmt: str) -> CaseRecord:
        """Audit an export of a dossier (called by the exporter before it writes anything)."""
        async with self.store.write() as uow:
            case = await self._load(uow, reference)
            await uow.audit.record(action="case.exported", now=self.clock(), actor_kind=actor.kind, actor_id=actor.staff_id, case_id=case.id,
                                   detail={"format": fmt}, remote=actor.remote)
        return case

    async def staff_choices(self) -> list[tuple[str, str]]:
        """(id, email) of active staff, for the assign form."""
        async with self.store.read() as uow:
            return [(s.id, s.email) for s in await uow.staff.list() if s.active]

    # ---- actions -----------------------------------------------------------------------------

    async def _load(self, uow: UnitOfWork, reference: str, *, lock: bool = False) -> CaseRecord:
        try:
            case = await uow.cases.by_reference(reference.strip().upper(), lock=lock)
        except LookupError:
            raise CaseNotFound(f"case {reference} is no longer readable") from None
        if case is None:
            raise CaseNotFound(f"no case {reference}")
        return case

    async def _save(self, uow: UnitOfWork, case: CaseRecord) -> CaseRecord:
        try:
            return await uow.cases.save(case, now=self.clock())
        except ConcurrentUpdate:
            raise Conflict("the case changed meanwhile; reload and try again") from None

    async def _audit(self, uow: UnitOfWork, actor: Actor, case: CaseRecord, action: str, **detail: Any) -> None:
        await uow.audit.record(action=action, now=self.clock(), actor_kind=actor.kind, actor_id=actor.staff_id, case_id=case.id,
                               detail=detail, remote=actor.remote)
        log.info("%s on case %s by staff %s", action, case.id, actor.staff_id)

    @staticmethod
    def _result(case: CaseRecord, outbox_id: str | None = None) -> ActionResult:
        return ActionResult(case.reference, case.status, case.assigned_to, outbox_id)

    async def claim(self, actor: Actor, reference: str) -> ActionResult:
        """Take an unassigned open case for yourself (a submitted case moves to in_review).
        Two racing claims: the row lock / conditional update lets exactly one win."""
        async with self.store.write() as uow:
            case = await self._load(uow, reference, lock=True)
            if case.status not in OPEN:
                raise ActionRefused(f"a case in status '{case.status}' cannot be claimed")
            if case.assigned_to is not None:
                raise Conflict("the case is already assigned" + (" to you" if case.assigned_to == actor.staff_id else ""))
            if not await uow.cases.claim(case.id, actor.staff_id, now=self.clock()):
                raise Conflict("someone else claimed the case first")
            case = await uow.cases.get(case.id)
            old = case.status
            if case.status == lifecycle.SUBMITTED:
                lifecycle.check(case.status, lifecycle.IN_REVIEW)
                case.status = lifecycle.IN_REVIEW
                case = await self._save(uow, case)
            await self._audit(uow, actor, case, "case.claimed", **{"from": old, "to": case.status})
        return self._result(case)

    async def assign(self, actor: Actor, reference: str, staff: str) -> ActionResult:
        """Assign an open case to a staff member (by id or email); a submitted case moves to in_review."""
        async with self.store.write() as uow:
            target = await uow.staff.by_email(staff) if "@" in staff else None
            if target is None and "@" not in staff:
                try:
                    target = await uow.staff.get(staff)
                except NotFound:
                    target = None
            if target is None or not target.active:
                raise ActionRefused("no active staff member with that id or email")
            case = await self._load(uow, reference, lock=True)
            if case.status not in OPEN:
                raise ActionRefused(f"a case in status '{case.status}' cannot be assigned")
            old = case.status
            previous = case.assigned_to
            case.assigned_to, case.claimed_at = target.id, self.clock()
            if case.status == lifecycle.SUBMITTED:
                lifecycle.check(case.status, lifecycle.IN_REVIEW)
                case.status = lifecycle.IN_REVIEW
            case = await self._save(uow, case)
            await self._audit(uow, actor, case, "case.assigned", assignee=target.id, previous=previous, **{"from": old, "to": case.status})
        return self._result(case)

    async def unassign(self, actor: Actor, reference: str) -> ActionResult:
        """Release an assigned open case; one in review goes back to the queue (submitted)."""
        async with self.store.write() as uow:
            case = await self._load(uow, reference, lock=True)
            if case.status not in OPEN:
                raise ActionRefused(f"a case in status '{case.status}' cannot be unassigned")
            if case.assigned_to is None:
                raise ActionRefused("the case is not assigned")
            old, previous = case.status, case.assigned_to
            case.assigned_to, case.claimed_at = None, None
            if case.status == lifecycle.IN_REVIEW:
                lifecycle.check(case.status, lifecycle.SUBMITTED)
                case.status = lifecycle.SUBMITTED
            case = await self._save(uow, case)
            await self._audit(uow, actor, case, "case.unassigned", previous=previous, **{"from": old, "to": case.status})
        return self._result(case)

    async def note(self, actor: Actor, reference: str, text: str) -> ActionResult:
        """Add an internal note (never sent to the submitter)."""
        body = _clean_text(text, "A note")
        async with self.store.write() as uow:
            case = await self._load(uow, reference, lock=True)
            if case.status in (lifecycle.WITHDRAWN, lifecycle.DRAFT):
                raise ActionRefused(f"a case in status '{case.status}' takes no notes")
            note_id = await uow.messages.add(case_id=case.id, direction="note", channel="staff", kind="note", body=body,
                                             now=self.clock(), author_staff_id=actor.staff_id)
            await self._audit(uow, actor, case, "note.added", note=note_id)
        return self._result(case)

    async def request_info(self, actor: Actor, reference: str, text: str, *, reopen: list[str] | None = None) -> ActionResult:
        """Ask the submitter for more, through the channel the case came from; optionally reopen
        named questions. Writes the outbox row and the thread message with the status change."""
        body = _clean_text(text, "The question to the submitter")
        reopen = [r.strip() for r in (reopen or []) if r.strip()]
        known = self.q.items_by_id()
        unknown = [r for r in reopen if r not in known]
        if unknown:
            raise ActionRefused("unknown question ids: " + ", ".join(unknown))
        async with self.store.write() as uow:
            case = await self._load(uow, reference, lock=True)
            try:
                lifecycle.check(case.status, lifecycle.NEEDS_INFO)
            except lifecycle.TransitionError as exc:
                raise ActionRefused(str(exc)) from None
            now, old = self.clock(), case.status
            outbox_id = await uow.outbox.enqueue(
                channel=case.channel, kind="followup", case_id=case.id, submitter_id=case.submitter_id, now=now,
                payload={"text": body, "reference": case.reference, "reopen": reopen},
            )
            await uow.messages.add(case_id=case.id, direction="out", channel=case.channel, kind="followup", body=body, now=now,
                                   author_staff_id=actor.staff_id, outbox_id=outbox_id)
            case.status, case.reopened = lifecycle.NEEDS_INFO, reopen
            case = await self._save(uow, case)
            await self._audit(uow, actor, case, "case.info_requested", outbox=outbox_id, channel=case.channel, reopen=reopen,
                              **{"from": old, "to": case.status})
        return self._result(case, outbox_id)

    async def set_status(self, actor: Actor, reference: str, target: str) -> ActionResult:
        """Move between the review statuses that need nothing else: start review (→ in_review)
        or return to the queue (→ submitted). Decisions, follow-ups and closing have their own."""
        if target not in (lifecycle.IN_REVIEW, lifecycle.SUBMITTED):
            raise ActionRefused(f"use the dedicated action to move a case to '{target}'")
        async with self.store.write() as uow:
            case = await self._load(uow, reference, lock=True)
            if case.status == lifecycle.DRAFT:
                raise ActionRefused("a draft belongs to the submitter until they submit it")
            try:
                lifecycle.check(case.status, target)
            except lifecycle.TransitionError as exc:
                raise ActionRefused(str(exc)) from None
            old = case.status
            case.status = target
            if target == lifecycle.IN_REVIEW and case.assigned_to is None:
                case.assigned_to, case.claimed_at = actor.staff_id, self.clock()
            case = await self._save(uow, case)
            await self._audit(uow, actor, case, "case.status_changed", **{"from": old, "to": target})
        return self._result(case)

    async def decide(self, actor: Actor, reference: str, outcome: str, reason: str) -> ActionResult:
        """Record the decision (accepted / declined / escalated to a recommendation) with a reason."""
        if outcome not in lifecycle.DECISIONS:
            raise ActionRefused(f"a decision is one of {', '.join(lifecycle.DECISIONS)}")
        why = _clean_text(reason, "A reason")
        async with self.store.write() as uow:
            case = await self._load(uow, reference, lock=True)
            try:
                lifecycle.check(case.status, outcome)
            except lifecycle.TransitionError as exc:
                raise ActionRefused(str(exc)) from None
            old = case.status
            case.status, case.decision, case.decision_reason, case.decided_at = outcome, outcome, why, self.clock()
            case = await self._save(uow, case)
            await self._audit(uow, actor, case, "case.decided", decision=outcome, **{"from": old, "to": outcome})
        return self._result(case)

    async def close(self, actor: Actor, reference: str, *, message: str | None = None) -> ActionResult:
        """Close a decided case; with `message`, tell the submitter through their channel (outbox)."""
        text = _clean_text(message, "The message") if message and message.strip() else None
        async with self.store.write() as uow:
            case = await self._load(uow, reference, lock=True)
            try:
                lifecycle.check(case.status, lifecycle.CLOSED)
            except lifecycle.TransitionError as exc:
                raise ActionRefused(str(exc)) from None
            now, old = self.clock(), case.status
            outbox_id = None
            if text:
                outbox_id = await uow.outbox.enqueue(
                    channel=case.channel, kind="decision", case_id=case.id, submitter_id=case.submitter_id, now=now,
                    payload={"text": text, "reference": case.reference, "outcome": case.decision},
                )
                await uow.messages.add(case_id=case.id, direction="out", channel=case.channel, kind="notice", body=text, now=now,
                                       author_staff_id=actor.staff_id, outbox_id=outbox_id)
            case.status = lifecycle.CLOSED
            case = await self._save(uow, case)
            await self._audit(uow, actor, case, "case.closed", outbox=outbox_id, **{"from": old, "to": case.status})
        return self._result(case, outbox_id)

    # ---- failed items (admin) ----------------------------------------------------------------

    async def failed_items(self, actor: Actor) -> FailedItems:
        """Inbox messages that failed processing and outbox messages that could not be delivered.
        Shows ids, times, sizes and error reasons — never the content."""
        if not actor.is_admin:
            raise Forbidden("admins only")
        async with self.store.read() as uow:
            inbox = await uow.inbox.list(status="failed")
            outbox = await uow.outbox.list(status="failed")
            refs: dict[str, str] = {}
            for row in outbox:
                if row.case_id and row.case_id not in refs:
                    try:
                        refs[row.case_id] = (await uow.cases.get(row.case_id)).reference
                    except LookupError:
                        refs[row.case_id] = "(destroyed)"
        return FailedItems(
            inbox=[{"id": r.id, "received_at": r.received_at.isoformat(), "size": r.size, "attempts": r.attempts, "error": r.error}
                   for r in inbox],
            outbox=[{"id": r.id, "channel": r.channel, "kind": r.kind, "case": refs.get(r.case_id or ""), "attempts": r.attempts,
                     "error": r.last_error, "created_at": r.created_at.isoformat()} for r in outbox],
        )

    async def retry(self, actor: Actor, kind: str, item_id: str) -> None:
        """Put a failed inbox or outbox row back to be processed again."""
        if not actor.is_admin:
            raise Forbidden("admins only")
        async with self.store.write() as uow:
            now = self.clock()
            if kind == "outbox":
                brief = await ReviewQueries(uow.session).outbox_brief(item_id)
                if brief is None or brief[0] != "failed":
                    raise CaseNotFound("no failed outbox row with that id")
                await uow.outbox.requeue(item_id, now=now)
                case_id = brief[1]
            elif kind == "inbox":
                try:
                    row = await uow.inbox.get(item_id)
                except NotFound:
                    raise CaseNotFound("no failed inbox row with that id") from None
                if row.status != "failed":
                    raise ActionRefused("that inbox row has not failed")
                await uow.inbox.requeue(item_id, now=now)
                case_id = row.case_id
            else:
                raise ReviewError("retry inbox or outbox")
            await uow.audit.record(action=f"{kind}.retried", now=now, actor_kind="staff", actor_id=actor.staff_id, case_id=case_id,
                                   detail={kind: item_id}, remote=actor.remote)
        log.info("%s row %s requeued by staff %s", kind, item_id, actor.staff_id)
