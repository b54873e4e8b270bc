"""The case service's steps for details added after submission (essentials first, details later).

A submitted case keeps its draft. `/details` (any channel) opens a *details session* on the
submitter's newest open case with details left (`Draft.amending`); until the session ends, the
submitter's inputs go to that case (`amending_in`), through the same engine. Every answer stored
lands on the case with history: a thread message (kind `details`, "label: value", the path kept
with it) and an audit record; a case waiting for information goes back to the queue with the first
answer (as a reply would). Each step runs in the caller's transaction (`receive`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from intake import engine, lifecycle
from intake.questionnaire import Question, Questionnaire
from storage.repositories import CaseRecord, UnitOfWork
from storage.store import Store

if TYPE_CHECKING:
    from intake.cases import Turn
    from intake.clock import Clock
    from intake.engine import Action, Draft

DETAILS_KIND = "details"  # the thread message kind of an answer added after submission
AMENDABLE = [s for s in lifecycle.OPEN_FOR_SUBMITTER if s != lifecycle.DRAFT]


def _flat(q: Questionnaire, answers: dict[str, Any]) -> dict[str, tuple[Question, Any]]:
    """Every stored answer by path, with its question."""
    items = q.items_by_id()
    out: dict[str, tuple[Question, Any]] = {}

    def walk(scope: dict[str, Any], prefix: tuple[str | int, ...]) -> None:
        for key, value in scope.items():
            item = items.get(key)
            if isinstance(item, Question):
                out[engine.path_key(prefix + (key,))] = (item, value)
            elif item is not None and isinstance(value, list):
                for i, instance in enumerate(value):
                    if isinstance(instance, dict):
                        walk(instance, prefix + (key, i))

    walk(answers, ())
    return out


def changed_answers(q: Questionnaire, before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Question, Any]]:
    """(path, question, new value) of every answer that is new or different in `after`."""
    old, new = _flat(q, before), _flat(q, after)
    return [(path, question, value) for path, (question, value) in new.items() if path not in old or old[path][1] != value]


class DetailSteps:
    """Mixed into `CaseService` (which provides the attributes and helpers named here)."""

    q: Questionnaire
    clock: Clock
    store: Store

    async def details_wanted(self, channel: str, identity: str) -> list[tuple[str, int]]:
        """(reference, questions left) of this identity's submitted open cases with details left."""
        async with self.store.read() as uow:
            submitter = await uow.submitters.find(channel=channel, identity=identity)
            cases = await uow.cases.for_submitter(submitter.id) if submitter is not None else []
        return [(c.reference, len(engine.details_left(self.q, self.draft_of(c)))) for c in cases
                if c.status in AMENDABLE and engine.next_round(self.q, self.draft_of(c)) is not None]

    if TYPE_CHECKING:  # declared for the type checker only: CaseService defines them

        def draft_of(self, case: CaseRecord) -> Draft: ...

        def _turn(self, case: CaseRecord | None, outcome: engine.Outcome | None = None, **extra: Any) -> Turn: ...

        async def alert(self, uow: UnitOfWork, *, kind: str, case_id: str | None, payload: dict[str, Any]) -> None: ...

    async def amending_in(self, uow: UnitOfWork, submitter_id: str) -> CaseRecord | None:
        """The submitted case with a details session in progress, locked; None when there is none
        (one indexed query: the session's flag is a plain column)."""
        case = await uow.cases.amending_of(submitter_id, AMENDABLE, lock=True)
        return case if case is not None and self.draft_of(case).amending else None

    async def details_case_in(self, uow: UnitOfWork, submitter_id: str) -> CaseRecord | None:
        """The submitter's newest open submitted case with details left (for `/details`), locked."""
        for case in reversed(await uow.cases.for_submitter(submitter_id)):
            if case.status in AMENDABLE and engine.next_round(self.q, self.draft_of(case)) is not None:
                return await uow.cases.get(case.id, lock=True)
        return None

    async def amend_in(self, uow: UnitOfWork, submitter_id: str, case: CaseRecord, action: Action) -> Turn:
        """One input to a submitted case's details session. The session ends when the submitter
        chooses "later", asks for the review or submit, or nothing is left."""
        now = self.clock()
        before = self.draft_of(case)
        start = before if before.amending else before.model_copy(update={"amending": True, "mode": "flow", "cursor": None, "round": None})
        outcome = engine.apply(self.q, start, action)
        draft = outcome.draft
        finished = outcome.ready_to_submit or draft.mode == "review" or outcome.stopped or (
            outcome.ok and engine.current_slot(self.q, draft) is None and engine.next_round(self.q, draft) is None
        )
        if not outcome.ok and not before.amending:
            finished = True  # `/details` with nothing left: no session
        if finished:
            draft = draft.model_copy(update={"amending": False, "mode": "review", "cursor": None, "round": None, "stopped": False})
        changes = changed_answers(self.q, before.answers, draft.answers)
        for path, question, value in changes:
            body = f"{question.short(draft.lang)}: {engine.display(question, value, draft.lang)}"
            await uow.messages.add(case_id=case.id, direction="in", channel=case.channel, kind=DETAILS_KIND, body=f"[{path}] {body}", now=now)
        if changes:
            await uow.audit.record(action="case.details_added", now=now, actor_kind="submitter", actor_id=submitter_id,
                                   case_id=case.id, detail={"count": len(changes)})
        if draft != before:
            case.draft = draft.model_dump(mode="json")
            if case.status == lifecycle.NEEDS_INFO and changes:  # as a reply would: back to the queue
                case.status = lifecycle.SUBMITTED
                await self.alert(uow, kind="reply_alert", case_id=case.id, payload={"reference": case.reference, "case_id": case.id})
            case = await uow.cases.save(case, now=now)
        shown = engine.Outcome(draft=draft, ok=outcome.ok, error=outcome.error, notices=list(outcome.notices))
        return self._turn(case, shown, details_done=finished and before.amending, amending=not finished)
