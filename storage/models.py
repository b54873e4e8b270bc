"""Tables. Every column holding case content, a file name or a contact identity is ciphertext
(`*_enc`, bytes under the owning row's data key, bound to table/column/row); lookups use keyed
hashes (`*_index`). Primary keys are random UUID hex strings generated here, so a row's id is
known before insert and can be bound into its ciphertexts.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


ID = String(32)
TS = DateTime(timezone=True)


class DataKeyRow(Base):
    """A data key wrapped by a master key. Destroyed = `wrapped` set to NULL (crypto-shredding)."""

    __tablename__ = "data_keys"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    purpose: Mapped[str] = mapped_column(String(32))  # case | submitter | inbox | blind_index
    master_key_id: Mapped[str | None] = mapped_column(String(16))
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(TS)
    destroyed_at: Mapped[datetime | None] = mapped_column(TS)


class Submitter(Base):
    """A channel identity (a Telegram user, an email address, a terminal name)."""

    __tablename__ = "submitters"
    __table_args__ = (UniqueConstraint("channel", "identity_index"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16))  # telegram | email | terminal
    identity_index: Mapped[str] = mapped_column(String(64))
    identity_enc: Mapped[bytes] = mapped_column(LargeBinary)
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    lang: Mapped[str] = mapped_column(String(16), default="en")
    created_at: Mapped[datetime] = mapped_column(TS)
    last_seen_at: Mapped[datetime] = mapped_column(TS)
    # per-chat ordering token: bumped under a row lock by every update applied for this submitter
    seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    submitter_id: Mapped[str] = mapped_column(ForeignKey("submitters.id"), index=True)
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    questionnaire_id: Mapped[str] = mapped_column(String(64))
    questionnaire_version: Mapped[int] = mapped_column(Integer)
    lang: Mapped[str] = mapped_column(String(16), default="en")
    # answers + position (engine Draft as JSON), encrypted
    draft_enc: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer, default=0)  # bumped on every write
    created_at: Mapped[datetime] = mapped_column(TS, index=True)
    updated_at: Mapped[datetime] = mapped_column(TS)
    submitted_at: Mapped[datetime | None] = mapped_column(TS, index=True)
    assigned_to: Mapped[str | None] = mapped_column(ForeignKey("staff.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(TS)
    decision: Mapped[str | None] = mapped_column(String(16))  # accepted | declined | escalated
    decision_reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    decided_at: Mapped[datetime | None] = mapped_column(TS)
    withdrawn_at: Mapped[datetime | None] = mapped_column(TS)
    # questions staff reopened with a follow-up (ids, not content)
    reopened: Mapped[list[str] | None] = mapped_column(JSON)
    legal_hold: Mapped[bool] = mapped_column(Boolean, server_default="0", default=False)  # exempt from retention (admin)
    # a details session on this submitted case is in progress (intake.case_details): found by one
    # indexed query instead of decrypting every case of the submitter on every input
    amending: Mapped[bool] = mapped_column(Boolean, server_default="0", default=False)
    expiry_warned_at: Mapped[datetime | None] = mapped_column(TS)  # an idle draft's owner was told it will expire
    shredded_at: Mapped[datetime | None] = mapped_column(TS)  # the content's key was destroyed: a tombstone
    # the queue, paged by the database (storage.queue_pages): when the case (re-)entered the queue,
    # the thread's latest verified message each way, and the plain facets the queue sorts and
    # filters on (not content: a score, a yes/no, a consent code); `search_key` names the key its
    # search terms were made with (None: not in the search index — drafts, withdrawn, shredded)
    queued_at: Mapped[datetime | None] = mapped_column(TS, index=True)
    last_in_at: Mapped[datetime | None] = mapped_column(TS)
    last_out_at: Mapped[datetime | None] = mapped_column(TS)
    readiness: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    danger: Mapped[bool | None] = mapped_column(Boolean)
    consent: Mapped[str | None] = mapped_column(String(16))
    search_key: Mapped[str | None] = mapped_column(String(32))
    # the "needs a person first" order, kept by the index hooks: 2 × (no danger) + (no new reply),
    # then waiting since the new reply, else since queued
    need_rank: Mapped[int] = mapped_column(Integer, server_default="3", default=3)
    waiting_at: Mapped[datetime | None] = mapped_column(TS)

    __table_args__ = (Index("ix_cases_status_shredded_queued", "status", "shredded_at", "queued_at"),
                      Index("ix_cases_need_rank_waiting", "need_rank", "waiting_at"),
                      Index("ix_cases_readiness_queued", "readiness", "queued_at"))


class CaseTerm(Base):
    """The search index: keyed hashes (HMAC) of a case's normalised words, word pairs and facet
    values, per source (`case`: reference, answers, decision reason; else a thread message's id).
    The words themselves are never stored (see storage.search_index for what this reveals)."""

    __tablename__ = "case_terms"
    __table_args__ = (Index("ix_case_terms_term_case", "term", "case_id"),)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    term: Mapped[str] = mapped_column(String(32), primary_key=True)


class Attachment(Base):
    __tablename__ = "attachments"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id"))
    question_path: Mapped[str | None] = mapped_column(String(255))  # None: extra evidence
    blob_ref: Mapped[str] = mapped_column(String(64))  # sha256 of the stored ciphertext
    # the copy staff download by default: metadata (EXIF/GPS, PDF and Office authors) removed; the
    # original above is kept as received (evidence integrity) and needs an admin
    clean_blob_ref: Mapped[str | None] = mapped_column(String(64))
    clean_removed: Mapped[list[str] | None] = mapped_column(JSON)  # kinds of metadata removed, never values
    sha256_enc: Mapped[bytes] = mapped_column(LargeBinary)  # sha256 of the plaintext
    filename_enc: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str | None] = mapped_column(String(127))
    sniffed_type: Mapped[str | None] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    executable: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16))  # telegram | email | terminal | staff
    source_index: Mapped[str | None] = mapped_column(String(64), index=True)  # dedup of a channel's file id
    created_at: Mapped[datetime] = mapped_column(TS)


class BlobChunk(Base):
    """Evidence files stored in the database itself (INTAKE_BLOB_URL=database, the default on
    PostgreSQL): the ciphertext of one blob in 1 MiB chunks, so every process reaches it and a
    large file is written and read a chunk at a time."""

    __tablename__ = "blob_chunks"
    ref: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the whole ciphertext
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Message(Base):
    """The case thread: what the submitter sent and what we sent, and internal notes."""

    __tablename__ = "messages"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # in | out | note
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))  # first_message | reply | followup | notice | note
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    verified: Mapped[bool] = mapped_column(Boolean, default=True)  # False: came from an unexpected sender
    author_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    outbox_id: Mapped[str | None] = mapped_column(ForeignKey("outbox.id"))
    external_index: Mapped[str | None] = mapped_column(String(64), index=True)  # keyed hash of a Message-ID
    created_at: Mapped[datetime] = mapped_column(TS, index=True)


class ChatMessage(Base):
    """Ids of channel messages exchanged with a submitter (encrypted), so a chat can be wiped."""

    __tablename__ = "chat_messages"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    submitter_id: Mapped[str] = mapped_column(ForeignKey("submitters.id"), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    direction: Mapped[str] = mapped_column(String(8))
    ref_enc: Mapped[bytes] = mapped_column(LargeBinary)  # e.g. {"chat": …, "message": …}
    created_at: Mapped[datetime] = mapped_column(TS)


class Inbox(Base):
    """Everything that arrives, on every channel (an SMTP message, a Telegram update, a terminal
    line), written encrypted and committed before it is acknowledged; `receive` takes each row to
    its final state. Rows of one `order_key` (a keyed hash of the chat or sender) are processed
    one at a time, in `(received_at, seq)` order; `leased_until` marks a row a worker is on."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_status_order", "status", "order_key"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16), server_default="email")
    dedup_index: Mapped[str] = mapped_column(String(64), unique=True)
    order_key: Mapped[str | None] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger, server_default="0")
    leased_until: Mapped[datetime | None] = mapped_column(TS)
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    envelope_enc: Mapped[bytes] = mapped_column(LargeBinary)  # mail from, rcpt tos, peer
    raw_enc: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)  # new | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)  # a reason without content
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    received_at: Mapped[datetime] = mapped_column(TS, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(TS)
    next_attempt_at: Mapped[datetime | None] = mapped_column(TS)


class Outbox(Base):
    """Messages to deliver: follow-ups to submitters, acknowledgements, staff alerts."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_channel_status_next", "channel", "status", "next_attempt_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16))  # telegram | email | terminal | staff_telegram | staff_email
    kind: Mapped[str] = mapped_column(String(24))  # staff_alert | followup | ack | decision | form | reply …
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    submitter_id: Mapped[str | None] = mapped_column(ForeignKey("submitters.id"))
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    payload_enc: Mapped[bytes] = mapped_column(LargeBinary)  # body, subject, threading headers
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(TS)
    last_error: Mapped[str | None] = mapped_column(Text)
    external_index: Mapped[str | None] = mapped_column(String(64), index=True)  # e.g. our Message-ID hashed
    created_at: Mapped[datetime] = mapped_column(TS)
    sent_at: Mapped[datetime | None] = mapped_column(TS)
    seq: Mapped[int] = mapped_column(BigInteger, server_default="0")  # order within one recipient
    leased_until: Mapped[datetime | None] = mapped_column(TS)  # a delivery worker is sending it


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # reviewer | admin
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_required: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # the last time step accepted: no code works twice
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(TS)
    created_at: Mapped[datetime] = mapped_column(TS)
    last_login_at: Mapped[datetime | None] = mapped_column(TS)
    # opted in to email notices: a reply on a case assigned to them, a case assigned to them
    notify_email: Mapped[bool] = mapped_column(Boolean, server_default="0", default=False)


class AuditEvent(Base):
    """Who did what to which case, when, from where. Never content: ids and outcomes only."""

    __tablename__ = "audit_events"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(TS, index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))  # submitter | staff | system
    actor_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    remote: Mapped[str | None] = mapped_column(String(64))
    # the hash chain: a sealer gives each event its place (`chain_seq`) and `hash` = sha256 of the
    # previous event's hash and this event's fields, so a changed, removed or inserted event shows
    chain_seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    hash: Mapped[str | None] = mapped_column(String(64))


class ProcessedEvent(Base):
    """Idempotency: a channel event (a Telegram update, a message id) seen before."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("channel", "event_index"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16))
    event_index: Mapped[str] = mapped_column(String(64))
    submitter_id: Mapped[str | None] = mapped_column(ForeignKey("submitters.id"))
    result_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # what we answered, to answer again
    data_key_id: Mapped[str | None] = mapped_column(ForeignKey("data_keys.id"))
    created_at: Mapped[datetime] = mapped_column(TS, index=True)


class StaffSession(Base):
    """A console login. The cookie carries a random token; only its hash is stored."""

    __tablename__ = "staff_sessions"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token_hash: Mapped[str | None] = mapped_column(String(64))
    second_factor_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(TS)
    last_seen_at: Mapped[datetime] = mapped_column(TS)
    expires_at: Mapped[datetime] = mapped_column(TS)
    revoked_at: Mapped[datetime | None] = mapped_column(TS)
    remote: Mapped[str | None] = mapped_column(String(64))


class LoginAttempt(Base):
    """Failed and successful logins, keyed by a hash of the email and of the client address."""

    __tablename__ = "login_attempts"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    email_index: Mapped[str] = mapped_column(String(64), index=True)
    remote_index: Mapped[str | None] = mapped_column(String(64), index=True)
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(TS, index=True)


class AppSetting(Base):
    """Settings staff change at run time (e.g. `require_totp`), as JSON values."""

    __tablename__ = "app_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(TS)
    updated_by: Mapped[str | None] = mapped_column(String(32))

from storage import models_casework as _casework  # noqa: E402,F401  (registers the casework tables on Base)
