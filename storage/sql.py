"""The unit of work: every SQL repository bound to one session (one transaction), sharing one cache
of the data keys unwrapped in it. Each repository lives in the module of its area."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.blobs import BlobStore
from storage.casefiles import SqlCases
from storage.crypto import DataKey
from storage.keys import KeyStore
from storage.people import SqlStaff, SqlSubmitters
from storage.queues import SqlInbox, SqlOutbox
from storage.records_log import SqlAudit, SqlChatLog, SqlEvents
from storage.search_index import DocumentFn
from storage.threads import SqlAttachments, SqlMessages


class Repos:
    """All repositories bound to one session (one transaction)."""

    def __init__(self, session: AsyncSession, keys: KeyStore, blobs: BlobStore, documents: DocumentFn | None = None) -> None:
        self.session = session
        cache: dict[str, DataKey] = {}  # data keys unwrapped in this transaction, shared by every repository
        owners: dict[str, str] = {}  # which key a case / submitter uses, learnt once per transaction
        self.submitters = SqlSubmitters(session, keys, cache, owners)
        self.cases = SqlCases(session, keys, blobs, cache, owners)
        self.cases.documents = documents
        self.messages = SqlMessages(session, keys, cache, owners)
        self.attachments = SqlAttachments(session, keys, blobs, cache, owners)
        self.outbox = SqlOutbox(session, keys, cache, owners)
        self.audit = SqlAudit(session, keys, cache, owners)
        self.inbox = SqlInbox(session, keys, cache, owners)
        self.staff = SqlStaff(session, keys, cache, owners)
        self.events = SqlEvents(session, keys, cache, owners)
        self.chatlog = SqlChatLog(session, keys, cache, owners)
