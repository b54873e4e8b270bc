"""What `edit X` names: a section (id or number), an answer's review number (`5.3`), a path, a
question id, or a question's label (case-insensitive; a unique beginning is enough)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from intake.engine.model import Draft, Slot
from intake.engine.view import summary
from intake.i18n import translator
from intake.questionnaire import Question, Questionnaire


@dataclass(frozen=True)
class EditTarget:
    slot: Slot | None = None
    section: bool = False  # the whole section from `slot` on
    error: str | None = None


def _clean(target: str) -> str:
    return re.sub(r"\s+", " ", target.strip().strip("\"'“”‘’«»").lstrip("#").rstrip(".:").strip())


def _question_slots(all_slots: list[Slot]) -> list[Slot]:
    return [s for s in all_slots if s.kind == "question" and isinstance(s.item, Question)]


def _labels(slot: Slot, lang: str) -> tuple[str, str]:
    assert isinstance(slot.item, Question)
    return slot.item.short(lang).casefold(), slot.item.text.get(lang).casefold()


def resolve_edit(q: Questionnaire, draft: Draft, all_slots: list[Slot], target: str) -> EditTarget:
    """The slot (or section) `target` names among the slots that apply, or a plain-words error."""
    t = translator(draft.lang)
    wanted = _clean(target)
    if not wanted:
        return EditTarget(error=t("Say what to edit: the number shown in the review (e.g. 2.3), the question's name, or a section number."))
    folded = wanted.casefold()
    for si, section in enumerate(q.sections):
        if wanted in (section.id, str(si + 1)) or folded == section.title.get(draft.lang).casefold():
            first = next((s for s in all_slots if s.section == si), None)
            if first is None:
                return EditTarget(error=t("Nothing in that section applies to this case."))
            return EditTarget(slot=first, section=True)
    if re.fullmatch(r"\d+\.\d+", wanted):
        keys = {line.number: line.path for sec in summary(q, draft) for line in sec.lines if line.number}
        path = keys.get(wanted)
        match = next((s for s in all_slots if s.key == path), None) if path else None
        if match is None:
            return EditTarget(error=t("There is no answer number {number} in the review. Open the review to see the numbers.", number=wanted))
        return EditTarget(slot=match)
    questions = _question_slots(all_slots)
    exact = [s for s in all_slots if s.key == wanted]
    if exact:
        return EditTarget(slot=exact[0])
    candidates = (
        [s for s in questions if s.path[-1] == wanted]
        or [s for s in questions if folded in _labels(s, draft.lang)]
        or [s for s in questions if _labels(s, draft.lang)[0].startswith(folded)]
    )
    names = {str(s.path[-1]) for s in candidates}
    if len(names) > 1:
        labels = ", ".join(sorted({_labels(s, draft.lang)[0] for s in candidates})[:6])
        return EditTarget(error=t("“{target}” could mean several questions ({labels}). Please give more of the name.", target=wanted, labels=labels))
    if len(candidates) > 1:
        numbers = {line.path: line.number for sec in summary(q, draft) for line in sec.lines if line.number}
        shown = ", ".join(n for s in candidates if (n := numbers.get(s.key)))
        return EditTarget(
            error=t(
                "“{target}” is asked more than once in this case. Please give the number shown in the review: {numbers}",
                target=wanted,
                numbers=shown or t("open the review to see them"),
            )
        )
    if not candidates:
        return EditTarget(
            error=t(
                "There is no question “{target}” in this case. Give the number shown in the review (e.g. 2.3), the question's name, or a section number.",
                target=wanted,
            )
        )
    return EditTarget(slot=candidates[0])
