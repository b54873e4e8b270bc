"""Validated drafts and their next prompt, computed once per stored version of a case.

One input reads the open draft up to three times (the channel's look at the current prompt, the
check that the input was meant for it, the engine step), in one process or across a few. Each
read would validate the decrypted JSON with pydantic and work out the next prompt again; this
cache keeps both per (case id, version). An entry is used only when the record's draft equals
the one it was made from, so a record changed in memory and not yet saved is never served a
stale view; a save by another process bumps the version, so it is never served one either.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from intake import engine
from intake.engine import Draft, Prompt
from intake.questionnaire import Questionnaire
from storage.repositories import CaseRecord

SIZE = 512  # entries: the conversations that moved most recently (a few MB at most, whatever the number of drafts)


@dataclass
class _View:
    stored: dict[str, Any]
    draft: Draft
    prompt: Prompt | None = None


class DraftViews:
    """A bounded, per-process cache of validated drafts and next prompts by (case id, version)."""

    def __init__(self, questionnaire: Questionnaire, *, size: int = SIZE) -> None:
        self.q = questionnaire
        self.size = size
        self._views: OrderedDict[tuple[str, int], _View] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def _view(self, case: CaseRecord) -> _View:
        key = (case.id, case.version)
        view = self._views.get(key)
        if view is not None and (view.stored is case.draft or view.stored == case.draft):
            self._views.move_to_end(key)
            self.hits += 1
            return view
        self.misses += 1
        view = _View(case.draft, Draft.model_validate(case.draft))
        self._put(key, view)
        return view

    def _put(self, key: tuple[str, int], view: _View) -> None:
        self._views[key] = view
        self._views.move_to_end(key)
        while len(self._views) > self.size:
            self._views.popitem(last=False)

    def draft(self, case: CaseRecord) -> Draft:
        return self._view(case).draft

    def prompt(self, case: CaseRecord) -> Prompt:
        view = self._view(case)
        if view.prompt is None:
            view.prompt = engine.next_prompt(self.q, view.draft)
        return view.prompt

    def prompt_after(self, case: CaseRecord, draft: Draft) -> Prompt:
        """The next prompt of `draft`, the outcome of a step on `case`: computed once and kept when
        it is what `case` now stores (see `keep`)."""
        view = self._views.get((case.id, case.version))
        if view is None or view.draft is not draft:
            return engine.next_prompt(self.q, draft)
        if view.prompt is None:
            view.prompt = engine.next_prompt(self.q, draft)
        return view.prompt

    def keep(self, case: CaseRecord, draft: Draft) -> None:
        """`case` was just saved holding `draft` (its JSON form): remember both for its new version."""
        self._put((case.id, case.version), _View(case.draft, draft))
