"""Loading one case for a dossier straight from the repositories (the CLI's path; the console
passes the review service's `CaseView`, which has the same shape). Viewing it is audited."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from intake import engine
from intake.app import App
from intake.consent import SHARE_WITH_GOVERNMENTS, consent_of


class CaseMissing(LookupError):
    pass


@dataclass
class CaseFile:
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
    attachments: list[dict[str, Any]] = field(default_factory=list)
    thread: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ConsentRefused(Exception):
    """The export falls outside what the submitter allowed (the reason says what)."""


async def load(
    app: App, reference: str, *, actor_kind: str, actor_id: str | None, remote: str | None, fmt: str,
    override_reason: str | None = None,
) -> CaseFile:
    """The case with its files, thread, notes and audit; records `case.exported` and `case.viewed` first.

    A dossier is made to be sent on to governments: when the submitter did not allow that
    (intake.consent), it is refused with the reason, unless an admin gives `override_reason` — kept
    as an internal note on the case (encrypted) and audited as `consent.overridden`."""
    now = app.clock()
    async with app.store.write() as uow:
        case = await uow.cases.by_reference(reference.strip().upper()) or await uow.cases.by_reference(reference.strip())
        if case is None:
            raise CaseMissing(f"no case {reference}")
        refusal = consent_of(case.draft.get("answers", {})).refusal(SHARE_WITH_GOVERNMENTS)
        if refusal is not None:
            staff = await uow.staff.get(actor_id) if actor_kind == "staff" and actor_id else None
            if not (override_reason or "").strip():
                raise ConsentRefused(f"{refusal} An admin may export it anyway, giving a reason (--override-consent REASON).")
            if staff is None or staff.role != "admin":
                raise ConsentRefused(f"{refusal} Only an admin may override the submitter's consent.")
            note_id = await uow.messages.add(case_id=case.id, direction="note", channel="staff", kind="note",
                                             body=f"Consent overridden for a {fmt} export: {override_reason}", now=now, author_staff_id=staff.id)
            await uow.audit.record(action="consent.overridden", now=now, actor_kind=actor_kind, actor_id=actor_id, case_id=case.id,
                                   detail={"format": fmt, "note": note_id}, remote=remote)
        for action, detail in (("case.exported", {"format": fmt}), ("case.viewed", None)):
            await uow.audit.record(action=action, now=now, actor_kind=actor_kind, actor_id=actor_id, case_id=case.id, detail=detail, remote=remote)
        attachments = await uow.attachments.for_case(case.id)
        messages = await uow.messages.for_case(case.id)
        audit = await uow.audit.for_case(case.id)
        emails = {s.id: s.email for s in await uow.staff.list()}
    draft = engine.Draft.model_validate(case.draft)
    summary = engine.summary(app.questionnaire, draft)
    return CaseFile(
        reference=case.reference, status=case.status, channel=case.channel, lang=case.lang,
        questionnaire=f"{case.questionnaire_id}@{case.questionnaire_version}", created_at=case.created_at.isoformat(),
        submitted_at=case.submitted_at.isoformat() if case.submitted_at else None,
        assigned_to=emails.get(case.assigned_to or "", case.assigned_to), decision=case.decision, decision_reason=case.decision_reason,
        answers=draft.answers,
        sections=[{"id": s.id, "index": s.index, "title": s.title, "answers": [asdict(line) for line in s.lines]} for s in summary],
        missing=[engine.path_key(slot.path) for slot in engine.missing(app.questionnaire, draft)],
        attachments=[{"id": a.id, "question": a.question_path, "filename": a.filename, "sha256": a.sha256, "size": a.size,
                      "content_type": a.content_type, "sniffed_type": a.sniffed_type, "executable": a.executable, "source": a.source,
                      "created_at": a.created_at.isoformat()} for a in attachments],
        thread=[{"id": m.id, "direction": m.direction, "channel": m.channel, "kind": m.kind, "body": m.body, "verified": m.verified,
                 "created_at": m.created_at.isoformat(), "author": emails.get(m.author_staff_id or "", m.author_staff_id), "delivery": None}
                for m in messages if m.direction != "note"],
        notes=[{"id": m.id, "body": m.body, "author": emails.get(m.author_staff_id or "", m.author_staff_id), "created_at": m.created_at.isoformat()}
               for m in messages if m.direction == "note"],
        audit=[{"at": e.at.isoformat(), "action": e.action, "actor_kind": e.actor_kind,
                "actor": emails.get(e.actor_id, e.actor_id) if e.actor_kind == "staff" and e.actor_id else e.actor_id,
                "detail": e.detail, "remote": e.remote} for e in audit],
    )
