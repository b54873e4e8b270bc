"""Full-text search and answer filters over decrypted cases, held only in this process's memory.

Nothing searchable is ever written to disk: the database holds ciphertext only, and this index is
rebuilt from it. Each entry remembers the case version it was built from; before every query the
index asks the database for all `(id, version)` pairs (two small columns, no content) and
decrypts only cases that are new or changed, and forgets cases that are gone or whose key was
destroyed. Several processes each keep their own index and stay consistent with the database.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from casework.checklist import checklist
from intake import engine
from intake.consent import consent_of
from intake.questionnaire import Questionnaire
from intake.triage import triage_facts
from storage.repositories import CaseRecord, UnitOfWork
from storage.review import ReviewQueries

log = logging.getLogger(__name__)

_PHRASE = re.compile(r'"([^"]+)"|(\S+)')


def normalise(text: str) -> str:
    """Case-folded, accent-insensitive form used on both sides of a match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def terms(query: str) -> list[str]:
    """Query terms: words, or "quoted phrases"; each must occur in a matching case."""
    out = []
    for phrase, word in _PHRASE.findall(query):
        term = normalise(phrase or word).strip()
        if term:
            out.append(term)
    return out


@dataclass
class Entry:
    """What the index keeps for one case: its version, facets and searchable text."""

    version: tuple[int, int]  # (case version, thread messages) it was built from
    title: str | None
    abuse_forms: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    minors: str | None = None
    ongoing: str | None = None
    danger: bool | None = None  # someone in immediate danger (intake.triage)
    consent: str = "not_said"  # sharing with governments: allowed | refused | not_said (intake.consent)
    readiness: int = 0  # the designation checklist's score (casework): the queue's "closest to ready" order
    text: str = ""

    def matches(self, needles: list[str]) -> bool:
        return all(n in self.text for n in needles)


def facets(case: CaseRecord) -> dict[str, Any]:
    """The triage facets of a case's answers: abuse forms, countries, minors, ongoing, title."""
    answers: dict[str, Any] = case.draft.get("answers", {}) or {}
    countries: list[str] = []
    for loc in answers.get("abuse_locations") or []:
        code = loc.get("loc_country") if isinstance(loc, dict) else None
        if isinstance(code, str) and code not in countries:
            countries.append(code)
    title = answers.get("case_title")
    forms = answers.get("abuse_forms")
    minors = answers.get("victims_minors")
    ongoing = answers.get("abuse_ongoing")
    share = consent_of(answers).share_with_governments
    return {
        "consent": "allowed" if share is True else ("refused" if share is False else "not_said"),
        "title": title if isinstance(title, str) else None,
        "abuse_forms": [f for f in forms if isinstance(f, str)] if isinstance(forms, list) else [],
        "countries": countries,
        "minors": minors if isinstance(minors, str) else None,
        "ongoing": ongoing if isinstance(ongoing, str) else None,
    }


class CaseIndex:
    """The in-memory index of every readable case; `refresh` brings it up to date."""

    def __init__(self, questionnaire: Questionnaire) -> None:
        self.q = questionnaire
        self.entries: dict[str, Entry] = {}
        self._lock = asyncio.Lock()

    def build_entry(self, case: CaseRecord, thread: list[str] | None = None, stamp: tuple[int, int] | None = None) -> Entry:
        """The searchable text of a case: reference, displayed answers, decision reason, and the
        thread (submitter replies, follow-ups, internal notes)."""
        draft = engine.Draft.model_validate(case.draft)
        parts = [case.reference, *(thread or [])]
        for section in engine.summary(self.q, draft):
            for line in section.lines:
                if line.value:
                    parts.append(line.value)
        if case.decision_reason:
            parts.append(case.decision_reason)
        danger = triage_facts(self.q, draft.answers).danger
        readiness = checklist(self.q, draft.answers).score
        return Entry(version=stamp or (case.version, len(thread or [])), text=normalise("\n".join(parts)), danger=danger,
                     readiness=readiness, **facets(case))

    async def refresh(self, uow: UnitOfWork) -> None:
        """Decrypt what changed since the last refresh; drop what is gone or unreadable."""
        async with self._lock:
            versions = await ReviewQueries(uow.session).all_versions()
            for gone in set(self.entries) - set(versions):
                del self.entries[gone]
            stale = [cid for cid, v in versions.items() if (e := self.entries.get(cid)) is None or e.version != v]
            for case_id in stale:
                try:
                    case = await uow.cases.get(case_id)
                    thread = [m.body for m in await uow.messages.for_case(case_id)]
                except LookupError:  # content destroyed, or deleted meanwhile
                    self.entries.pop(case_id, None)
                    continue
                self.entries[case_id] = self.build_entry(case, thread, versions[case_id])
            if stale:
                log.info("search index refreshed: %d cases decrypted, %d held", len(stale), len(self.entries))

    def forget(self) -> None:
        """Drop everything held (e.g. on shutdown)."""
        self.entries.clear()
