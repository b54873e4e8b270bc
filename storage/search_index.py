"""The search index in the database: keyed hashes of normalised words (a blind index), written in
the transaction that changes what they are made of.

A case's searchable content — its reference, the displayed answers, the decision reason (source
`case`) and each thread message, note included (source: the message id) — is normalised (case
folded, accents and other combining marks stripped, split into words) and each word is stored as
`HMAC-SHA256(search key, word)` truncated to 16 bytes, in `case_terms`. Facet values (abuse forms,
countries, minors, ongoing) are stored the same way under their own prefix. A query is normalised
the same way and becomes one indexed query: the cases holding every query term.

What the table reveals to someone who reads the database without the master key: which cases
share a word (equal tokens), how many distinct words each case and each message has, and how
often a token occurs across cases (frequency analysis can guess very common words and facet
values); not the words themselves. A phrase matches as all of its words (word order is not
stored). Drafts, withdrawn and shredded cases have no terms.

The search key is derived from the blind-index key (HMAC of a label under it), so master-key
rotation keeps it; `SEARCH_KEY_ID` names the derivation, and a case whose `search_key` differs
is re-tokenised by `reindex` (`intake review reindex`, batched)."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import DataKey
from storage.keys import KeyStore
from storage.models import Case, CaseTerm, Message
from storage.records import CaseRecord

SEARCH_KEY_ID = "search-v1"
NOT_INDEXED = frozenset({"draft", "withdrawn"})
_WORD = re.compile(r"[^\W_]+")  # letters and digits of every script; "_" separates
_PHRASE = re.compile(r'"([^"]+)"|(\S+)')


def normalise(text: str) -> str:
    """Case-folded, accent-insensitive form used on both sides of a match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> set[str]:
    """The distinct normalised words of a text (letters and digits of every script)."""
    return set(_WORD.findall(normalise(text)))


def terms(query: str) -> list[str]:
    """Query terms: words, or "quoted phrases"; each must occur in a matching case."""
    out = []
    for phrase, word in _PHRASE.findall(query):
        term = normalise(phrase or word).strip()
        if term:
            out.append(term)
    return out


@dataclass
class Document:
    """What a case contributes to the index: its searchable text, facet values (stored as blind
    tokens) and the plain facets the queue sorts and filters on."""

    text: str
    facets: dict[str, list[str]] = field(default_factory=dict)
    readiness: int = 0
    danger: bool | None = None
    consent: str | None = None


DocumentFn = Callable[[CaseRecord], Document]


def plain_document(case: CaseRecord) -> Document:
    """A document without the questionnaire: the reference, every string in the answers and the
    decision reason (the core's builder, `intake.searchdoc`, adds display values and facets)."""
    parts = [case.reference, case.decision_reason or ""]

    def walk(value: Any) -> None:
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(case.draft.get("answers") or {})
    return Document("\n".join(parts))


class SearchKey:
    """Turns normalised words and facet values into tokens."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def token(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()[:32]

    def word(self, word: str) -> str:
        return self.token("w", word)

    def facet(self, name: str, value: str) -> str:
        return self.token(f"f:{name}", value)

    def query(self, query: str) -> list[str]:
        """The tokens a query needs, every word of every term (a phrase matches as all its words)."""
        return sorted({self.word(w) for term in terms(query) for w in words(term)})


async def search_key(session: AsyncSession, keys: KeyStore) -> SearchKey:
    blind = await keys.blind_index(session)
    return SearchKey(bytes.fromhex(blind("search-key", SEARCH_KEY_ID)))


def _need(danger: bool) -> dict[str, Any]:
    """SQL for the "needs a person first" columns from the row's thread dates:
    2 × (no danger) + (no new reply), waiting since the reply, else since queued."""
    new_reply = and_(Case.last_in_at.is_not(None), or_(Case.last_out_at.is_(None), Case.last_in_at > Case.last_out_at))
    return {"need_rank": (0 if danger else 2) + case((new_reply, 0), else_=1),
            "waiting_at": case((new_reply, Case.last_in_at), else_=Case.queued_at)}


async def _put(session: AsyncSession, case_id: str, source: str, tokens: Iterable[str]) -> None:
    rows = [{"case_id": case_id, "source": source, "term": t} for t in sorted(set(tokens))]
    if rows:
        await session.execute(insert(CaseTerm), rows)


async def drop_case(session: AsyncSession, case_id: str) -> None:
    """Forget a case's terms and plain facets (withdrawn, shredded, content destroyed, deleted)."""
    await session.execute(delete(CaseTerm).where(CaseTerm.case_id == case_id))
    await session.execute(update(Case).where(Case.id == case_id)
                          .values(search_key=None, readiness=0, danger=None, consent=None, **_need(False))
                          .execution_options(synchronize_session=False))


async def index_case(session: AsyncSession, keys: KeyStore, case: CaseRecord, key: DataKey, documents: DocumentFn | None,
                     *, indexed_with: str | None) -> None:
    """Bring a case's terms and plain facets up to date after its answers, status or decision changed
    (called by `SqlCases.save` in the same transaction). `indexed_with`: the case's `search_key`
    before: when it is not the current one, the thread's messages are (re-)tokenised too."""
    if case.status in NOT_INDEXED or case.shredded_at is not None:
        if indexed_with is not None:
            await drop_case(session, case.id)
        return
    doc = (documents or plain_document)(case)
    sk = await search_key(session, keys)
    tokens = {sk.word(w) for w in words(doc.text)} | {sk.facet(n, v) for n, values in doc.facets.items() for v in values}
    if indexed_with == SEARCH_KEY_ID:
        await session.execute(delete(CaseTerm).where(CaseTerm.case_id == case.id, CaseTerm.source == "case"))
    else:
        await session.execute(delete(CaseTerm).where(CaseTerm.case_id == case.id))
        rows = (await session.execute(select(Message.id, Message.body_enc).where(Message.case_id == case.id))).all()
        msg_rows: list[dict[str, str]] = []
        for mid, body in rows:
            text = key.decrypt_text(body, table="messages", column="body", row_id=mid)
            msg_rows.extend({"case_id": case.id, "source": mid, "term": t} for t in sorted({sk.word(w) for w in words(text)}))
        if msg_rows:
            await session.execute(insert(CaseTerm), msg_rows)
    await _put(session, case.id, "case", tokens)
    await session.execute(
        update(Case).where(Case.id == case.id)
        .values(search_key=SEARCH_KEY_ID, readiness=doc.readiness, danger=doc.danger, consent=doc.consent, **_need(doc.danger is True))
        .execution_options(synchronize_session=False)
    )


_DRAFTS = "intake.drafts"  # session.info: ids of the cases this transaction knows to be drafts


def drafts_seen(session: AsyncSession, case_id: str, is_draft: bool) -> None:
    """Remember (or forget) that `case_id` is a draft in this transaction, so a message added to it
    needs no look-up of its index state (called by the case repository on every read and save)."""
    known: set[str] = session.info.setdefault(_DRAFTS, set())
    if is_draft:
        known.add(case_id)
    else:
        known.discard(case_id)


async def message_added(session: AsyncSession, keys: KeyStore, *, case_id: str, message_id: str, body: str, direction: str,
                        kind: str, verified: bool, now: datetime) -> None:
    """A thread message was written (called by `SqlMessages.add`): its words join the case's terms
    when the case is in the index, and the case's latest message each way moves on."""
    if case_id in session.info.get(_DRAFTS, ()):  # a draft read or written in this transaction: never indexed
        indexed = None
    else:
        indexed = await session.scalar(select(Case.search_key).where(Case.id == case_id))
    if indexed == SEARCH_KEY_ID:
        sk = await search_key(session, keys)
        await _put(session, case_id, message_id, (sk.word(w) for w in words(body)))
    if direction in ("in", "out") and verified and kind != "first_message":
        # the new message decides "new reply": in → yes, waiting since now; out → no, waiting since queued
        values: dict[Any, Any] = (
            {Case.last_in_at: now, Case.need_rank: case((Case.danger.is_(True), 0), else_=2), Case.waiting_at: now} if direction == "in"
            else {Case.last_out_at: now, Case.need_rank: case((Case.danger.is_(True), 1), else_=3), Case.waiting_at: Case.queued_at}
        )
        await session.execute(update(Case).where(Case.id == case_id).values(values).execution_options(synchronize_session=False))
