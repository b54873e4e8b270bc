"""The case service: drafts keyed by channel identity, answers applied through the engine, one
transaction per input, submit/withdraw through the lifecycle. Channels call only this.

Every method that changes anything commits before it returns; a channel acknowledges to the
submitter only after the call returned (so "saved" is never said of something not saved).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from intake import engine, lifecycle
from intake.case_details import AMENDABLE, DetailSteps
from intake.case_threads import ThreadSteps
from intake.clock import Clock, utcnow
from intake.draft_views import DraftViews
from intake.engine import Action, Draft, Outcome, Prompt
from intake.i18n import normalise_lang, translator
from intake.questionnaire import Questionnaire
from intake.references import REF_ALPHABET as REF_ALPHABET  # re-exported
from intake.references import REF_PATTERN as REF_PATTERN
from intake.references import new_reference as new_reference
from intake.references import normalise_reference as normalise_reference
from intake.triage import triage_facts
from storage.repositories import CaseRecord, OutboxRecord, UnitOfWork
from storage.store import Store

log = logging.getLogger(__name__)


@dataclass
class Turn:
    """What a channel needs after one input: the prompt to show and what happened."""

    case_id: str | None
    reference: str | None
    status: str | None
    prompt: Prompt
    ok: bool = True
    error: str | None = None
    notices: list[str] = field(default_factory=list)
    submitted: bool = False
    stopped: bool = False
    discarded: bool = False
    duplicate: bool = False
    lang: str = "en"  # the draft's language: render the prompt in it
    stale: bool = False  # `expect` did not hold: the input was for another prompt
    amending: bool = False  # a details session on a submitted case is in progress (intake.case_details)
    details_done: bool = False  # that session ended with this input: the details are on the case


def _natural(key: str) -> list[tuple[int, str]]:
    """Sort key for answer paths: instance numbers compare as numbers."""
    return [(int(p), "") if p.isdigit() else (-1, p) for p in key.split(".")]


@dataclass(frozen=True)
class IncomingFile:
    """A file a channel received, before it is stored."""

    filename: str
    data: bytes
    content_type: str | None = None
    sniffed_type: str | None = None
    executable: bool = False
    source_key: str | None = None  # the channel's id of the file, so a redelivery stores it once
    clean: bytes | None = None  # a copy without metadata (made by `receive` before its transaction)
    clean_removed: tuple[str, ...] = ()


@dataclass
class CaseStatus:
    reference: str
    status: str
    created_at: str
    submitted_at: str | None


class CaseService(ThreadSteps, DetailSteps):
    def __init__(self, store: Store, questionnaire: Questionnaire, *, clock: Clock = utcnow, alert_channels: list[str] | None = None) -> None:
        self.store = store
        self.q = questionnaire
        self.clock = clock
        # where staff alerts go: one outbox row per destination (see intake.channels.STAFF_CHANNELS)
        self.alert_channels = list(alert_channels or [])
        self.views = DraftViews(questionnaire)

    # ---- helpers -----------------------------------------------------------------------------

    def draft_of(self, case: CaseRecord) -> Draft:
        """The validated draft of `case`, validated once per stored version (see `DraftViews`)."""
        return self.views.draft(case)

    async def _unique_reference(self, uow: UnitOfWork) -> str:
        for _ in range(20):
            ref = new_reference()
            if not await uow.cases.reference_exists(ref):
                return ref
        raise RuntimeError("could not find a free case reference")  # 30^8 space: practically never

    async def _open(self, uow: UnitOfWork, channel: str, identity: str, lang: str | None, *, create: bool) -> tuple[str, CaseRecord | None]:
        now = self.clock()
        submitter = await uow.submitters.enter(channel=channel, identity=identity, lang=normalise_lang(lang), now=now)
        case = await uow.cases.open_draft(submitter.id, lock=True)
        if case is None and create:
            case = await self.create_in(uow, channel, submitter.id, lang or submitter.lang)
        return submitter.id, case

    async def create_in(self, uow: UnitOfWork, channel: str, submitter_id: str, lang: str | None) -> CaseRecord:
        """A new draft for the submitter, with a fresh reference, audited."""
        now = self.clock()
        draft = engine.start(normalise_lang(lang))
        case = await uow.cases.create(
            submitter_id=submitter_id,
            channel=channel,
            reference=await self._unique_reference(uow),
            questionnaire_id=self.q.id,
            questionnaire_version=self.q.version,
            lang=draft.lang,
            draft=draft.model_dump(mode="json"),
            status=lifecycle.DRAFT,
            now=now,
        )
        await uow.audit.record(action="case.created", now=now, actor_kind="submitter", actor_id=submitter_id, case_id=case.id, detail={"channel": channel})
        return case

    def _turn(self, case: CaseRecord | None, outcome: Outcome | None = None, **extra: Any) -> Turn:
        if case is None:
            t = translator(extra.pop("lang", "en"))
            prompt = Prompt(kind="stopped", text=t("To begin a new case, start again."))
            return Turn(None, None, None, prompt, **extra)
        draft = outcome.draft if outcome else self.draft_of(case)
        return Turn(
            case.id,
            case.reference,
            case.status,
            self.views.prompt_after(case, draft) if outcome else self.views.prompt(case),
            ok=outcome.ok if outcome else True,
            error=outcome.error if outcome else None,
            notices=list(outcome.notices) if outcome else [],
            lang=draft.lang,
            **extra,
        )

    # ---- in one transaction (`uow`): the steps `receive` composes ----------------------------

    async def open_in(self, uow: UnitOfWork, channel: str, identity: str, lang: str | None, *, create: bool) -> tuple[str, CaseRecord | None]:
        """The submitter (created on first contact) and their open draft, both locked; a new draft when `create`."""
        return await self._open(uow, channel, identity, lang, create=create)

    def turn_of(self, case: CaseRecord | None, outcome: Outcome | None = None, **extra: Any) -> Turn:
        return self._turn(case, outcome, **extra)

    async def apply_in(self, uow: UnitOfWork, submitter_id: str, case: CaseRecord, action: Action) -> Turn:
        """One engine input to the draft: saved (refused answers write nothing), submitted when asked
        and complete, discarded when the channel is not safe."""
        return await self._apply(uow, submitter_id, case, action)

    async def save_draft_in(self, uow: UnitOfWork, submitter_id: str, case: CaseRecord, draft: Draft, *, answered: int = 0) -> CaseRecord:
        """Write a draft the caller changed (bulk answers, an appended text) and audit the answers."""
        now = self.clock()
        case.draft, case.lang = draft.model_dump(mode="json"), draft.lang
        case = await uow.cases.save(case, now=now)
        if answered:
            await uow.audit.record(action="draft.answered", now=now, actor_kind="submitter", actor_id=submitter_id, case_id=case.id, detail={"count": answered})
        return case

    async def discard_in(self, uow: UnitOfWork, submitter_id: str, case: CaseRecord, *, reason: str) -> None:
        """Delete a draft and everything in it (its key destroyed); the audit keeps that it happened."""
        now = self.clock()
        await uow.cases.delete_draft(case.id, now=now)
        await uow.audit.record(action="case.discarded", now=now, actor_kind="submitter", actor_id=submitter_id, detail={"reason": reason})

    async def submit_in(self, uow: UnitOfWork, submitter_id: str, case: CaseRecord) -> Turn:
        """Submit the draft if nothing required is missing (the `submit` command)."""
        return await self._apply(uow, submitter_id, case, engine.Command("submit"))

    async def language_in(self, uow: UnitOfWork, submitter_id: str, case: CaseRecord | None, lang: str) -> CaseRecord | None:
        """Set the submitter's language, and the open draft's."""
        lang = normalise_lang(lang)
        await uow.submitters.set_lang(submitter_id, lang)
        if case is None:
            return None
        draft = self.draft_of(case).model_copy(update={"lang": lang})
        case.draft, case.lang = draft.model_dump(mode="json"), lang
        return await uow.cases.save(case, now=self.clock())

    async def withdraw_in(self, uow: UnitOfWork, submitter_id: str, reference: str) -> CaseRecord | None:
        """The submitter withdraws one of their cases; None if it is not theirs or already withdrawn."""
        case = await uow.cases.by_reference(normalise_reference(reference), lock=True)
        if case is None or case.submitter_id != submitter_id or case.status in (lifecycle.WITHDRAWN, lifecycle.DRAFT):
            return None
        return await self.shred_in(uow, case, actor_kind="submitter", actor_id=submitter_id)

    async def shred_in(self, uow: UnitOfWork, case: CaseRecord, *, actor_kind: str, actor_id: str | None, reason: str = "withdrawn") -> CaseRecord:
        """Withdraw the case and destroy its content: its data key, files, thread and undelivered
        messages go; a tombstone (reference, dates, channel, status `withdrawn`) and the audit stay."""
        now = self.clock()
        old = case.status
        if old != lifecycle.WITHDRAWN:
            lifecycle.check(case.status, lifecycle.WITHDRAWN)
            case.status = lifecycle.WITHDRAWN
            case.withdrawn_at = now
            case = await uow.cases.save(case, now=now)
        await uow.cases.shred(case.id, now=now)
        await uow.audit.record(action="case.withdrawn", now=now, actor_kind=actor_kind, actor_id=actor_id, case_id=case.id, detail={"from": old, "content": "destroyed", "reason": reason})
        return await uow.cases.get(case.id)

    async def statuses_in(self, uow: UnitOfWork, submitter_id: str) -> list[CaseStatus]:
        return [
            CaseStatus(c.reference, c.status, c.created_at.isoformat(), c.submitted_at.isoformat() if c.submitted_at else None)
            for c in await uow.cases.for_submitter(submitter_id)
        ]

    # ---- conveniences in their own transaction (tests, tools, the terminal's reads) -------------

    async def resume(self, channel: str, identity: str, *, lang: str | None = None) -> Turn:
        """Start a draft for this identity, or return to the one in progress."""
        async with self.store.write() as uow:
            _, case = await self._open(uow, channel, identity, lang, create=True)
            assert case is not None
        return self._turn(case)

    async def current(self, channel: str, identity: str) -> Turn | None:
        """The prompt of the details session in progress, else of the open draft, without changing
        anything; None when there is neither."""
        async with self.store.read() as uow:
            case = await uow.cases.active_of(channel=channel, identity=identity, amendable=AMENDABLE)  # one statement
        if case is None:
            return None
        return self._turn(case, amending=case.status != lifecycle.DRAFT)

    async def act(self, channel: str, identity: str, action: Action, *, lang: str | None = None) -> Turn:
        """Apply one input to the identity's draft in one transaction (creating the draft if none)."""
        async with self.store.write() as uow:
            submitter_id, case = await self._open(uow, channel, identity, lang, create=True)
            assert case is not None
            return await self._apply(uow, submitter_id, case, action)

    async def submit(self, channel: str, identity: str) -> Turn:
        """Submit the open draft if nothing required is missing (same as the `submit` command)."""
        return await self.act(channel, identity, engine.Command("submit"))

    async def collect(self, channel: str, identity: str) -> list[OutboxRecord]:
        """For a channel the submitter pulls from (the terminal): the messages queued for this
        identity, marked delivered in the same transaction (the caller shows them)."""
        async with self.store.write() as uow:
            submitter = await uow.submitters.find(channel=channel, identity=identity)
            if submitter is None:
                return []
            now = self.clock()
            rows = [r for r in await uow.outbox.due(channel=channel, now=now, limit=100) if r.submitter_id == submitter.id]
            for row in rows:
                await uow.outbox.mark_sent(row.id, now=now)
        return rows

    async def open_questions(self, channel: str, identity: str) -> list[dict[str, Any]]:
        """For each of this identity's cases waiting for information: its reference and the
        newest staff follow-up on its thread."""
        out: list[dict[str, Any]] = []
        async with self.store.read() as uow:
            submitter = await uow.submitters.find(channel=channel, identity=identity)
            if submitter is None:
                return []
            for case in await uow.cases.for_submitter(submitter.id):
                if case.status != lifecycle.NEEDS_INFO:
                    continue
                asked = [m for m in await uow.messages.for_case(case.id) if m.direction == "out" and m.kind == "followup"]
                if asked:
                    out.append({"reference": case.reference, "text": asked[-1].body})
        return out

    async def submitter_lang(self, channel: str, identity: str) -> str | None:
        """The language recorded for this identity (first contact or a language choice), if known."""
        async with self.store.read() as uow:
            submitter = await uow.submitters.find(channel=channel, identity=identity)
        return submitter.lang if submitter else None

    async def statuses(self, channel: str, identity: str) -> list[CaseStatus]:
        """The submitter's cases and their statuses."""
        async with self.store.read() as uow:
            submitter = await uow.submitters.find(channel=channel, identity=identity)
            if submitter is None:
                return []
            return await self.statuses_in(uow, submitter.id)

    async def withdraw(self, channel: str, identity: str, reference: str) -> bool:
        """The submitter withdraws one of their cases. False if it is not theirs or already withdrawn."""
        async with self.store.write() as uow:
            submitter = await uow.submitters.find(channel=channel, identity=identity)
            if submitter is None:
                return False
            return await self.withdraw_in(uow, submitter.id, reference) is not None

    # ---- internals -------------------------------------------------------------------------

    async def _apply(self, uow: UnitOfWork, submitter_id: str, case: CaseRecord, action: Action) -> Turn:
        if case.status != lifecycle.DRAFT:  # details added after submission
            return await self.amend_in(uow, submitter_id, case, action)
        now = self.clock()
        before = self.draft_of(case)
        outcome = engine.apply(self.q, before, action)
        if outcome.stopped:
            # the channel is not safe: keep nothing of this draft
            await uow.cases.delete_draft(case.id, now=now)
            await uow.audit.record(action="case.discarded", now=now, actor_kind="submitter", actor_id=submitter_id, detail={"reason": "channel_unsafe"})
            return Turn(None, None, None, engine.next_prompt(self.q, outcome.draft), notices=list(outcome.notices), stopped=True, discarded=True)
        case.draft = outcome.draft.model_dump(mode="json")
        case.lang = outcome.draft.lang
        submitted = False
        if outcome.ready_to_submit:
            await self._submit(uow, case, submitter_id)
            submitted = True
        if submitted or outcome.draft != before:  # a refused answer writes nothing
            case = await uow.cases.save(case, now=now)
            if not submitted:  # what was written is the outcome's draft: its next prompt is known
                self.views.keep(case, outcome.draft)
        if outcome.changed:
            await uow.audit.record(action="draft.answered", now=now, actor_kind="submitter", actor_id=submitter_id, case_id=case.id)
        return self._turn(case, outcome, submitted=submitted)

    async def _submit(self, uow: UnitOfWork, case: CaseRecord, submitter_id: str) -> None:
        now = self.clock()
        lifecycle.check(case.status, lifecycle.SUBMITTED)
        case.status = lifecycle.SUBMITTED
        case.submitted_at = now
        draft = self.draft_of(case)
        draft = draft.model_copy(update={"cursor": None, "mode": "review"})
        case.draft = draft.model_dump(mode="json")
        await uow.audit.record(action="case.submitted", now=now, actor_kind="submitter", actor_id=submitter_id, case_id=case.id)
        await self.alert(uow, kind="staff_alert", case_id=case.id, payload=self.staff_alert(case))

    async def alert(self, uow: UnitOfWork, *, kind: str, case_id: str | None, payload: dict[str, Any]) -> None:
        """Queue a staff alert to every configured destination (ids and facts only, never content)."""
        for channel in self.alert_channels:
            await uow.outbox.enqueue(channel=channel, kind=kind, case_id=case_id, payload=payload, now=self.clock())

    def staff_alert(self, case: CaseRecord) -> dict[str, Any]:
        """What staff are told of a new case: reference and triage facts (abuse forms, countries,
        minors, danger). No names, no narrative, no title."""
        facts = triage_facts(self.q, case.draft.get("answers", {}))
        return {
            "reference": case.reference,
            "case_id": case.id,
            "channel": case.channel,
            "abuse_forms": facts.abuse_forms,
            "countries": facts.countries,
            "victims_minors": facts.minors,
            "danger": facts.danger,
        }
