"""Reading one case for review: triage first, answers by section, files, thread, notes, audit;
downloading a file; recording an export. Every read is audited before anything is returned, and
drafts are shown to admins only."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from intake import engine, lifecycle
from intake.triage import triage_facts
from review import caseview
from review.base import ServiceBase, refusals_audited
from review.model import OPEN, AccessRefused, Actor, CaseNotFound, CaseView
from review.thread import fold
from storage.repositories import AttachmentRecord, CaseRecord, NotFound
from storage.review import ReviewQueries

log = logging.getLogger(__name__)
# the console's button names → the action whose access rule applies
ACTION_OF = {"start_review": "status", "return_to_queue": "status"}

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


def _qid(path: str) -> str:
    """The question (or group) id a summary path ends with: `perpetrators.0.perp_name` → `perp_name`."""
    parts = [p for p in path.split(".") if not p.isdigit()]
    return parts[-1] if parts else path


class CaseReading(ServiceBase):
    """One case's view, its files and its exports (see the module docstring)."""

    @refusals_audited
    async def show(self, reference: str, actor: Actor) -> CaseView:
        """One case for review: triage first, answers by section, files, thread, notes, audit.
        The view itself is recorded in the audit before anything is returned."""
        async with self.store.write() as uow:
            case = await self._load(uow, reference)
            self.check_visible(actor, case, "view")
            await uow.audit.record(action="case.viewed", now=self.clock(), actor_kind=actor.kind, actor_id=actor.staff_id, case_id=case.id, remote=actor.remote)
            attachments = await uow.attachments.for_case(case.id)
            messages = await uow.messages.for_case(case.id)
            audit = await uow.audit.for_case(case.id)
            statuses = await ReviewQueries(uow.session).outbox_status_for([m.outbox_id for m in messages if m.outbox_id])
            emails = {s.id: s.email for s in await uow.staff.list()}
        view = self._view(case, attachments, messages, audit, statuses, emails)
        view.allowed = [a for a in view.allowed if self.may_act(actor, case, ACTION_OF.get(a, a))]
        return view

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
        facts = triage_facts(self.q, answers)
        last = max([case.updated_at, *(m.created_at for m in messages)])
        evidence, extra = caseview.evidence_items(self.q, answers, attachments)
        ours = [m.body for m in messages if m.direction == "out"]
        warnings = []
        if facts.danger:
            warnings.append("The submitter said someone in this case is in immediate danger.")
        if answers.get("consent_status") == "no":
            warnings.append("No consent from the people concerned.")
        if facts.minors:
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
                 "delivery": statuses.get(m.outbox_id) if m.outbox_id else None,
                 **self._folded(m, ours)}
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
            glance=caseview.glance(facts, now=self.clock(), since=case.submitted_at or case.created_at, last=last),
            abuse=caseview.abuse_line(self.q, answers, facts),
            perpetrators=caseview.perpetrator_cards(self.q, answers),
            evidence=evidence,
            extra_files=extra,
            picker=caseview.picker(self.q, draft),
        )

    @staticmethod
    def _folded(message: Any, ours: list[str]) -> dict[str, Any]:
        """A submitter's message split into new words and folded quotes; ours are shown whole."""
        if message.direction != "in":
            return {"new": message.body, "folded": "", "folded_lines": 0}
        parts = fold(message.body, ours=ours, email=message.channel == "email")
        return {"new": parts.new, "folded": parts.folded, "folded_lines": parts.folded_lines}

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

    @refusals_audited
    async def download(self, reference: str, attachment_id: str, actor: Actor, *, original: bool = False) -> tuple[AttachmentRecord, bytes]:
        """A file's metadata and decrypted bytes, audited first: the copy without metadata (EXIF/GPS,
        document authors) by default; the original as received only for an admin, audited as such."""
        async with self.store.write() as uow:
            case = await self._load(uow, reference)
            self.check_visible(actor, case, "download")
            if original and not actor.is_admin:
                raise AccessRefused("The original file, with its metadata, is for admins; you get the copy without it.",
                                    action="download_original", case_id=case.id)
            try:
                record = await uow.attachments.get(case.id, attachment_id)
                data = await uow.attachments.read(case.id, attachment_id, original=original)
            except NotFound:
                raise CaseNotFound("no such attachment") from None
            await uow.audit.record(
                action="attachment.original_downloaded" if original else "attachment.downloaded", now=self.clock(),
                actor_kind=actor.kind, actor_id=actor.staff_id, case_id=case.id,
                detail={"attachment": record.id, "copy": "original" if original or not record.cleaned else "cleaned"}, remote=actor.remote,
            )
        log.info("attachment %s of case %s downloaded by %s (%s)", record.id, case.id, actor.staff_id, "original" if original else "default")
        return record, data

    @refusals_audited
    async def record_export(self, reference: str, actor: Actor, *, fmt: str) -> CaseRecord:
        """Audit an export of a dossier (called by the exporter before it writes anything)."""
        async with self.store.write() as uow:
            case = await self._load(uow, reference)
            self.check_visible(actor, case, "export")
            await uow.audit.record(action="case.exported", now=self.clock(), actor_kind=actor.kind, actor_id=actor.staff_id, case_id=case.id,
                                   detail={"format": fmt}, remote=actor.remote)
        return case

    async def staff_choices(self) -> list[tuple[str, str]]:
        """(id, email) of active staff, for the assign form."""
        async with self.store.read() as uow:
            return [(s.id, s.email) for s in await uow.staff.list() if s.active]
