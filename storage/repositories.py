"""Repository contracts. The core is typed against these Protocols; `storage.sql` implements them.

Every method runs inside the caller's transaction (`Database.transaction()` / `read()`); none
commits. Records are plain dataclasses holding *decrypted* values: encryption happens inside the
implementation and never leaks into the core.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError as DuplicateRow  # a unique value is already taken (re-exported below)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.queue_contracts import InboxRepository as InboxRepository  # re-exported
from storage.queue_contracts import OutboxRepository as OutboxRepository
from storage.records import (  # re-exported: the contracts and their records are one API
    AttachmentRecord as AttachmentRecord,
)
from storage.records import (
    AuditRecord as AuditRecord,
)
from storage.records import (
    CaseRecord as CaseRecord,
)
from storage.records import (
    CaseStub as CaseStub,
)
from storage.records import (
    ConcurrentUpdate as ConcurrentUpdate,
)
from storage.records import (
    InboxItem as InboxItem,
)
from storage.records import (
    InboxRecord as InboxRecord,
)
from storage.records import (
    KeyDestroyed as KeyDestroyed,
)
from storage.records import (
    MessageRecord as MessageRecord,
)
from storage.records import (
    NotFound as NotFound,
)
from storage.records import (
    OutboxRecord as OutboxRecord,
)
from storage.records import (
    StaffRecord as StaffRecord,
)
from storage.records import (
    SubmitterRecord as SubmitterRecord,
)


class SubmitterRepository(Protocol):
    async def get_or_create(self, *, channel: str, identity: str, lang: str, now: datetime) -> SubmitterRecord:
        """The submitter for this channel identity, created on first contact (identity encrypted)."""
        ...

    async def enter(self, *, channel: str, identity: str, lang: str, now: datetime) -> SubmitterRecord:
        """`get_or_create` then `lock`, in as few statements as the database allows: the submitter
        of the one input this transaction handles, locked for the rest of it."""
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

    async def active(self, submitter_id: str, amendable: list[str], *, lock: bool = False) -> CaseRecord | None:
        """The case the submitter's next input goes to, in one statement: the newest case in one of
        `amendable` with a details session in progress, else the newest draft; None when neither."""
        ...

    async def active_of(self, *, channel: str, identity: str, amendable: list[str]) -> CaseRecord | None:
        """`active` of the submitter with this channel identity, found by its keyed hash (no lock)."""
        ...

    async def amending_of(self, submitter_id: str, statuses: list[str], *, lock: bool = False) -> CaseRecord | None:
        """The submitter's newest case in one of `statuses` whose draft has a details session in
        progress (`draft["amending"]`, kept as a plain column by `save`), if any."""
        ...

    async def open_draft_of(self, *, channel: str, identity: str) -> CaseRecord | None:
        """`open_draft` of the submitter with this channel identity, found by its keyed hash (no lock)."""
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

    async def shred(self, case_id: str, *, now: datetime) -> None:
        """Destroy the case's content for good (key, files, thread, undelivered messages) and keep a
        tombstone: reference, dates, channel, status, and the audit trail (which holds no content)."""
        ...

    async def stubs(self, *, statuses: Sequence[str], idle_before: datetime, limit: int = 1000, held: bool = False) -> Sequence[CaseStub]:
        """Cases in these statuses untouched since `idle_before`, oldest first, nothing decrypted;
        cases on legal hold only when `held`."""
        ...

    async def mark_warned(self, case_id: str, *, now: datetime) -> None:
        """Record that the owner of an idle draft was told it will expire."""
        ...

    async def set_hold(self, case_id: str, hold: bool) -> None:
        """Put a case on legal hold (exempt from retention), or release it."""
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
        clean: bytes | None = None,
        clean_removed: list[str] | None = None,
    ) -> AttachmentRecord:
        """Hash, encrypt into the blob store, and record. The sha256 is of the plaintext (the original);
        `clean` is a copy without metadata, stored beside it under the same key."""
        ...

    async def for_case(self, case_id: str) -> list[AttachmentRecord]:
        ...

    async def get(self, case_id: str, attachment_id: str) -> AttachmentRecord:
        ...

    async def read(self, case_id: str, attachment_id: str, *, original: bool = True) -> bytes:
        """Decrypted content: the file as received, or (`original=False`) its clean copy when there is one."""
        ...

    async def by_source(self, case_id: str, source_key: str) -> AttachmentRecord | None:
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

    async def last(self, *, action: str) -> datetime | None:
        """When this action was last recorded (None: never)."""
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

    async def add_many(self, items: Sequence[tuple[str, str | None, dict[str, Any]]], *, direction: str, now: datetime) -> None:
        """`add` of several (submitter id, case id, ref), their submitters' keys read in one statement."""
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


__all__ = ["DuplicateRow"]  # re-exported for callers that must not import the database library
