"""What a case contributes to the search index (storage.search_index): the text staff search in —
reference, answers as displayed (option texts, country names), decision reason — the facet values
the queue filters on (stored as blind tokens) and the plain facets it sorts on (danger, readiness,
consent). Built in the transaction that saves the case, for every case that is not a draft.

Extension point: `SCORES` maps a name to a pure function of (questionnaire, answers) whose sum is
the case's `readiness` (the queue's "closest to ready" order); casework's designation checklist
registers itself there (review.search)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from intake import engine
from intake.consent import consent_of
from intake.questionnaire import Questionnaire
from intake.triage import triage_facts
from storage.records import CaseRecord
from storage.search_index import Document, DocumentFn, plain_document

log = logging.getLogger(__name__)

SCORES: dict[str, Callable[[Questionnaire, dict[str, Any]], int]] = {}


def facets(answers: dict[str, Any]) -> dict[str, Any]:
    """The triage facets of a case's answers: abuse forms, countries, minors, ongoing, title, consent."""
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


def builder(q: Questionnaire) -> DocumentFn:
    """The document function the store calls on every save of a case that is not a draft."""

    def document(case: CaseRecord) -> Document:
        try:
            draft = engine.Draft.model_validate(case.draft)
            parts = [case.reference]
            for section in engine.summary(q, draft):
                parts.extend(line.value for line in section.lines if line.value)
            if case.decision_reason:
                parts.append(case.decision_reason)
            f = facets(draft.answers)
            return Document(
                text="\n".join(parts),
                facets={"abuse_forms": f["abuse_forms"], "countries": f["countries"],
                        **{k: [f[k]] for k in ("minors", "ongoing") if f[k]}},
                readiness=sum(score(q, draft.answers) for score in SCORES.values()),
                danger=triage_facts(q, draft.answers).danger,
                consent=f["consent"],
            )
        except Exception as exc:  # noqa: BLE001 - a case must save even when its display cannot be built
            log.warning("search document of case %s from its raw answers (%s)", case.id, type(exc).__name__)
            return plain_document(case)

    return document
