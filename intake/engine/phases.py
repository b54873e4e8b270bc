"""Essentials first, details later: which slots the conversation walks now.

The first pass walks only the *essential* slots (questions tagged `essential`, inside groups that
are essential themselves, and the "add another?" after an essential group): what staff need to act.
When they are answered the submitter chooses: add the details now, or submit and add them later.
Details come in *rounds*, one section at a time (`Draft.round` names the section); between rounds
the same choice is offered again. Everything here is a pure function of the questionnaire and the
draft, so every channel (and the email forms) can ask the same questions:

- `phase(q, draft)`: "essentials" (a first-pass slot is unanswered), "details" (the first pass is
  done, some detail is not answered yet) or "complete".
- `essential_missing(q, draft)`: required essential questions without an answer — the submit rule.
- `details_missing(q, draft)`: required questions that are not essential and have no answer — the
  "details still wanted" staff see and the submitter is asked for later.
- `details_left(q, draft)`: every detail slot not answered yet (required or not), in order;
  `next_round(q, draft)` the section the next round asks and how many it has left.
"""

from __future__ import annotations

from typing import Literal

from intake.engine.model import Draft, Slot
from intake.engine.slots import answered, find, missing, slots
from intake.questionnaire import Group, Question, Questionnaire

Phase = Literal["essentials", "details", "complete"]


def first_pass_ids(q: Questionnaire) -> frozenset[str]:
    """Ids of the questions and groups asked in the first pass: tagged essential, and every
    enclosing group essential too."""
    out: set[str] = set()

    def visit(items: list[Question | Group]) -> None:
        for item in items:
            if not item.essential:
                continue
            out.add(item.id)
            if isinstance(item, Group):
                visit(item.items)

    for section in q.sections:
        visit(section.items)
    return frozenset(out)


def is_essential(slot: Slot, ids: frozenset[str]) -> bool:
    """Whether the slot belongs to the first pass (every name on its path is essential)."""
    return all(p in ids for p in slot.path if isinstance(p, str))


def essential_slots(q: Questionnaire, draft: Draft, all_slots: list[Slot] | None = None) -> list[Slot]:
    ids = first_pass_ids(q)
    return [s for s in (all_slots if all_slots is not None else slots(q, draft)) if is_essential(s, ids)]


def walk(q: Questionnaire, draft: Draft, all_slots: list[Slot] | None = None) -> list[Slot]:
    """The slots the conversation goes through now: the first pass, and in a details round its
    section too (so `back` from a round's first question reaches the answers before it)."""
    every = all_slots if all_slots is not None else slots(q, draft)
    index = section_index(q, draft.round) if draft.round is not None else None
    ids = first_pass_ids(q)
    return [s for s in every if s.section == index or is_essential(s, ids)]


def section_index(q: Questionnaire, section_id: str) -> int | None:
    return next((i for i, s in enumerate(q.sections) if s.id == section_id), None)


def current_slot(q: Questionnaire, draft: Draft) -> Slot | None:
    """The slot the submitter is on: the one moved to with back/edit, else the first unanswered
    slot of the walk; None at the review screen, at the details choice, or when stopped."""
    if draft.stopped:
        return None
    every = slots(q, draft)
    at = find(every, draft.cursor)
    if at is not None:
        return every[at]
    if draft.mode == "review":
        return None
    for slot in walk(q, draft, every):
        if not answered(slot, draft):
            return slot
    return None


def essential_missing(q: Questionnaire, draft: Draft) -> list[Slot]:
    """Required essential questions that apply and have no answer: what blocks submitting."""
    ids = first_pass_ids(q)
    return [s for s in missing(q, draft) if is_essential(s, ids)]


def details_missing(q: Questionnaire, draft: Draft) -> list[Slot]:
    """Required questions outside the first pass that apply and have no answer: details still wanted."""
    ids = first_pass_ids(q)
    return [s for s in missing(q, draft) if not is_essential(s, ids)]


def details_left(q: Questionnaire, draft: Draft) -> list[Slot]:
    """Every slot outside the first pass not answered yet (optional ones too: not yet asked)."""
    ids = first_pass_ids(q)
    return [s for s in slots(q, draft) if not is_essential(s, ids) and not answered(s, draft)]


def phase(q: Questionnaire, draft: Draft) -> Phase:
    """Where the case stands: the first pass, the details, or complete."""
    if any(not answered(s, draft) for s in essential_slots(q, draft)):
        return "essentials"
    return "details" if details_left(q, draft) else "complete"


def next_round(q: Questionnaire, draft: Draft) -> tuple[int, int] | None:
    """(section index, slots left in it) of the next details round, or None when none is left."""
    left = details_left(q, draft)
    if not left:
        return None
    index = left[0].section
    return index, sum(1 for s in left if s.section == index)


def essentials_progress(q: Questionnaire, draft: Draft, slot: Slot) -> tuple[int, int]:
    """(n, m) for "essentials n/m": the position of `slot` among the first pass's questions."""
    questions = [s for s in essential_slots(q, draft) if s.kind == "question"]
    at = find(questions, slot.path)
    if at is None:
        at = sum(1 for s in questions if answered(s, draft))
        return min(at, len(questions)), len(questions)
    return at + 1, len(questions)
