"""Repository contracts. The core is typed against these Protocols; `storage.sql` implements them.

Every method runs inside the caller's transaction (`Database.transaction()` / `read()`); none
commits. Records are plain dataclasses holding *decrypted* values: encryption happens inside the
implementation and never leaks into the core.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession


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


class SubmitterRepository(Protocol):
    async def get_or_create(self, *, channel: str, identity: str, lang: str, now: datetime) -> SubmitterRecord:
        """The submitter for this channel identity, created on first contact (identity encrypted)."""
        ...

    async def find(self, *, channel: str, identity: str) -> SubmitterRecord | None:
        """Look up by the keyed hash of the identity; never by plaintext."""
        ...

    async def get(self, submitter_id: str) -> SubmitterRecord:
        ...

    async def lock(self, submitter_id: str) -> int:
        """Take the per-submitter write lock for this transaction and bump its sequence number.

        Two processes handling updates of one chat serialise here (row lock on PostgreSQL; the
        database write lock under SQLite's BEGIN IMMEDIATE).
        """
        ...

    async def identity(self, submitter_id: str) -> str:
        """The decrypted channel identity (a Telegram chat id, an email address)."""
        ...

    async def set_lang(self, submitter_id: str, lang: str) -> None:
        ...


class CaseRepository(Protocol):
    async def create(
        self,
        *,
        submitter_id: str,
        channel: str,
        reference: str,
        questionnaire_id: str,
        questionnaire_version: int,
        lang: str,
        draft: dict[str, Any],
        status: str,
        now: datetime,
    ) -> CaseRecord:
        """Insert a case with its own fresh data key."""
        ...

    async def get(self, case_id: str, *, lock: bool = False) -> CaseRecord:
        """Raises NotFound; KeyDestroyed when its content was destroyed. `lock` takes a row lock."""
        ...

    async def by_reference(self, reference: str, *, lock: bool = False) -> CaseRecord | None:
        ...

    async def open_draft(self, submitter_id: str, *, lock: bool = False) -> CaseRecord | None:
        """The submitter's newest case in status `draft`, if any."""
        ...

    async def for_submitter(self, submitter_id: str) -> list[CaseRecord]:
        ...

    async def save(self, case: CaseRecord, *, now: datetime) -> CaseRecord:
        """Write back draft, status and review fields; fails with ConcurrentUpdate if the row
        changed since `case.version` was read. Returns the record with the new version."""
        ...

    async def list(
        self, *, statuses: list[str] | None = None, limit: int = 100, offset: int = 0, newest_first: bool = True
    ) -> list[CaseRecord]:
        ...

    async def count_by_status(self) -> dict[str, int]:
        ...

    async def reference_exists(self, reference: str) -> bool:
        ...

    async def claim(self, case_id: str, staff_id: str, *, now: datetime) -> bool:
        """Assign an unassigned case atomically: exactly one of two racing claims wins."""
        ...

    async def destroy_content(self, case_id: str, *, now: datetime) -> None:
        """Destroy the case's data key: every ciphertext and blob of the case becomes unreadable."""
        ...

    async def delete_draft(self, case_id: str, *, now: datetime) -> None:
        """Remove a draft entirely: its key destroyed, its rows and blobs deleted (audit kept, unlinked)."""
        ...


class MessageRepository(Protocol):
    async def add(
        self,
        *,
        case_id: str,
        direction: str,
        channel: str,
        kind: str,
        body: str,
        now: datetime,
        verified: bool = True,
        author_staff_id: str | None = None,
        outbox_id: str | None = None,
        external_key: str | None = None,
    ) -> str:
        ...

    async def for_case(self, case_id: str) -> list[MessageRecord]:
        ...

    async def case_for_external(self, external_key: str) -> str | None:
        """The case whose thread holds a message with this external key (e.g. a Message-ID)."""
        ...


class AttachmentRepository(Protocol):
    async def add(
        self,
        *,
        case_id: str,
        filename: str,
        data: bytes,
        now: datetime,
        source: str,
        content_type: str | None = None,
        sniffed_type: str | None = None,
        executable: bool = False,
        question_path: str | None = None,
        message_id: str | None = None,
        source_key: str | None = None,
    ) -> AttachmentRecord:
        """Hash, encrypt into the blob store, and record. The sha256 is of the plaintext."""
        ...

    async def for_case(self, case_id: str) -> list[AttachmentRecord]:
        ...

    async def get(self, case_id: str, attachment_id: str) -> AttachmentRecord:
        ...

    async def read(self, case_id: str, attachment_id: str) -> bytes:
        """Decrypted content."""
        ...

    async def by_source(self, case_id: str, source_key: str) -> AttachmentRecord | None:
        ...


class OutboxRepository(Protocol):
    """What we owe someone: replies, follow-ups, alerts. Delivered by the one delivery worker."""

    async def enqueue(
        self, *, channel: str, kind: str, payload: dict[str, Any], now: datetime, case_id: str | None = None, submitter_id: str | None = None
    ) -> str:
        """Queue a message (payload encrypted under the case's key, or a fresh key without a case)."""
        ...

    async def due(self, *, channel: str, now: datetime, limit: int = 20) -> list[OutboxRecord]:
        """Pending rows whose time has come, locked against other workers (SKIP LOCKED)."""
        ...

    async def claim(self, *, channels: list[str], now: datetime, until: datetime, limit: int) -> list[OutboxRecord]:
        """Due rows nobody holds, each the oldest pending one of its recipient, leased until `until`.
        The caller commits at once and sends outside any transaction."""
        ...

    async def renew(self, ids: list[str], *, until: datetime) -> None:
        """Extend the lease of rows still being sent."""
        ...

    async def case_for_external(self, external_key: str) -> str | None:
        """The case of a message we sent with this external id (e.g. its Message-ID)."""
        ...

    async def mark_sent(self, outbox_id: str, *, now: datetime, external_key: str | None = None) -> None:
        ...

    async def mark_retry(self, outbox_id: str, *, error: str, next_attempt_at: datetime) -> None:
        ...

    async def mark_failed(self, outbox_id: str, *, error: str) -> None:
        ...

    async def requeue(self, outbox_id: str, *, now: datetime) -> None:
        """A failed row back to pending (a human pressed retry)."""
        ...

    async def list(self, *, status: str | None = None, case_id: str | None = None, limit: int = 200) -> list[OutboxRecord]:
        ...

    async def count_since(self, *, channel: str, kinds: Sequence[str], since: datetime, submitter_id: str | None = None) -> int:
        """How many rows of these kinds were queued on `channel` since `since` (for one submitter, or all)."""
        ...

    async def lock_counts(self) -> None:
        """Serialise count-then-enqueue decisions (the first-contact caps) until the transaction ends."""
        ...


class AuditRepository(Protocol):
    async def record(
        self,
        *,
        action: str,
        now: datetime,
        actor_kind: str,
        actor_id: str | None = None,
        case_id: str | None = None,
        detail: dict[str, Any] | None = None,
        remote: str | None = None,
    ) -> None:
        """Append an event. `detail` holds ids and outcomes only, never case content."""
        ...

    async def for_case(self, case_id: str) -> list[AuditRecord]:
        ...


class InboxRepository(Protocol):
    """Everything that arrived, on any channel, committed before it was acknowledged."""

    async def add(
        self, *, dedup_key: str, envelope: dict[str, Any], raw: bytes, now: datetime, channel: str = "email",
        order_key: str | None = None, seq: int | None = None,
    ) -> tuple[str, bool]:
        """Store what arrived; returns (id, created). A duplicate key returns the old id. Rows with one
        `order_key` (e.g. a chat) are processed one at a time in `seq` order (default: arrival)."""
        ...

    async def claim(self, *, channels: list[str], now: datetime, until: datetime, limit: int) -> list[str]:
        """Ids of due rows nobody holds, each the oldest unfinished row of its order key, leased until `until`."""
        ...

    async def renew(self, ids: list[str], *, until: datetime) -> None:
        """Extend the lease of rows still being worked on."""
        ...

    async def due(self, *, now: datetime, limit: int = 10) -> list[InboxRecord]:
        ...

    async def get(self, inbox_id: str) -> InboxRecord:
        ...

    async def status_of(self, inbox_id: str, *, lock: bool = False) -> str | None:
        """The row's status without decrypting it (None: no such row); `lock` holds it until commit."""
        ...

    async def mark_done(self, inbox_id: str, *, now: datetime, case_id: str | None) -> None:
        ...

    async def mark_retry(self, inbox_id: str, *, error: str, next_attempt_at: datetime) -> int:
        """Count a failed attempt and release the row until `next_attempt_at`; returns the attempts so far."""
        ...

    async def mark_failed(self, inbox_id: str, *, error: str, now: datetime) -> None:
        ...

    async def requeue(self, inbox_id: str, *, now: datetime) -> None:
        ...

    async def list(self, *, status: str | None = None, limit: int = 200) -> list[InboxRecord]:
        ...

    async def counts(self) -> dict[str, int]:
        """Rows by status."""
        ...


class StaffRepository(Protocol):
    async def add(self, *, email: str, password_hash: str, role: str, now: datetime, must_change_password: bool = False) -> StaffRecord:
        ...

    async def by_email(self, email: str) -> StaffRecord | None:
        ...

    async def get(self, staff_id: str) -> StaffRecord:
        ...

    async def list(self) -> list[StaffRecord]:
        ...

    async def count(self) -> int:
        ...

    async def update(self, staff_id: str, **fields: Any) -> None:
        """Set columns (password_hash, role, active, totp_secret, totp_required, failed_logins, …)."""
        ...


class EventRepository(Protocol):
    async def seen(self, *, channel: str, key: str) -> dict[str, Any] | None:
        """The stored result if this channel event was processed before, else None."""
        ...

    async def remember(self, *, channel: str, key: str, result: dict[str, Any], now: datetime, submitter_id: str | None = None) -> bool:
        """Record an event as processed with its result; False if it already was."""
        ...


class ChatLogRepository(Protocol):
    async def add(self, *, submitter_id: str, case_id: str | None, direction: str, ref: dict[str, Any], now: datetime) -> None:
        """Remember a channel message id (encrypted) so the conversation can be wiped later."""
        ...

    async def for_submitter(self, submitter_id: str) -> list[dict[str, Any]]:
        ...


class UnitOfWork(Protocol):
    """Every repository, bound to one transaction (see `storage.store.Store.write`/`read`).

    `session` is for repositories defined in other storage modules (they take it in their
    constructor); nothing outside `storage/` should run queries on it.
    """

    @property
    def session(self) -> AsyncSession: ...

    @property
    def submitters(self) -> SubmitterRepository: ...

    @property
    def cases(self) -> CaseRepository: ...

    @property
    def messages(self) -> MessageRepository: ...

    @property
    def attachments(self) -> AttachmentRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def inbox(self) -> InboxRepository: ...

    @property
    def staff(self) -> StaffRepository: ...

    @property
    def events(self) -> EventRepository: ...

    @property
    def chatlog(self) -> ChatLogRepository: ...
