"""The staff side's core, `ReviewService`: the queue (review.queue), one case read for review
(review.casefile), every staff action (review.actions) and the failed-items queue (review.failed),
over one store, questionnaire and clock (review.base); search is the database's (review.search).

Channel-independent: it reads and writes through the storage repositories and reaches a
submitter only by writing an outbox row (in the same transaction as the case change). Viewing a
case, downloading a file and exporting are audited too (who, when, from where); so is every
request the access rules refuse (`access.refused`).
"""

from __future__ import annotations

from review.actions import StaffActions
from review.casefile import TRIAGE, CaseReading
from review.failed import FailedQueue
from review.model import (
    MAX_TEXT,
    OPEN,
    QUEUE_STATUSES,
    ROLES,
    AccessRefused,
    ActionRefused,
    ActionResult,
    Actor,
    CaseNotFound,
    CaseView,
    Conflict,
    FailedItems,
    Forbidden,
    QueueFilter,
    QueueItem,
    QueuePage,
    ReviewError,
)
from review.queue import QueueReading

__all__ = [
    "MAX_TEXT", "OPEN", "QUEUE_STATUSES", "ROLES", "TRIAGE", "AccessRefused", "ActionRefused", "ActionResult", "Actor", "CaseNotFound",
    "CaseView", "Conflict", "FailedItems", "Forbidden", "QueueFilter", "QueueItem", "QueuePage", "ReviewError", "ReviewService",
]


class ReviewService(QueueReading, CaseReading, StaffActions, FailedQueue):
    """Queue, case view, staff actions and failed items over the store (see the module docstring)."""
