"""The case service: drafts keyed by channel identity, answers applied through the engine, one
transaction per input, submit/withdraw through the lifecycle. Channels call only this.

Every method that changes anything commits before it returns; a channel acknowledges to the
submitter only after the call returned (so "saved" is never said of something not saved).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from intake import engine, lifecycle
from intake.clock import Clock, utcnow
from intake.engine import Action, Draft, Outcome, Prompt
from intake.i18n import normalise_lang, translator
from intake.questionnaire import FieldType, Questionnaire
from intake.staffnotify import notify_staff
from intake.triage import triage_facts
from storage.repositories import AttachmentRecord, CaseRecord, OutboxRecord, UnitOfWork
from storage.store import Store

log = logging.getLogger(__name__)

REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U
REF_PATTERN = r"HT-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}"


def new_reference() -> str:
    chars = "".join(secrets.choice(REF_ALPHABET) for _ in range(8))
    return f"HT-{chars[:4]}-{chars[4:]}"


def normalise_reference(text: str) -> str:
    """Accept `ht-7k3m-q9tx`, `HT 7K3M Q9TX`, `HT7K3MQ9TX`; map look-alikes O→0-free alphabet."""
    compact = "".join(ch for ch in text.upper() if ch.isalnum())
    if compact.startswith("HT"):
        compact = compact[2:]
    compact = compact.replace("O", "0").replace("I", "1").replace("L", "1")
    return f"HT-{compact[:4]}-{compact[4:8]}" if len(compact) == 8 else text.strip().upper()


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


@dataclass
class CaseStatus:
    reference: str
    status: str
    created_at: str
    submitted_at: str | None


class CaseService:
    def __init__(self, store: Store, questionnaire: Questionnaire, *, clock: Clock = utcnow, alert_channels: list[str] | None = None) -> None:
        self.store = store
        self.q = questionnaire
        self.clock = clock
        # where staff alerts go: one outbox row per destination (see intake.channels.STAFF_CHANNELS)
        self.alert_channels = list(alert_channels or [])

    # ---- helpers -----------------------------------------------------------------------------

    @staticmethod
    def draft_of(case: CaseRecord) -> Draft:
        return Draft.model_validate(case.draft)

    async def _unique_reference(self, uow: UnitOfWork) -> str:
        for _ in range(20):
            ref = new_reference()
            if not await uow.cases.reference_exists(ref):
                return ref
        raise RuntimeError("could not find a free case reference")  # 30^8 space: practically never

    async def _open(self, uow: UnitOfWork, channel: str, identity: str, lang: str | None, *, create: bool) -> tuple[str, CaseRecord | None]:
        now = self.clock()
        submitter = await uow.submitters.get_or_create(channel=channel, identity=identity, lang=normalise_lang(lang), now=now)
        await uow.submitters.lock(submitter.id)
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
            engine.next_prompt(self.q, draft),
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
                source_key=incoming.source_key, message_id=message_id,
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
        """The open draft's prompt without changing anything; None when there is no draft."""
        async with self.store.read() as uow:
            submitter = await uow.submitters.find(channel=channel, identity=identity)
            if submitter is None:
                return None
            case = await uow.cases.open_draft(submitter.id)
        return self._turn(case) if case else None

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
