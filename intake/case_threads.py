"""The case service's steps for what arrives outside the questionnaire's flow: messages kept on a
case thread with their files, a file for the current files question, and a submitter's reply on
a submitted case. Each runs in the caller's transaction (`receive`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from intake import engine, lifecycle
from intake.i18n import translator
from intake.questionnaire import FieldType, Questionnaire
from intake.references import normalise_reference
from intake.staffnotify import notify_staff
from storage.repositories import AttachmentRecord, CaseRecord, UnitOfWork

if TYPE_CHECKING:
    from intake.cases import IncomingFile, Turn
    from intake.clock import Clock
    from intake.engine import Action, Draft


class ThreadSteps:
    """Mixed into `CaseService` (which provides the attributes and helpers named here)."""

    q: Questionnaire
    clock: Clock

    if TYPE_CHECKING:  # declared for the type checker only: CaseService defines them

        def draft_of(self, case: CaseRecord) -> Draft: ...

        def _turn(self, case: CaseRecord | None, outcome: engine.Outcome | None = None, **extra: Any) -> Turn: ...

        async def _apply(self, uow: UnitOfWork, submitter_id: str, case: CaseRecord, action: Action) -> Turn: ...

        async def alert(self, uow: UnitOfWork, *, kind: str, case_id: str | None, payload: dict[str, Any]) -> None: ...

    async def keep_in(
        self, uow: UnitOfWork, submitter_id: str, case: CaseRecord, *, channel: str, body: str, kind: str,
        external_key: str | None = None, files: list[IncomingFile] | None = None, verified: bool = True,
    ) -> list[AttachmentRecord]:
        """Keep a message on the case thread with its files (files only when `verified`). The same
        `external_key` again adds no second message; the same file `source_key` no second file."""
        now = self.clock()
        message_id: str | None = None
        if external_key is None or await uow.messages.case_for_external(external_key) != case.id:
            message_id = await uow.messages.add(
                case_id=case.id, direction="in", channel=channel, kind=kind, body=body, now=now, external_key=external_key, verified=verified,
            )
        kept: list[AttachmentRecord] = []
        for incoming in (files or []) if verified else []:
            existing = await uow.attachments.by_source(case.id, incoming.source_key) if incoming.source_key else None
            record = existing or await uow.attachments.add(
                case_id=case.id, filename=incoming.filename, data=incoming.data, now=now, source=channel,
                content_type=incoming.content_type, sniffed_type=incoming.sniffed_type, executable=incoming.executable,
                source_key=incoming.source_key, message_id=message_id, clean=incoming.clean, clean_removed=list(incoming.clean_removed),
            )
            if existing is None:
                await uow.audit.record(action="attachment.added", now=now, actor_kind="submitter", actor_id=submitter_id,
                                       case_id=case.id, detail={"attachment": record.id, "executable": incoming.executable})
            kept.append(record)
        return kept

    async def file_in(self, uow: UnitOfWork, submitter_id: str, case: CaseRecord, incoming: IncomingFile, *, channel: str) -> tuple[Turn, AttachmentRecord]:
        """A file on the draft: the answer to the current files question when one is asked,
        otherwise extra evidence. The same `source_key` twice stores it once."""
        now = self.clock()
        draft = self.draft_of(case)
        slot = engine.current_slot(self.q, draft)
        on_question = slot is not None and slot.kind == "question" and getattr(slot.item, "type", None) == FieldType.FILES
        existing = await uow.attachments.by_source(case.id, incoming.source_key) if incoming.source_key else None
        record = existing or await uow.attachments.add(
            case_id=case.id, filename=incoming.filename, data=incoming.data, now=now, source=channel,
            content_type=incoming.content_type, sniffed_type=incoming.sniffed_type, executable=incoming.executable,
            question_path=slot.key if on_question and slot else None, source_key=incoming.source_key,
            clean=incoming.clean, clean_removed=list(incoming.clean_removed),
        )
        await uow.audit.record(action="attachment.added", now=now, actor_kind="submitter", actor_id=submitter_id, case_id=case.id, detail={"attachment": record.id})
        if on_question:
            return await self._apply(uow, submitter_id, case, engine.AddFile(record.id)), record
        turn = self._turn(case)
        turn.notices.append(translator(draft.lang)("Thank you. The file is saved with your case as extra evidence."))
        return turn, record

    async def thread_case_in(self, uow: UnitOfWork, submitter_id: str, reference: str | None) -> CaseRecord | None:
        """The case a message outside the questionnaire belongs to: the one named, else the
        submitter's newest case waiting for information, else their newest open submitted case."""
        case: CaseRecord | None = None
        if reference:
            case = await uow.cases.by_reference(normalise_reference(reference), lock=True)
        if case is None:
            mine = [c for c in await uow.cases.for_submitter(submitter_id) if c.status != lifecycle.DRAFT]
            waiting = [c for c in mine if c.status == lifecycle.NEEDS_INFO]
            open_ = [c for c in mine if c.status in lifecycle.OPEN_FOR_SUBMITTER]
            candidates = waiting or open_
            case = await uow.cases.get(candidates[-1].id, lock=True) if candidates else None
        return case

    async def reply_in(
        self, uow: UnitOfWork, submitter_id: str, case: CaseRecord, *, channel: str, body: str,
        external_key: str | None = None, files: list[IncomingFile] | None = None,
    ) -> tuple[CaseRecord, bool, bool, int]:
        """A submitter's message outside the questionnaire onto the case thread. Kept as
        *unverified* (and its files not stored) when the sender is not the case's submitter. A
        verified reply to a case waiting for information returns it to the queue and alerts staff.
        Returns (case, verified, requeued, files kept)."""
        now = self.clock()
        verified = case.submitter_id == submitter_id
        if external_key is not None and await uow.messages.case_for_external(external_key) == case.id:
            return case, verified, False, 0  # the same message again: already on the thread
        kept = await self.keep_in(uow, submitter_id, case, channel=channel, body=body, kind="reply", external_key=external_key, files=files, verified=verified)
        detail: dict[str, Any] = {"verified": verified}
        if kept:
            detail["attachments"] = [k.id for k in kept]
        requeued = False
        if verified and case.status == lifecycle.NEEDS_INFO:
            case.status = lifecycle.SUBMITTED
            case = await uow.cases.save(case, now=now)
            detail["requeued"] = requeued = True
            await self.alert(uow, kind="reply_alert", case_id=case.id, payload={"reference": case.reference, "case_id": case.id})
        if verified and case.assigned_to:
            await notify_staff(uow, staff_id=case.assigned_to, kind="reply", reference=case.reference, case_id=case.id, now=now)
        await uow.audit.record(action="thread.reply", now=now, actor_kind="submitter", actor_id=submitter_id, case_id=case.id, detail=detail)
        return case, verified, requeued, len(kept)
