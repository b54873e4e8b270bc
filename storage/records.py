"""The plain records repositories hand out: decrypted values, never ciphertext, and the errors
they raise. Encryption happens inside the repositories and never leaks into the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class NotFound(LookupError):
    """No such row."""


class KeyDestroyed(LookupError):
    """The data key was destroyed: the content is gone for good."""


class ConcurrentUpdate(RuntimeError):
    """The row changed since it was read (optimistic version check failed)."""


@dataclass
class SubmitterRecord:
    id: str
    channel: str
    lang: str
    seq: int
    created_at: datetime


@dataclass
class CaseRecord:
    id: str
    reference: str
    status: str
    channel: str
    submitter_id: str
    questionnaire_id: str
    questionnaire_version: int
    lang: str
    draft: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    assigned_to: str | None = None
    claimed_at: datetime | None = None
    decision: str | None = None
    decision_reason: str | None = None
    decided_at: datetime | None = None
    withdrawn_at: datetime | None = None
    reopened: list[str] = field(default_factory=list)
    shredded_at: datetime | None = None  # content destroyed: `draft` is empty, only the facts remain


@dataclass
class MessageRecord:
    id: str
    case_id: str
    direction: str
    channel: str
    kind: str
    body: str
    verified: bool
    author_staff_id: str | None
    outbox_id: str | None
    created_at: datetime


@dataclass
class AttachmentRecord:
    id: str
    case_id: str
    question_path: str | None
    filename: str
    sha256: str
    size: int
    content_type: str | None
    sniffed_type: str | None
    executable: bool
    source: str
    message_id: str | None
    created_at: datetime
    cleaned: bool = False  # a copy without metadata exists (staff get it by default)
    removed: list[str] = field(default_factory=list)  # kinds of metadata the copy lost


@dataclass
class OutboxRecord:
    id: str
    channel: str
    kind: str
    case_id: str | None
    submitter_id: str | None
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


@dataclass
class AuditRecord:
    id: str
    at: datetime
    case_id: str | None
    actor_kind: str
    actor_id: str | None
    action: str
    detail: dict[str, Any]
    remote: str | None


@dataclass
class InboxRecord:
    id: str
    status: str
    attempts: int
    error: str | None
    case_id: str | None
    size: int
    received_at: datetime
    envelope: dict[str, Any]
    raw: bytes
    channel: str = "email"


@dataclass(frozen=True)
class InboxItem:
    """One arrival to store (see `InboxRepository.add`)."""

    dedup_key: str
    envelope: dict[str, Any]
    raw: bytes
    channel: str = "email"
    order_key: str | None = None
    seq: int | None = None


@dataclass
class StaffRecord:
    id: str
    email: str
    password_hash: str
    role: str
    active: bool
    totp_secret: str | None
    totp_required: bool
    must_change_password: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    last_login_at: datetime | None
    notify_email: bool = False  # email notices of a reply on their case / a case assigned to them


@dataclass(frozen=True)
class CaseStub:
    """What retention needs of a case, without decrypting it."""

    id: str
    reference: str
    submitter_id: str
    channel: str
    status: str
    lang: str
    updated_at: datetime
    expiry_warned_at: datetime | None
