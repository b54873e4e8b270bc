"""The staff side's read model: the queue and one case, decrypted, by section.

Channel-independent: it reads through the storage repositories and the questionnaire only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from intake import engine
from intake.clock import Clock, utcnow
from intake.questionnaire import Questionnaire
from storage.repositories import CaseRecord
from storage.store import Store


@dataclass
class QueueItem:
    reference: str
    status: str
    channel: str
    created_at: str
    submitted_at: str | None
    assigned_to: str | None
    title: str | None


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
    attachments: list[dict[str, Any]] = field(default_factory=list)
    thread: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ReviewService:
    def __init__(self, store: Store, questionnaire: Questionnaire, *, clock: Clock = utcnow) -> None:
        self.store = store
        self.q = questionnaire
        self.clock = clock

    async def queue(self, *, statuses: list[str] | None = None, limit: int = 100, offset: int = 0, newest_first: bool = True) -> list[QueueItem]:
        async with self.store.read() as uow:
            cases = await uow.cases.list(statuses=statuses, limit=limit, offset=offset, newest_first=newest_first)
        return [self._item(c) for c in cases]

    @staticmethod
    def _item(case: CaseRecord) -> QueueItem:
        title = case.draft.get("answers", {}).get("case_title")
        return QueueItem(
            case.reference, case.status, case.channel, case.created_at.isoformat(),
            case.submitted_at.isoformat() if case.submitted_at else None, case.assigned_to,
            title if isinstance(title, str) else None,
        )

    async def show(self, reference: str, *, actor_kind: str = "staff", actor_id: str | None = None, remote: str | None = None) -> CaseView | None:
        """One case with answers by section, attachments, thread and audit. Viewing is audited."""
        async with self.store.write() as uow:
            case = await uow.cases.by_reference(reference.strip().upper())
            if case is None:
                return None
            await uow.audit.record(action="case.viewed", now=self.clock(), actor_kind=actor_kind, actor_id=actor_id, case_id=case.id, remote=remote)
            attachments = await uow.attachments.for_case(case.id)
            thread = await uow.messages.for_case(case.id)
            audit = await uow.audit.for_case(case.id)
        draft = engine.Draft.model_validate(case.draft)
        sections = [
            {"id": s.id, "index": s.index, "title": s.title, "answers": [asdict(line) for line in s.lines]}
            for s in engine.summary(self.q, draft)
        ]
        missing = []
        for slot in engine.missing(self.q, draft):
            missing.append(engine.path_key(slot.path))
        return CaseView(
            reference=case.reference,
            status=case.status,
            channel=case.channel,
            lang=case.lang,
            questionnaire=f"{case.questionnaire_id}@{case.questionnaire_version}",
            created_at=case.created_at.isoformat(),
            submitted_at=case.submitted_at.isoformat() if case.submitted_at else None,
            assigned_to=case.assigned_to,
            decision=case.decision,
            decision_reason=case.decision_reason,
            answers=draft.answers,
            sections=sections,
            missing=missing,
            attachments=[
                {"id": a.id, "question": a.question_path, "filename": a.filename, "sha256": a.sha256, "size": a.size,
                 "content_type": a.content_type, "sniffed_type": a.sniffed_type, "executable": a.executable,
                 "source": a.source, "created_at": a.created_at.isoformat()}
                for a in attachments
            ],
            thread=[
                {"id": m.id, "direction": m.direction, "channel": m.channel, "kind": m.kind, "body": m.body,
                 "verified": m.verified, "created_at": m.created_at.isoformat()}
                for m in thread
            ],
            audit=[
                {"at": e.at.isoformat(), "action": e.action, "actor_kind": e.actor_kind, "actor_id": e.actor_id,
                 "detail": e.detail, "remote": e.remote}
                for e in audit
            ],
        )
