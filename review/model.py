"""The staff side's vocabulary: errors, the acting staff member, and the shapes the queue, a case
view and an action return. Pure data, shared by the service modules, the console and the CLI."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from intake import lifecycle

OPEN = [lifecycle.SUBMITTED, lifecycle.IN_REVIEW, lifecycle.NEEDS_INFO]
QUEUE_STATUSES = [s for s in lifecycle.STATUSES if s != lifecycle.DRAFT]
MAX_TEXT = 8000
ROLES = ("reviewer", "admin")


class ReviewError(Exception):
    """A staff request that cannot be done; the message is safe to show to staff."""


class CaseNotFound(ReviewError):
    """No case (or no attachment / outbox / inbox row) with that reference."""


class ActionRefused(ReviewError):
    """The lifecycle (or the case's state) does not allow this action now."""


class Conflict(ReviewError):
    """Someone else changed the case first (a lost claim race, a stale version)."""


class Forbidden(ReviewError):
    """The staff member's role does not allow this."""


class AccessRefused(Forbidden):
    """This staff member may not do `action` on this case (someone else's claim, a draft);
    recorded in the audit as `access.refused` with the action and ids only."""

    def __init__(self, message: str, *, action: str, case_id: str | None = None) -> None:
        super().__init__(message)
        self.action = action
        self.case_id = case_id


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where (an IP address, or `cli`)."""

    staff_id: str
    email: str
    role: str
    remote: str | None = None
    kind: str = "staff"  # audit actor_kind: staff, or cli for an unnamed operator at the terminal

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass
class QueueFilter:
    statuses: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    abuse_forms: list[str] = field(default_factory=list)
    country: str | None = None
    minors: str | None = None  # yes | no | unknown
    ongoing: str | None = None  # yes | no | unknown
    consent: str | None = None  # allowed | refused | not_said: may the case be shared with governments
    assigned: str | None = None  # me | unassigned | None
    has_attachments: bool | None = None
    search: str = ""
    newest_first: bool = True
    order: str = ""  # "needs": needs a person first (danger, new replies, oldest waiting); "ready": closest to a designation; else by submission time
    page: int = 1
    per_page: int = 50


@dataclass
class QueueItem:
    reference: str
    status: str
    channel: str
    created_at: str
    submitted_at: str | None
    assigned_to: str | None
    title: str | None
    abuse_forms: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    minors: str | None = None
    ongoing: str | None = None
    attachments: int = 0
    danger: bool | None = None
    new_reply: bool = False
    age: str = ""
    last_activity: str = ""
    last_activity_at: str = ""
    lang: str = ""


@dataclass
class QueuePage:
    items: list[QueueItem]
    total: int
    page: int
    per_page: int
    counts: dict[str, int]
    more: bool = False  # more cases match than `total` (counted up to a bound: storage.queue_pages.COUNT_BOUND)
    counts_bound: int | None = None  # a status count above it means "more than counts_bound"

    def count_text(self, status: str) -> str:
        """A status count: "1,000+" above the bound, else the exact number."""
        n = self.counts.get(status, 0)
        return f"{self.counts_bound:,}+" if self.counts_bound is not None and n > self.counts_bound else f"{n:,}"

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def total_text(self) -> str:
        """"1,000+" when the count stopped at its bound, else the exact number."""
        return f"{self.total:,}+" if self.more else f"{self.total:,}"

    def to_dict(self) -> dict[str, Any]:
        return {"items": [asdict(i) for i in self.items], "total": self.total, "more": self.more, "page": self.page,
                "per_page": self.per_page, "pages": self.pages, "counts": self.counts,
                "counts_bound": self.counts_bound}


@dataclass
class CaseView:
    reference: str
    status: str
    channel: str
    lang: str
    questionnaire: str
    created_at: str
    submitted_at: str | None
    assigned_to: str | None
    decision: str | None
    decision_reason: str | None
    answers: dict[str, Any]
    sections: list[dict[str, Any]]
    missing: list[str]
    triage: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    thread: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)
    # the first screen and the sections below it (review.caseview)
    glance: dict[str, Any] = field(default_factory=dict)
    abuse: list[dict[str, str]] = field(default_factory=list)
    perpetrators: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    extra_files: list[dict[str, Any]] = field(default_factory=list)
    picker: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ActionResult:
    reference: str
    status: str
    assigned_to: str | None
    outbox_id: str | None = None


@dataclass
class FailedItems:
    inbox: list[dict[str, Any]]
    outbox: list[dict[str, Any]]
