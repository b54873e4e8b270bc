"""The case service: drafts keyed by channel identity, answers applied through the engine, one
transaction per input, submit/withdraw through the lifecycle. Channels call only this.

Every method that changes anything commits before it returns; a channel acknowledges to the
submitter only after the call returned (so "saved" is never said of something not saved).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from intake import engine, lifecycle
from intake.clock import Clock, utcnow
from intake.engine import Action, Draft, Outcome, Prompt
from intake.i18n import normalise_lang, translator
from intake.questionnaire import FieldType, Questionnaire
from storage.repositories import AttachmentRecord, CaseRecord, UnitOfWork
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
    def __init__(self, store: Store, questionnaire: Questionnaire, *, clock: Clock = utcnow) -> None:
        self.store = store
        self.q = questionnaire
        self.clock = clock

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
            draft = engine.start(normalise_lang(lang or submitter.lang))
            case = await uow.cases.create(
                submitter_id=submitter.id,
                channel=channel,
                reference=await self._unique_reference(uow),
                questionnaire_id=self.q.id,
                questionnaire_version=self.q.version,
                lang=draft.lang,
                draft=draft.model_dump(mode="json"),
                status=lifecycle.DRAFT,
                now=now,
            )
            await uow.audit.record(action="case.created", now=now, actor_kind="submitter", actor_id=submitter.id, case_id=case.id, detail={"channel": channel})
        return submitter.id, case

    def _turn(self, case: CaseRecord | None, outcome: Outcome | None = None, **extra: Any) -> Turn:
        if case is None:
            t = translator(extra.pop("lang", "en"))
            prompt = Prompt(kind="stopped", text=t("Send /start to begin a new case."))
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

    # ---- the conversation --------------------------------------------------------------------

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

    async def act(
        self,
        channel: str,
        identity: str,
        action: Action,
        *,
        lang: str | None = None,
        event_key: str | None = None,
        expect: Callable[[Prompt], bool] | None = None,
    ) -> Turn:
        """Apply one input to the identity's draft in one transaction (creating the draft if none).

        `event_key` (e.g. a Telegram update id) makes it idempotent: an event seen before changes
        nothing and returns the current prompt with `duplicate=True`. `expect` checks, under the
        same lock, that the prompt is still the one the input was meant for (a button pressed on an
        old message); when it is not, nothing changes and the turn has `stale=True`.
        """
        async with self.store.write() as uow:
            submitter_id, case = await self._open(uow, channel, identity, lang, create=True)
            assert case is not None
            if expect is not None and not expect(engine.next_prompt(self.q, self.draft_of(case))):
                turn = self._turn(case)
                turn.stale = True
                return turn
            if event_key is not None:
                if await uow.events.seen(channel=channel, key=event_key) is not None:
                    turn = self._turn(case)
                    turn.duplicate = True
                    return turn
                await uow.events.remember(channel=channel, key=event_key, result={"case": case.id}, now=self.clock(), submitter_id=submitter_id)
            return await self._apply(uow, submitter_id, case, action)

    async def seen_event(self, channel: str, event_key: str) -> bool:
        """Whether this channel event was processed before."""
        async with self.store.read() as uow:
            return await uow.events.seen(channel=channel, key=event_key) is not None

    async def remember_event(self, channel: str, event_key: str, identity: str | None = None) -> bool:
        """Mark an event processed (for events handled outside `act`); False if it already was."""
        async with self.store.write() as uow:
            submitter_id = None
            if identity is not None:
                found = await uow.submitters.find(channel=channel, identity=identity)
                submitter_id = found.id if found else None
            return await uow.events.remember(channel=channel, key=event_key, result={}, now=self.clock(), submitter_id=submitter_id)

    async def set_answers(self, channel: str, identity: str, raw: dict[str, str], *, lang: str | None = None) -> tuple[Turn, dict[str, str | None]]:
        """Bulk answers (an email form): each `path → raw text` through the engine's validation, in
        one transaction. Returns the turn and, per path, None when accepted or the error text.
        Paths are applied in questionnaire order so conditions see earlier answers first."""
        async with self.store.write() as uow:
            submitter_id, case = await self._open(uow, channel, identity, lang, create=True)
            assert case is not None
            draft = self.draft_of(case)
            results: dict[str, str | None] = {}
            notices: list[str] = []
            pending = dict(raw)
            # several passes: an answer can make a later question apply (a condition, a new group
            # instance named by its number), so what did not apply yet is tried again
            for _ in range(8):
                progressed = False
                order = {s.key: i for i, s in enumerate(engine.slots(self.q, draft))}
                for key in sorted(pending, key=lambda k: (order.get(k, len(order)), _natural(k))):
                    outcome = engine.set_answer(self.q, draft, engine.parse_path(key), pending[key])
                    if not outcome.applies:
                        continue
                    pending.pop(key)
                    results[key] = outcome.error
                    if outcome.ok:
                        draft = outcome.draft
                        notices.extend(outcome.notices)
                        progressed = True
                        if draft.stopped:
                            break
                if not pending or not progressed or draft.stopped:
                    break
            for key in pending:
                results[key] = translator(draft.lang)("That question does not apply to this case.")
            now = self.clock()
            if draft.stopped:
                await uow.cases.delete_draft(case.id, now=now)
                await uow.audit.record(action="case.discarded", now=now, actor_kind="submitter", actor_id=submitter_id, detail={"reason": "channel_unsafe"})
                return Turn(None, None, None, engine.next_prompt(self.q, draft), notices=notices, stopped=True, discarded=True), results
            case.draft = draft.model_dump(mode="json")
            case = await uow.cases.save(case, now=now)
            if any(v is None for v in results.values()):
                await uow.audit.record(action="draft.answered", now=now, actor_kind="submitter", actor_id=submitter_id, case_id=case.id, detail={"count": sum(v is None for v in results.values())})
            turn = self._turn(case)
            turn.notices.extend(notices)
        return turn, results

    async def append_text(self, channel: str, identity: str, path: str, more: str) -> Turn:
        """Append `more` to the text answer at `path` (a long answer the channel split in parts),
        validated again by the engine; the position in the questionnaire does not move."""
        async with self.store.write() as uow:
            submitter_id, case = await self._open(uow, channel, identity, None, create=True)
            assert case is not None
            draft = self.draft_of(case)
            present, value = engine.get_value(draft.answers, engine.parse_path(path))
            joined = f"{value}\n{more}" if present and isinstance(value, str) else more
            outcome = engine.set_answer(self.q, draft, engine.parse_path(path), joined)
            if outcome.ok:
                case.draft = outcome.draft.model_dump(mode="json")
                case = await uow.cases.save(case, now=self.clock())
            turn = self._turn(case)
            turn.ok, turn.error = outcome.ok, outcome.error
        return turn

    async def record_channel_message(self, channel: str, identity: str, *, direction: str, ref: dict[str, Any], case_id: str | None = None) -> None:
        """Remember a channel message id (encrypted) so the conversation can be wiped later."""
        async with self.store.write() as uow:
            now = self.clock()
            submitter = await uow.submitters.get_or_create(channel=channel, identity=identity, lang="en", now=now)
            if case_id is None:
                draft = await uow.cases.open_draft(submitter.id)
                case_id = draft.id if draft else None
            await uow.chatlog.add(submitter_id=submitter.id, case_id=case_id, direction=direction, ref=ref, now=now)

    async def keep_message(
        self,
        channel: str,
        identity: str,
        *,
        body: str,
        kind: str,
        external_key: str | None = None,
        files: list[IncomingFile] | None = None,
        lang: str | None = None,
    ) -> Turn:
        """Keep a message the submitter sent while filling in the draft (e.g. an email with a
        narrative and attachments) on the draft's thread, with its files, in one transaction.
        Starts the draft when there is none. The same `external_key` again changes nothing."""
        async with self.store.write() as uow:
            submitter_id, case = await self._open(uow, channel, identity, lang, create=True)
            assert case is not None
            now = self.clock()
            if external_key is None or await uow.messages.case_for_external(external_key) != case.id:
                await uow.messages.add(case_id=case.id, direction="in", channel=channel, kind=kind, body=body, now=now, external_key=external_key)
            for incoming in files or []:
                if incoming.source_key and await uow.attachments.by_source(case.id, incoming.source_key):
                    continue
                record = await uow.attachments.add(
                    case_id=case.id, filename=incoming.filename, data=incoming.data, now=now, source=channel,
                    content_type=incoming.content_type, sniffed_type=incoming.sniffed_type, executable=incoming.executable,
                    source_key=incoming.source_key,
                )
                await uow.audit.record(action="attachment.added", now=now, actor_kind="submitter", actor_id=submitter_id,
                                       case_id=case.id, detail={"attachment": record.id, "executable": incoming.executable})
        return self._turn(case)

    async def take_followups(self, channel: str, identity: str) -> list[dict[str, Any]]:
        """Staff follow-ups waiting for this identity on a channel that shows them when the
        submitter comes back (the terminal): returned and marked delivered in one transaction."""
        async with self.store.write() as uow:
            submitter = await uow.submitters.find(channel=channel, identity=identity)
            if submitter is None:
                return []
            now = self.clock()
            rows = [r for r in await uow.outbox.due(channel=channel, now=now, limit=100) if r.submitter_id == submitter.id]
            for row in rows:
                await uow.outbox.mark_sent(row.id, now=now)
        return [{"reference": r.payload.get("reference"), "text": r.payload.get("text", ""), "kind": r.kind} for r in rows]

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

    async def is_submitter_of(self, channel: str, identity: str, case_id: str) -> bool:
        """Whether this channel identity submitted the case."""
        async with self.store.read() as uow:
            submitter = await uow.submitters.find(channel=channel, identity=identity)
            if submitter is None:
                return False
            return any(c.id == case_id for c in await uow.cases.for_submitter(submitter.id))

    async def submit(self, channel: str, identity: str) -> Turn:
        """Submit the open draft if nothing required is missing (same as the `submit` command)."""
        return await self.act(channel, identity, engine.Command("submit"))

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
        await uow.outbox.enqueue(channel="staff", kind="staff_alert", case_id=case.id, payload=self.staff_alert(case), now=now)

    def staff_alert(self, case: CaseRecord) -> dict[str, Any]:
        """What staff are told of a new case: reference, abuse forms, countries. No names, no narrative."""
        answers = case.draft.get("answers", {})
        countries: list[str] = []
        for loc in answers.get("abuse_locations") or []:
            code = loc.get("loc_country")
            if code and code not in countries:
                countries.append(code)
        return {
            "reference": case.reference,
            "case_id": case.id,
            "channel": case.channel,
            "abuse_forms": list(answers.get("abuse_forms") or []),
            "countries": countries,
            "victims_minors": answers.get("victims_minors"),
        }

    async def set_language(self, channel: str, identity: str, lang: str) -> Turn:
        lang = normalise_lang(lang)
        async with self.store.write() as uow:
            submitter_id, case = await self._open(uow, channel, identity, lang, create=True)
            assert case is not None
            await uow.submitters.set_lang(submitter_id, lang)
            draft = self.draft_of(case).model_copy(update={"lang": lang})
            case.draft, case.lang = draft.model_dump(mode="json"), lang
            case = await uow.cases.save(case, now=self.clock())
        return self._turn(case)

    async def add_file(
        self,
        channel: str,
        identity: str,
        *,
        filename: str,
        data: bytes,
        content_type: str | None = None,
        source_key: str | None = None,
        sniffed_type: str | None = None,
        executable: bool = False,
    ) -> tuple[Turn, AttachmentRecord]:
        """Store a file on the open draft: as the answer to the current files question when one is
        asked, otherwise as extra evidence on the case. Same file (same `source_key`) twice: once."""
        async with self.store.write() as uow:
            submitter_id, case = await self._open(uow, channel, identity, None, create=True)
            assert case is not None
            now = self.clock()
            draft = self.draft_of(case)
            slot = engine.current_slot(self.q, draft)
            on_question = slot is not None and slot.kind == "question" and getattr(slot.item, "type", None) == FieldType.FILES
            existing = await uow.attachments.by_source(case.id, source_key) if source_key else None
            record = existing or await uow.attachments.add(
                case_id=case.id,
                filename=filename,
                data=data,
                now=now,
                source=channel,
                content_type=content_type,
                sniffed_type=sniffed_type,
                executable=executable,
                question_path=slot.key if on_question and slot else None,
                source_key=source_key,
            )
            await uow.audit.record(action="attachment.added", now=now, actor_kind="submitter", actor_id=submitter_id, case_id=case.id, detail={"attachment": record.id})
            if on_question:
                turn = await self._apply(uow, submitter_id, case, engine.AddFile(record.id))
            else:
                turn = self._turn(case)
                turn.notices.append(translator(draft.lang)("Thank you. The file is saved with your case as extra evidence."))
        return turn, record

    async def discard_draft(self, channel: str, identity: str) -> bool:
        """`/cancel`: delete the open draft and everything in it. False when there was none."""
        async with self.store.write() as uow:
            submitter = await uow.submitters.find(channel=channel, identity=identity)
            if submitter is None:
                return False
            await uow.submitters.lock(submitter.id)
            case = await uow.cases.open_draft(submitter.id, lock=True)
            if case is None:
                return False
            now = self.clock()
            await uow.cases.delete_draft(case.id, now=now)
            await uow.audit.record(action="case.discarded", now=now, actor_kind="submitter", actor_id=submitter.id, detail={"reason": "cancelled"})
        return True

    async def statuses(self, channel: str, identity: str) -> list[CaseStatus]:
        """The submitter's cases and their statuses."""
        async with self.store.read() as uow:
            submitter = await uow.submitters.find(channel=channel, identity=identity)
            if submitter is None:
                return []
            cases = await uow.cases.for_submitter(submitter.id)
        return [
            CaseStatus(c.reference, c.status, c.created_at.isoformat(), c.submitted_at.isoformat() if c.submitted_at else None)
            for c in cases
        ]

    async def withdraw(self, channel: str, identity: str, reference: str) -> bool:
        """The submitter withdraws one of their cases. False if it is not theirs or already withdrawn."""
        ref = normalise_reference(reference)
        async with self.store.write() as uow:
            submitter = await uow.submitters.find(channel=channel, identity=identity)
            if submitter is None:
                return False
            case = await uow.cases.by_reference(ref, lock=True)
            if case is None or case.submitter_id != submitter.id or case.status == lifecycle.WITHDRAWN:
                return False
            now = self.clock()
            old = case.status
            lifecycle.check(case.status, lifecycle.WITHDRAWN)
            case.status = lifecycle.WITHDRAWN
            case.withdrawn_at = now
            await uow.cases.save(case, now=now)
            await uow.audit.record(action="case.withdrawn", now=now, actor_kind="submitter", actor_id=submitter.id, case_id=case.id, detail={"from": old})
        return True

    async def submitter_reply(
        self,
        channel: str,
        identity: str,
        *,
        body: str,
        reference: str | None = None,
        external_key: str | None = None,
        files: list[IncomingFile] | None = None,
    ) -> CaseRecord | None:
        """A submitter's message outside the questionnaire (e.g. an answer to a staff follow-up).

        `files` are stored on the case in the same transaction — but only when the sender is the
        case's submitter (an unverified sender's files are not kept; the thread says they came).

        It lands on the thread of the named case (or the submitter's newest case waiting for
        information, else their newest submitted case). A case that waited for information
        returns to the queue (`needs_info → submitted`). A message naming a case of another
        submitter is kept on that case as *unverified* and changes nothing else. Returns the case,
        or None when there is no case to attach it to.
        """
        async with self.store.write() as uow:
            now = self.clock()
            submitter = await uow.submitters.get_or_create(channel=channel, identity=identity, lang="en", now=now)
            await uow.submitters.lock(submitter.id)
            case: CaseRecord | None = None
            if reference:
                case = await uow.cases.by_reference(normalise_reference(reference), lock=True)
            if case is None:
                mine = [c for c in await uow.cases.for_submitter(submitter.id) if c.status != lifecycle.DRAFT]
                waiting = [c for c in mine if c.status == lifecycle.NEEDS_INFO]
                open_ = [c for c in mine if c.status in lifecycle.OPEN_FOR_SUBMITTER]
                candidates = waiting or open_
                case = await uow.cases.get(candidates[-1].id, lock=True) if candidates else None
            if case is None:
                return None
            verified = case.submitter_id == submitter.id
            if external_key is not None and await uow.messages.case_for_external(external_key) == case.id:
                return case  # the same message again (a redelivery, a retried inbox row): already on the thread
            await uow.messages.add(
                case_id=case.id, direction="in", channel=channel, kind="reply", body=body, now=now,
                verified=verified, external_key=external_key,
            )
            detail: dict[str, Any] = {"verified": verified}
            if verified:
                for incoming in files or []:
                    existing = await uow.attachments.by_source(case.id, incoming.source_key) if incoming.source_key else None
                    record = existing or await uow.attachments.add(
                        case_id=case.id, filename=incoming.filename, data=incoming.data, now=now, source=channel,
                        content_type=incoming.content_type, sniffed_type=incoming.sniffed_type, executable=incoming.executable,
                        source_key=incoming.source_key,
                    )
                    detail.setdefault("attachments", []).append(record.id)
            if verified and case.status == lifecycle.NEEDS_INFO:
                case.status = lifecycle.SUBMITTED
                case = await uow.cases.save(case, now=now)
                detail["requeued"] = True
                await uow.outbox.enqueue(channel="staff", kind="reply_alert", case_id=case.id, payload={"reference": case.reference, "case_id": case.id}, now=now)
            await uow.audit.record(action="thread.reply", now=now, actor_kind="submitter", actor_id=submitter.id, case_id=case.id, detail=detail)
        return case
