"""The case lifecycle: which status may follow which, and who may move it.

draft → submitted → in_review → (needs_info ⇄ submitted) → accepted | declined | escalated;
withdrawn from any state by the submitter; closed after a decision is delivered.
"""

from __future__ import annotations

DRAFT, SUBMITTED, IN_REVIEW, NEEDS_INFO = "draft", "submitted", "in_review", "needs_info"
ACCEPTED, DECLINED, ESCALATED = "accepted", "declined", "escalated"
WITHDRAWN, CLOSED = "withdrawn", "closed"

STATUSES = [DRAFT, SUBMITTED, IN_REVIEW, NEEDS_INFO, ACCEPTED, DECLINED, ESCALATED, WITHDRAWN, CLOSED]
DECISIONS = [ACCEPTED, DECLINED, ESCALATED]
OPEN_FOR_SUBMITTER = [DRAFT, SUBMITTED, IN_REVIEW, NEEDS_INFO]

ALLOWED: dict[str, set[str]] = {
    DRAFT: {SUBMITTED, WITHDRAWN},
    SUBMITTED: {IN_REVIEW, NEEDS_INFO, WITHDRAWN},
    IN_REVIEW: {NEEDS_INFO, ACCEPTED, DECLINED, ESCALATED, SUBMITTED, WITHDRAWN},
    NEEDS_INFO: {SUBMITTED, IN_REVIEW, WITHDRAWN},
    ACCEPTED: {CLOSED, WITHDRAWN},
    DECLINED: {CLOSED, WITHDRAWN},
    ESCALATED: {CLOSED, WITHDRAWN},
    CLOSED: {WITHDRAWN},
    WITHDRAWN: set(),
}


class TransitionError(ValueError):
    """A status change the lifecycle does not allow."""

    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"a case in status '{current}' cannot move to '{target}'")
        self.current = current
        self.target = target


def check(current: str, target: str) -> None:
    if target not in ALLOWED.get(current, set()):
        raise TransitionError(current, target)


def allowed(current: str) -> set[str]:
    return set(ALLOWED.get(current, set()))
