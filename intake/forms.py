"""Bulk answers (a filled-in form): every `path → raw text` through the engine's own validation."""

from __future__ import annotations

from intake import engine
from intake.engine import Draft
from intake.i18n import translator
from intake.questionnaire import Questionnaire


def _natural(key: str) -> list[tuple[int, str]]:
    """Sort key for answer paths: instance numbers compare as numbers."""
    return [(int(p), "") if p.isdigit() else (-1, p) for p in key.split(".")]


def apply_form(q: Questionnaire, draft: Draft, raw: dict[str, str]) -> tuple[Draft, dict[str, str | None], list[str]]:
    """Apply form answers to a draft (pure). Returns the new draft, per path None (accepted) or the
    error text, and the notices the answers raised. Paths are applied in questionnaire order so
    conditions see earlier answers first; answers that open a later question (a condition, a new
    numbered group instance) are tried again on a later pass. A draft that stops (the channel is
    not safe) is returned at once with `stopped` set."""
    results: dict[str, str | None] = {}
    notices: list[str] = []
    pending = dict(raw)
    for _ in range(8):
        progressed = False
        order = {s.key: i for i, s in enumerate(engine.slots(q, draft))}
        for key in sorted(pending, key=lambda k: (order.get(k, len(order)), _natural(k))):
            outcome = engine.set_answer(q, draft, engine.parse_path(key), pending[key])
            if not outcome.applies:
                continue
            pending.pop(key)
            results[key] = outcome.error
            if outcome.ok:
                draft = outcome.draft
                notices.extend(outcome.notices)
                progressed = True
                if draft.stopped:
                    return draft, results, notices
        if not pending or not progressed:
            break
    for key in pending:
        results[key] = translator(draft.lang)("That question does not apply to this case.")
    return draft, results, notices


def append_text(q: Questionnaire, draft: Draft, path: str, more: str) -> engine.Outcome:
    """The text answer at `path` with `more` appended (a long answer that arrived in parts),
    validated again; the position in the questionnaire does not move."""
    present, value = engine.get_value(draft.answers, engine.parse_path(path))
    joined = f"{value}\n{more}" if present and isinstance(value, str) else more
    return engine.set_answer(q, draft, engine.parse_path(path), joined)
