"""`receive`: one inbound input → its final state, in ONE transaction.

Find the case (reference, thread keys, open draft), keep the message and files, apply the answers
through the engine, submit when asked, audit, queue every reply (rendered by the channel, purely)
and every staff alert in the outbox, remember the input's key and mark its inbox row done. A crash
anywhere rolls all of it back, so the row is simply processed again: nothing is doubled, nothing is
half-saved. Every channel comes through here; none has a private door into the core.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

from intake import engine, inbox, lifecycle
from intake.case_details import AMENDABLE
from intake.cases import CaseService, IncomingFile
from intake.channels import Renderer
from intake.clock import Clock
from intake.forms import append_text, apply_form, land_on_case
from intake.i18n import normalise_lang
from intake.inbound import Inbound, Intent, Result
from intake.sanitise import clean_copy
from storage.repositories import CaseRecord, UnitOfWork
from storage.store import Store

log = logging.getLogger(__name__)

AUTOREPLY_KINDS = ["form", "ack"]
OWNER_WARNING = "owner_warning"  # the outbox kind a channel queues for `Result.warn_owner`  # what a channel sends without a human, for the hourly limits

Fault = Callable[[str], None]
"""A test hook called between the steps of receive (`found`, `kept`, `applied`, `queued`,
`done`); raising there must leave no trace."""


class Receiver:
    """The one way in. `wake` is called after each commit that queued something (the delivery worker)."""

    def __init__(
        self, store: Store, cases: CaseService, *, clock: Clock, autoreply_per_hour: int = 5,
        first_contact_per_hour: int = 200, wake: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.cases = cases
        self.q = cases.q
        self.clock = clock
        self.autoreply_per_hour = autoreply_per_hour
        self.first_contact_per_hour = first_contact_per_hour
        self.wakers: list[Callable[[], None]] = [wake] if wake else []
        self.fault: Fault | None = None
        # called after the commit of an input that submitted a case or changed a submitted one
        # (e.g. casework's screening, registered by the composition root); failures are logged
        self.listeners: list[Callable[[Result], Awaitable[None]]] = []

    def _step(self, name: str) -> None:
        if self.fault is not None:
            self.fault(name)

    async def receive(self, channel: str, identity: str, inbound: Inbound, *, render: Renderer, inbox_id: str | None = None) -> Result:
        """Apply `inbound` from `identity` on `channel` and queue what `render` makes of the result,
        all in one transaction; then mark the inbox row (if any) done. An input whose key or inbox
        row was seen before changes nothing and queues nothing (`duplicate`)."""
        result = await self._receive(channel, identity, inbound, render=render, inbox_id=inbox_id)
        if inbox_id is not None:  # committed: the inbox worker need not look at the row again
            inbox.finished(inbox_id)
        return result

    async def _receive(self, channel: str, identity: str, inbound: Inbound, *, render: Renderer, inbox_id: str | None) -> Result:
        queued = 0
        if inbound.files:  # outside the transaction: cleaning a big photo takes a while
            inbound = replace(inbound, files=[await clean_file(f) for f in inbound.files])
        async with self.store.write() as uow:
            now = self.clock()
            if inbox_id is not None and await uow.inbox.status_of(inbox_id, lock=True) != "new":
                return Result(inbound, duplicate=True)
            if inbound.key is not None and await uow.events.seen(channel=channel, key=inbound.key) is not None:
                result = Result(inbound, duplicate=True)
            else:
                submitter = await uow.submitters.enter(channel=channel, identity=identity, lang=normalise_lang(inbound.lang), now=now)
                result = await self._dispatch(uow, channel, submitter.id, submitter.lang, inbound)
                if inbound.auth is not None:  # what the relay found of the sender, for staff (no content)
                    await uow.audit.record(action="message.authentication", now=now, actor_kind="submitter", actor_id=submitter.id,
                                           case_id=result.case_id, detail={**inbound.auth, "verified": result.verified})
                self._step("applied")
                if inbound.chat_ref is not None:  # the input's own chat message, for wiping the chat later
                    await uow.chatlog.add(submitter_id=submitter.id, case_id=result.case_id, direction="in", ref=inbound.chat_ref, now=now)
                if inbound.key is not None:
                    await uow.events.remember(channel=channel, key=inbound.key, result={"case": result.case_id}, now=now, submitter_id=submitter.id)
                outgoing = [(out.kind, out.payload) for out in render(result)]
                queued = len(await uow.outbox.enqueue_many(outgoing, channel=channel, now=now, case_id=result.case_id, submitter_id=submitter.id))
                self._step("queued")
            if inbox_id is not None:
                await uow.inbox.mark_done(inbox_id, now=now, case_id=result.case_id)
            self._step("done")
        if queued or result.submitted or result.requeued:
            for wake in self.wakers:
                wake()
        if not result.duplicate and (result.submitted or result.threaded) and result.reference:
            await self._tell_listeners(result)
        return result

    async def _tell_listeners(self, result: Result) -> None:
        for listener in self.listeners:
            try:
                await listener(result)
            except Exception as exc:  # noqa: BLE001 - the input is committed; a listener's failure must not undo or repeat it
                log.warning("after case %s changed, a listener failed (%s)", result.case_id, type(exc).__name__)

    # ---- dispatch ------------------------------------------------------------------------------

    async def _dispatch(self, uow: UnitOfWork, channel: str, submitter_id: str, lang: str, inbound: Inbound) -> Result:
        handler = {
            Intent.START: self._start, Intent.RESUME: self._resume, Intent.STEP: self._stepped, Intent.TEXT: self._text,
            Intent.APPEND: self._append, Intent.FILE: self._file, Intent.FORM: self._form, Intent.MESSAGE: self._message,
            Intent.LANGUAGE: self._language, Intent.DISCARD: self._discard, Intent.WITHDRAW: self._withdraw,
            Intent.NOTICE: self._notice, Intent.IGNORE: self._ignore,
        }[inbound.intent]
        result = await handler(uow, channel, submitter_id, inbound)
        if result.turn is not None and result.turn.case_id is not None:
            result.case_id = result.case_id or result.turn.case_id
            result.reference = result.reference or result.turn.reference
            result.status = result.status or result.turn.status
            result.lang = result.turn.lang
        elif result.lang == "en":
            result.lang = lang
        return result

    def _with_case(self, result: Result, case: CaseRecord | None) -> Result:
        if case is not None:
            result.case_id, result.reference, result.status, result.lang = case.id, case.reference, case.status, case.lang
        return result

    async def _start(self, uow: UnitOfWork, channel: str, submitter_id: str, inbound: Inbound) -> Result:
        amending = await self.cases.amending_in(uow, submitter_id)
        if amending is not None:  # a details round on a submitted case is in progress: back to it
            return Result(inbound, turn=self.cases.turn_of(amending, amending=True))
        existing = await uow.cases.open_draft(submitter_id, lock=True)
        case = existing or await self._new_draft(uow, channel, submitter_id, inbound.lang)
        self._step("found")
        return Result(inbound, turn=self.cases.turn_of(case), fresh=existing is None)

    async def _new_draft(self, uow: UnitOfWork, channel: str, submitter_id: str, lang: str | None) -> CaseRecord:
        submitter = await uow.submitters.get(submitter_id)
        return await self.cases.create_in(uow, channel, submitter_id, lang or submitter.lang)

    async def _resume(self, uow: UnitOfWork, channel: str, submitter_id: str, inbound: Inbound) -> Result:
        case = await self.cases.amending_in(uow, submitter_id) or await uow.cases.open_draft(submitter_id)
        return Result(inbound, turn=self.cases.turn_of(case) if case else None)

    async def _open_case(self, uow: UnitOfWork, submitter_id: str, action: engine.Action | None = None) -> CaseRecord | None:
        """The case an answer goes to: a submitted case's details session in progress, else the open
        draft; `details` with no draft begun goes to the newest submitted case with details left."""
        case = await uow.cases.active(submitter_id, AMENDABLE, lock=True)  # a details session first, else the draft
        return await self._retarget(uow, submitter_id, case, action)

    async def _retarget(self, uow: UnitOfWork, submitter_id: str, case: CaseRecord | None, action: engine.Action | None) -> CaseRecord | None:
        if case is not None and case.status != lifecycle.DRAFT:
            return case
        if isinstance(action, engine.Command) and action.name == "details" and (case is None or not self.cases.draft_of(case).answers):
            return await self.cases.details_case_in(uow, submitter_id) or case
        return case

    async def _stepped(self, uow: UnitOfWork, channel: str, submitter_id: str, inbound: Inbound) -> Result:
        if inbound.action is None:
            return await self._resolved(uow, submitter_id, inbound)
        case = await self._open_case(uow, submitter_id, inbound.action)
        if case is None:
            if isinstance(inbound.action, engine.Command) and inbound.action.name == "review":
                return Result(inbound)  # nothing to review: the channel says so
            case = await self._new_draft(uow, channel, submitter_id, inbound.lang)
        self._step("found")
        asked = self.cases.views.prompt(case)
        if inbound.expect is not None and not inbound.expect(asked):
            return self._stale(inbound, case)
        turn = await self.cases.apply_in(uow, submitter_id, case, inbound.action)
        return Result(inbound, turn=turn, submitted=turn.submitted, case_id=turn.case_id, asked=asked)

    async def _resolved(self, uow: UnitOfWork, submitter_id: str, inbound: Inbound) -> Result:
        """A STEP whose action the channel decides from the prompt the chat is on (a button press),
        here under the chat's lock: no case open → no turn; a press that means nothing → stale."""
        assert inbound.resolve is not None
        found = await uow.cases.active(submitter_id, AMENDABLE, lock=True)
        if found is None:
            return Result(inbound)
        asked = self.cases.views.prompt(found)
        action = inbound.resolve(asked, found.lang)
        if action is None:
            return self._stale(inbound, found)
        case = await self._retarget(uow, submitter_id, found, action)
        assert case is not None
        if case is not found:  # `details` went on to a submitted case: the press must fit its prompt too
            asked = self.cases.views.prompt(case)
            action = inbound.resolve(asked, case.lang)
            if action is None:
                return self._stale(inbound, case)
        self._step("found")
        turn = await self.cases.apply_in(uow, submitter_id, case, action)
        return Result(inbound, turn=turn, submitted=turn.submitted, case_id=turn.case_id, asked=asked)

    def _stale(self, inbound: Inbound, case: CaseRecord) -> Result:
        turn = self.cases.turn_of(case)
        turn.stale = True
        return Result(inbound, turn=turn)

    async def _text(self, uow: UnitOfWork, channel: str, submitter_id: str, inbound: Inbound) -> Result:
        """An answer to the open draft, or — with a case named, or no draft open — a message on a case thread."""
        case = None if inbound.reference else await self._open_case(uow, submitter_id)
        if case is None:
            return await self._message(uow, channel, submitter_id, inbound)
        self._step("found")
        asked = self.cases.views.prompt(case)
        turn = await self.cases.apply_in(uow, submitter_id, case, engine.Answer(inbound.text or ""))
        return Result(inbound, turn=turn, submitted=turn.submitted, asked=asked)

    async def _append(self, uow: UnitOfWork, channel: str, submitter_id: str, inbound: Inbound) -> Result:
        case = await uow.cases.open_draft(submitter_id, lock=True)
        if case is None or inbound.path is None:
            return await self._message(uow, channel, submitter_id, inbound)
        outcome = append_text(self.q, self.cases.draft_of(case), inbound.path, inbound.text or "")
        if outcome.ok:
            case = await self.cases.save_draft_in(uow, submitter_id, case, outcome.draft)
        turn = self.cases.turn_of(case)
        turn.ok, turn.error = outcome.ok, outcome.error
        return Result(inbound, turn=turn)

    async def _file(self, uow: UnitOfWork, channel: str, submitter_id: str, inbound: Inbound) -> Result:
        assert len(inbound.files) == 1
        case = None if inbound.reference else await uow.cases.open_draft(submitter_id, lock=True)
        if case is None:
            return await self._message(uow, channel, submitter_id, inbound)
        self._step("found")
        turn, record = await self.cases.file_in(uow, submitter_id, case, inbound.files[0], channel=channel)
        self._step("kept")
        return Result(inbound, turn=turn, attachment=record, attachments=1, submitted=turn.submitted)

    async def _message(self, uow: UnitOfWork, channel: str, submitter_id: str, inbound: Inbound) -> Result:
        """A message outside the questionnaire onto the thread of the case it names (or the
        submitter's waiting / newest open case). Unverified when it names someone else's case."""
        case = await self._thread_case(uow, submitter_id, inbound)
        if case is None:
            return Result(inbound, no_case=True)
        self._step("found")
        case, verified, requeued, kept = await self.cases.reply_in(
            uow, submitter_id, case, channel=channel, body=inbound.text or "", external_key=inbound.external_key, files=inbound.files,
        )
        self._step("kept")
        result = Result(inbound, threaded=True, verified=verified, requeued=requeued, attachments=kept)
        self._with_case(result, case)
        if not verified:
            result.case_id = None  # replies to an impostor are never encrypted under (or linked to) the case
        return result

    async def _thread_case(self, uow: UnitOfWork, submitter_id: str, inbound: Inbound) -> CaseRecord | None:
        if inbound.reference:
            return await self.cases.thread_case_in(uow, submitter_id, inbound.reference)
        for key in reversed(inbound.thread_keys):
            case_id = await uow.messages.case_for_external(key)  # the thread, else what we sent
            if case_id is not None:
                try:
                    return await uow.cases.get(case_id, lock=True)
                except LookupError:
                    continue
        return await self.cases.thread_case_in(uow, submitter_id, None)

    async def _language(self, uow: UnitOfWork, channel: str, submitter_id: str, inbound: Inbound) -> Result:
        assert inbound.text is not None
        case = await uow.cases.open_draft(submitter_id, lock=True)
        case = await self.cases.language_in(uow, submitter_id, case, inbound.text)
        result = Result(inbound, turn=self.cases.turn_of(case) if case else None, done=True)
        result.lang = normalise_lang(inbound.text)
        return result

    async def _discard(self, uow: UnitOfWork, channel: str, submitter_id: str, inbound: Inbound) -> Result:
        case = await uow.cases.open_draft(submitter_id, lock=True)
        if case is None:
            return Result(inbound)
        await self.cases.discard_in(uow, submitter_id, case, reason="cancelled")
        return Result(inbound, done=True)

    async def _withdraw(self, uow: UnitOfWork, channel: str, submitter_id: str, inbound: Inbound) -> Result:
        if inbound.proven is not None:  # a channel that cannot authenticate its sender must prove the case
            named = await uow.cases.by_reference((inbound.reference or "").upper())
            if named is None or named.id not in inbound.proven:
                return Result(inbound, reference=inbound.reference, statuses=await self.cases.statuses_in(uow, submitter_id))
        case = await self.cases.withdraw_in(uow, submitter_id, inbound.reference or "")
        result = self._with_case(Result(inbound, done=case is not None, reference=inbound.reference), case)
        result.case_id = None  # the content's key is gone: the confirmation is queued under a key of its own
        result.statuses = await self.cases.statuses_in(uow, submitter_id)
        return result

    async def _notice(self, uow: UnitOfWork, channel: str, submitter_id: str, inbound: Inbound) -> Result:
        case = await uow.cases.open_draft(submitter_id)
        return Result(inbound, turn=self.cases.turn_of(case) if case else None, statuses=await self.cases.statuses_in(uow, submitter_id))

    async def _ignore(self, uow: UnitOfWork, channel: str, submitter_id: str, inbound: Inbound) -> Result:
        return Result(inbound)

    # ---- a message with bulk answers (an email form) -------------------------------------------

    async def _form(self, uow: UnitOfWork, channel: str, submitter_id: str, inbound: Inbound) -> Result:
        """The guided flow for a message carrying a form: threaded to its case; machine mail changes
        nothing; a message on someone else's case is kept unverified; on a submitted case it lands on
        the thread; otherwise the draft (created on first contact) keeps the message and files, takes
        the answers, and is submitted when asked and complete."""
        named = await self._named_case(uow, inbound)
        draft_case = await uow.cases.open_draft(submitter_id, lock=True)
        case = named or draft_case
        self._step("found")
        if inbound.automated is not None:
            result = Result(inbound)
            return self._with_case(result, case) if case is not None and case.submitter_id == submitter_id else result
        if inbound.proven is not None and case is not None and case.submitter_id == submitter_id and case.id not in inbound.proven:
            return await self._unproven(uow, channel, submitter_id, case, inbound)
        if case is not None and (case.submitter_id != submitter_id or case.status != lifecycle.DRAFT):
            result = await self._message(uow, channel, submitter_id, replace(inbound, reference=case.reference))
            if inbound.answers and result.verified and result.case_id == case.id and result.status in lifecycle.OPEN_FOR_SUBMITTER:
                return await self._answers_on_case(uow, submitter_id, case.id, inbound, result)
            return result
        fresh = case is None
        if case is None and inbound.forged:  # a forged sender starts nothing (and gets no reply)
            return Result(inbound, verified=False)
        if case is None:
            if await self._first_contact_limited(uow, channel, submitter_id):
                return Result(inbound, limited=True)
            case = await self._new_draft(uow, channel, submitter_id, inbound.lang)
        if inbound.lang_chosen and inbound.lang and case.lang != normalise_lang(inbound.lang):
            case = await self.cases.language_in(uow, submitter_id, case, inbound.lang) or case
        kept = []
        if (inbound.text or "").strip() or inbound.files:  # whatever the message said is kept on the draft
            kept = await self.cases.keep_in(
                uow, submitter_id, case, channel=channel, body=inbound.text or "", kind="first_message" if fresh else "reply",
                external_key=inbound.external_key, files=inbound.files,
            )
        self._step("kept")
        kept_ids = {a.id for a in kept}
        files = [(a.filename, a.id) for a in kept] + [(a.filename, a.id) for a in await uow.attachments.for_case(case.id) if a.id not in kept_ids]
        draft, results, notices = apply_form(self.q, self.cases.draft_of(case), inbound.answers, files=files)
        if draft.stopped:
            await self.cases.discard_in(uow, submitter_id, case, reason="channel_unsafe")
            return Result(inbound, notices=notices, done=True)
        accepted = sum(v is None for v in results.values())
        if results:
            case = await self.cases.save_draft_in(uow, submitter_id, case, draft, answered=accepted)
        result = Result(inbound, fresh=fresh, results=results, notices=notices, attachments=len(kept), draft=draft)
        if inbound.submit and not engine.essential_missing(self.q, draft):
            turn = await self.cases.submit_in(uow, submitter_id, case)
            result.submitted = turn.submitted
            result.turn = turn
        else:
            result.turn = self.cases.turn_of(case)
        self._with_case(result, case)  # the record as last written (no re-read)
        if result.turn.status is not None:
            result.status = result.turn.status
        return result

    async def _answers_on_case(self, uow: UnitOfWork, submitter_id: str, case_id: str, inbound: Inbound, result: Result) -> Result:
        """Form answers on the submitter's own submitted case (kept on the thread just before):
        they land on the case with their history (`intake.forms.land_on_case`)."""
        case = await uow.cases.get(case_id, lock=True)
        files = [(a.filename, a.id) for a in reversed(await uow.attachments.for_case(case.id))]
        case, result.results, notices = await land_on_case(
            uow, self.q, now=self.clock(), submitter_id=submitter_id, case=case, raw=inbound.answers, files=files,
        )
        result.notices.extend(notices)
        return self._with_case(result, case)

    async def _unproven(self, uow: UnitOfWork, channel: str, submitter_id: str, case: CaseRecord, inbound: Inbound) -> Result:
        """A message that reached the submitter's case only by the sender's identity (e.g. a forged
        `From:`): kept on the case as unverified (its files not stored), nothing else changes; the
        owner is warned at their own address, once per case."""
        await self.cases.keep_in(
            uow, submitter_id, case, channel=channel, body=inbound.text or "", kind="reply", external_key=inbound.external_key,
            files=inbound.files, verified=False,
        )
        self._step("kept")
        await uow.audit.record(action="message.unproven", now=self.clock(), actor_kind="submitter", actor_id=submitter_id, case_id=case.id)
        warned = await uow.outbox.count_since(channel=channel, kinds=[OWNER_WARNING], since=case.created_at, submitter_id=submitter_id)
        result = Result(inbound, verified=False, warn_owner=warned == 0)
        return self._with_case(result, case)

    async def _named_case(self, uow: UnitOfWork, inbound: Inbound) -> CaseRecord | None:
        if inbound.reference:
            case = await uow.cases.by_reference(inbound.reference.upper(), lock=True)
            if case is not None:
                return case
        for key in reversed(inbound.thread_keys):
            case_id = await uow.messages.case_for_external(key)  # the thread, else what we sent
            if case_id is not None:
                try:
                    return await uow.cases.get(case_id, lock=True)
                except LookupError:
                    continue
        return None

    async def _first_contact_limited(self, uow: UnitOfWork, channel: str, submitter_id: str) -> bool:
        """Unsolicited first contact is answered at most `autoreply_per_hour` times per sender and
        `first_contact_per_hour` times in all (bounds backscatter to forged senders)."""
        since = self.clock() - timedelta(hours=1)
        await uow.outbox.lock_counts()
        mine, everyone = await uow.outbox.counts_since(channel=channel, since=since, submitter_id=submitter_id, mine=AUTOREPLY_KINDS, everyone=["form"])
        return mine >= self.autoreply_per_hour or everyone >= self.first_contact_per_hour


async def clean_file(incoming: IncomingFile) -> IncomingFile:
    """The file with a copy stripped of its metadata (EXIF/GPS, PDF and Office authors), made in a
    worker thread; a type we cannot clean keeps no copy (staff then get the original)."""
    if incoming.clean is not None:
        return incoming
    cleaned = await asyncio.to_thread(clean_copy, incoming.data, filename=incoming.filename, sniffed_type=incoming.sniffed_type)
    if not cleaned.changed:
        return incoming
    return replace(incoming, clean=cleaned.data, clean_removed=tuple(cleaned.removed))

