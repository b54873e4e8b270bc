"""Every staff action on a case: claim, assign, unassign, note, request info, change status,
decide, close. Each is one method that loads the case under a row lock, checks who may act
(review.base) and what the lifecycle allows, changes it, and records an audit event holding ids
and outcomes only; a submitter is reached only by an outbox row written in the same transaction."""

from __future__ import annotations

from intake import engine, lifecycle
from intake.staffnotify import notify_staff
from review.base import ServiceBase, refusals_audited
from review.caseview import reopen_paths
from review.model import MAX_TEXT, OPEN, ActionRefused, ActionResult, Actor, Conflict
from storage.repositories import CaseRecord, NotFound


def _clean_text(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ActionRefused(f"{what} is required")
    if len(text) > MAX_TEXT:
        raise ActionRefused(f"{what} is longer than {MAX_TEXT} characters")
    return text


class StaffActions(ServiceBase):
    """The staff actions (see the module docstring)."""

    @refusals_audited
    async def claim(self, actor: Actor, reference: str) -> ActionResult:
        """Take an unassigned open case for yourself (a submitted case moves to in_review).
        Two racing claims: the row lock / conditional update lets exactly one win."""
        async with self.store.write() as uow:
            case = await self._load(uow, reference, lock=True)
            self.check_act(actor, case, "claim")
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

    @refusals_audited
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
            self.check_act(actor, case, "assign")
            if case.status not in OPEN:
                raise ActionRefused(f"a case in status '{case.status}' cannot be assigned")
            old = case.status
            previous = case.assigned_to
            case.assigned_to, case.claimed_at = target.id, self.clock()
            if case.status == lifecycle.SUBMITTED:
                lifecycle.check(case.status, lifecycle.IN_REVIEW)
                case.status = lifecycle.IN_REVIEW
            case = await self._save(uow, case)
            notice = None
            if target.id != actor.staff_id:
                notice = await notify_staff(uow, staff_id=target.id, kind="assigned", reference=case.reference, case_id=case.id, now=self.clock())
            await self._audit(uow, actor, case, "case.assigned", assignee=target.id, previous=previous, notice=notice,
                              **{"from": old, "to": case.status})
        return self._result(case)

    @refusals_audited
    async def unassign(self, actor: Actor, reference: str) -> ActionResult:
        """Release an assigned open case; one in review goes back to the queue (submitted)."""
        async with self.store.write() as uow:
            case = await self._load(uow, reference, lock=True)
            self.check_act(actor, case, "unassign")
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

    @refusals_audited
    async def note(self, actor: Actor, reference: str, text: str) -> ActionResult:
        """Add an internal note (never sent to the submitter)."""
        body = _clean_text(text, "A note")
        async with self.store.write() as uow:
            case = await self._load(uow, reference, lock=True)
            self.check_act(actor, case, "note")
            if case.status in (lifecycle.WITHDRAWN, lifecycle.DRAFT):
                raise ActionRefused(f"a case in status '{case.status}' takes no notes")
            note_id = await uow.messages.add(case_id=case.id, direction="note", channel="staff", kind="note", body=body,
                                             now=self.clock(), author_staff_id=actor.staff_id)
            await self._audit(uow, actor, case, "note.added", note=note_id)
        return self._result(case)

    @refusals_audited
    async def request_info(self, actor: Actor, reference: str, text: str, *, reopen: list[str] | None = None) -> ActionResult:
        """Ask the submitter for more, through the channel the case came from; optionally reopen
        named questions. Writes the outbox row and the thread message with the status change."""
        body = _clean_text(text, "The question to the submitter")
        reopen = list(dict.fromkeys(r.strip() for r in (reopen or []) if r.strip()))
        async with self.store.write() as uow:
            case = await self._load(uow, reference, lock=True)
            self.check_act(actor, case, "request_info")
            self._check_reopen(case, reopen)
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

    def _check_reopen(self, case: CaseRecord, reopen: list[str]) -> None:
        """Every reopened item is an answer path of this case's questionnaire slots
        (`perpetrators.1.perp_dob`, or a whole instance `evidence.0`) or a bare question id."""
        if not reopen:
            return
        known = reopen_paths(self.q, engine.Draft.model_validate(case.draft)) | set(self.q.items_by_id())
        unknown = [r for r in reopen if r not in known]
        if unknown:
            raise ActionRefused("unknown questions to reopen: " + ", ".join(unknown))

    @refusals_audited
    async def set_status(self, actor: Actor, reference: str, target: str) -> ActionResult:
        """Move between the review statuses that need nothing else: start review (→ in_review)
        or return to the queue (→ submitted). Decisions, follow-ups and closing have their own."""
        if target not in (lifecycle.IN_REVIEW, lifecycle.SUBMITTED):
            raise ActionRefused(f"use the dedicated action to move a case to '{target}'")
        async with self.store.write() as uow:
            case = await self._load(uow, reference, lock=True)
            self.check_act(actor, case, "status")
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

    @refusals_audited
    async def decide(self, actor: Actor, reference: str, outcome: str, reason: str) -> ActionResult:
        """Record the decision (accepted / declined / escalated to a recommendation) with a reason."""
        if outcome not in lifecycle.DECISIONS:
            raise ActionRefused(f"a decision is one of {', '.join(lifecycle.DECISIONS)}")
        why = _clean_text(reason, "A reason")
        async with self.store.write() as uow:
            case = await self._load(uow, reference, lock=True)
            self.check_act(actor, case, "decide")
            try:
                lifecycle.check(case.status, outcome)
            except lifecycle.TransitionError as exc:
                raise ActionRefused(str(exc)) from None
            old = case.status
            case.status, case.decision, case.decision_reason, case.decided_at = outcome, outcome, why, self.clock()
            case = await self._save(uow, case)
            await self._audit(uow, actor, case, "case.decided", decision=outcome, **{"from": old, "to": outcome})
        return self._result(case)

    @refusals_audited
    async def close(self, actor: Actor, reference: str, *, message: str | None = None) -> ActionResult:
        """Close a decided case; with `message`, tell the submitter through their channel (outbox)."""
        text = _clean_text(message, "The message") if message and message.strip() else None
        async with self.store.write() as uow:
            case = await self._load(uow, reference, lock=True)
            self.check_act(actor, case, "close")
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
