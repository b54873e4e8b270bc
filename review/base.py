"""What every part of the review service shares: the store, the clock, loading a case, saving it
under its version, the audit helper, and the access rules (who may do what to which case).

Access rules: a draft belongs to its submitter, so only admins see it; a case claimed by one
staff member is acted on only by them or an admin (others may read it, and may add internal
notes when `reviewers_may_note_others` is set). A refusal raises `AccessRefused`, which the
`refusals_audited` decorator records as `access.refused` in its own transaction.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from intake import lifecycle
from intake.clock import Clock, utcnow
from intake.questionnaire import Questionnaire
from review import search as _search  # noqa: F401 - registers the readiness score the search index stores
from review.model import AccessRefused, ActionResult, Actor, CaseNotFound, Conflict
from storage.repositories import CaseRecord, ConcurrentUpdate, UnitOfWork
from storage.store import Store

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="ServiceBase")

# what a refusal says, per action (the verb after "only they or an admin may")
VERBS = {
    "assign": "reassign it", "unassign": "release it", "note": "add notes to it", "request_info": "ask the submitter",
    "decide": "decide it", "status": "change its status", "close": "close it",
}


class ServiceBase:
    """The store, questionnaire, clock, plus the helpers every part uses."""

    def __init__(self, store: Store, questionnaire: Questionnaire, *, clock: Clock = utcnow,
                 reviewers_may_note_others: bool = False) -> None:
        self.store = store
        self.q = questionnaire
        self.clock = clock
        self.reviewers_may_note_others = reviewers_may_note_others

    async def _load(self, uow: UnitOfWork, reference: str, *, lock: bool = False) -> CaseRecord:
        try:
            case = await uow.cases.by_reference(reference.strip().upper(), lock=lock)
        except LookupError:
            raise CaseNotFound(f"case {reference} is no longer readable") from None
        if case is None:
            raise CaseNotFound(f"no case {reference}")
        return case

    async def _save(self, uow: UnitOfWork, case: CaseRecord) -> CaseRecord:
        try:
            return await uow.cases.save(case, now=self.clock())
        except ConcurrentUpdate:
            raise Conflict("the case changed meanwhile; reload and try again") from None

    async def _audit(self, uow: UnitOfWork, actor: Actor, case: CaseRecord, action: str, **detail: Any) -> None:
        await uow.audit.record(action=action, now=self.clock(), actor_kind=actor.kind, actor_id=actor.staff_id, case_id=case.id,
                               detail=detail, remote=actor.remote)
        log.info("%s on case %s by staff %s", action, case.id, actor.staff_id)

    @staticmethod
    def _result(case: CaseRecord, outbox_id: str | None = None) -> ActionResult:
        return ActionResult(case.reference, case.status, case.assigned_to, outbox_id)

    # ---- access ------------------------------------------------------------------------------

    @staticmethod
    def check_visible(actor: Actor, case: CaseRecord, action: str) -> None:
        """Refuse a draft to anyone but an admin."""
        if case.status == lifecycle.DRAFT and not actor.is_admin:
            raise AccessRefused("A draft belongs to its submitter until they submit it; only admins see drafts.",
                                action=action, case_id=case.id)

    def may_act(self, actor: Actor, case: CaseRecord, action: str) -> bool:
        """Whether `actor` may do `action` to this case given who holds it (not its lifecycle)."""
        if actor.is_admin:
            return True
        if case.status == lifecycle.DRAFT:
            return False
        if case.assigned_to is None or case.assigned_to == actor.staff_id or action == "claim":
            return True  # claiming someone else's case is a conflict, reported by claim itself
        return action == "note" and self.reviewers_may_note_others

    def check_act(self, actor: Actor, case: CaseRecord, action: str) -> None:
        """Refuse `action` unless `may_act` allows it, with a message that says why."""
        self.check_visible(actor, case, action)
        if not self.may_act(actor, case, action):
            raise AccessRefused(f"This case is assigned to another staff member; only they or an admin may {VERBS.get(action, action)}.",
                                action=action, case_id=case.id)

    async def record_refusal(self, actor: Actor | None, exc: AccessRefused) -> None:
        """Audit a refused request (action and ids only) in a transaction of its own."""
        async with self.store.write() as uow:
            await uow.audit.record(action="access.refused", now=self.clock(), actor_kind=actor.kind if actor else "cli",
                                   actor_id=actor.staff_id if actor else None, case_id=exc.case_id, detail={"action": exc.action},
                                   remote=actor.remote if actor else "cli")
        log.warning("access refused: %s by staff %s on case %s", exc.action, actor.staff_id if actor else "-", exc.case_id)


def refusals_audited(method: Callable[Concatenate[S, P], Awaitable[R]]) -> Callable[Concatenate[S, P], Awaitable[R]]:
    """Wrap a service method that takes an `Actor` argument: an `AccessRefused` it raises is
    audited (after the method's own transaction rolled back) and re-raised."""

    @functools.wraps(method)
    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(self, *args, **kwargs)
        except AccessRefused as exc:
            actor = next((a for a in (*args, *kwargs.values()) if isinstance(a, Actor)), None)
            await self.record_refusal(actor, exc)
            raise

    return wrapper
