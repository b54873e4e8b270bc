"""Many submitted cases fast, for benchmarks and scale tests (`seed_cases`): each is created and
submitted through the case repository in the same way the case service does it — its own data key,
the draft encrypted, the search terms and queue facets written by the save — `batch` cases per
transaction. The answers are a template (a full draft from the caller, or a small one here) with
a title and summary varied per case, so searches have hits and misses at any size."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from intake import lifecycle
from intake.app import App

# words of several scripts; case i uses WORDS[i % len], WORDS[(i * 7) % len] and a unique marker
WORDS = ["zanzibar", "fishing", "brick", "kiln", "garment", "école", "дубай", "рабство", "مزرعة", "عمال", "quarry", "harbour",
         "tannery", "mine", "plantation", "vessel", "agency", "recruiter", "passport", "debt"]
FORMS = ["forced_labour", "domestic_servitude", "debt_bondage", "sex_trafficking"]
COUNTRIES = ["PH", "AE", "TH", "UA", "NG", "QA", "BR"]


def small_draft() -> dict[str, Any]:
    """A small submitted-looking draft (the default questionnaire's ids)."""
    return {"answers": {"case_title": "", "case_summary": "", "abuse_forms": ["forced_labour"],
                        "abuse_locations": [{"loc_country": "PH"}], "victims_minors": "no", "abuse_ongoing": "yes",
                        "consent_status": "written"}, "lang": "en", "mode": "review"}


def vary(template: dict[str, Any], i: int) -> dict[str, Any]:
    """The template with case i's title, summary, abuse form, country and flags."""
    draft = copy.deepcopy(template)
    answers = draft.setdefault("answers", {})
    a, b = WORDS[i % len(WORDS)], WORDS[(i * 7 + 3) % len(WORDS)]
    answers["case_title"] = f"Seeded {a} case {i}"
    answers["case_summary"] = f"Workers at the {a} site were moved by a {b} network; marker seed{i}x."
    answers["abuse_forms"] = [FORMS[i % len(FORMS)]]
    answers["abuse_locations"] = [{"loc_country": COUNTRIES[i % len(COUNTRIES)]}]
    answers["victims_minors"] = ("yes", "no", "unknown")[i % 3]
    answers["abuse_ongoing"] = ("yes", "no")[i % 2]
    return draft


async def seed_cases(app: App, n: int, *, start: int = 0, batch: int = 200, template: dict[str, Any] | None = None,
                     channel: str = "terminal", progress: Callable[[int], None] | None = None) -> list[str]:
    """Create and submit `n` cases (numbered from `start`); returns their references."""
    base = template or small_draft()
    refs: list[str] = []
    for first in range(start, start + n, batch):
        async with app.store.write() as uow:
            for i in range(first, min(first + batch, start + n)):
                now = app.clock()
                reference = f"SD-{i:07d}"
                submitter = await uow.submitters.get_or_create(channel=channel, identity=f"seed-{i}", lang="en", now=now)
                case = await uow.cases.create(
                    submitter_id=submitter.id, channel=channel, reference=reference, questionnaire_id=app.questionnaire.id,
                    questionnaire_version=app.questionnaire.version, lang="en", draft=vary(base, i), status=lifecycle.DRAFT, now=now,
                )
                case.status, case.submitted_at = lifecycle.SUBMITTED, now
                await uow.cases.save(case, now=now)
                refs.append(reference)
        if progress is not None:
            progress(len(refs))
    return refs
