"""Which questions apply, in which order, and where the answers live in the draft.

The questionnaire and the answers together define an ordered list of *slots* — the questions
that apply now, and the "add another?" choice after each repeatable group — and the submitter
is on the first slot not yet answered (or the slot they moved to with back/edit).
"""

from __future__ import annotations

from typing import Any

from intake.engine.model import Draft, PathT, Slot, parse_path, path_key
from intake.questionnaire import Condition, Group, Question, Questionnaire


def _value_of(scopes: tuple[dict[str, Any], ...], qid: str) -> tuple[bool, Any]:
    for scope in scopes:
        if qid in scope:
            return True, scope[qid]
    return False, None


def holds(cond: Condition, scopes: tuple[dict[str, Any], ...]) -> bool:
    """Whether `cond` is true for the answers visible from the innermost scope outwards."""
    if cond.all is not None:
        return all(holds(c, scopes) for c in cond.all)
    if cond.any is not None:
        return any(holds(c, scopes) for c in cond.any)
    assert cond.q is not None
    present, value = _value_of(scopes, cond.q)
    if not present or value is None:
        return False
    if cond.eq is not None:
        return bool(value == cond.eq)
    if cond.ne is not None:
        return bool(value != cond.ne)
    if cond.in_ is not None:
        return value in cond.in_
    if cond.includes is not None:
        return isinstance(value, list) and cond.includes in value
    return False  # pragma: no cover - the model forbids this shape


def is_required(question: Question, scopes: tuple[dict[str, Any], ...]) -> bool:
    """Required, unless its `optional_when` holds for these answers."""
    if not question.required:
        return False
    return not (question.optional_when and holds(question.optional_when, scopes))


def slots(q: Questionnaire, draft: Draft) -> list[Slot]:
    """The slots that apply to these answers, in order."""
    out: list[Slot] = []
    closed = set(draft.closed_groups)

    def walk(items: list[Question | Group], scopes: tuple[dict[str, Any], ...], prefix: PathT, si: int) -> None:
        for item in items:
            if item.when is not None and not holds(item.when, scopes):
                continue
            if isinstance(item, Question):
                out.append(Slot("question", prefix + (item.id,), item, si, scopes))
                continue
            gpath = prefix + (item.id,)
            instances = scopes[0].get(item.id) or []
            if not instances and item.min > 0:
                walk(item.items, ({},) + scopes, gpath + (0,), si)  # the first instance, not yet begun
            for i, instance in enumerate(instances):
                walk(item.items, (instance,) + scopes, gpath + (i,), si)
            if len(instances) < item.max and (len(instances) >= item.min or path_key(gpath) in closed):
                out.append(Slot("add", gpath, item, si, scopes))

    for si, section in enumerate(q.sections):
        walk(section.items, (draft.answers,), (), si)
    return out


def answered(slot: Slot, draft: Draft) -> bool:
    """A question with a stored answer (a skip counts), or an "add another?" answered no."""
    if slot.kind == "add":
        return slot.key in draft.closed_groups
    return slot.path[-1] in slot.scopes[0] if slot.scopes else False


def missing(q: Questionnaire, draft: Draft) -> list[Slot]:
    """Required questions that apply and have no answer yet."""
    out = []
    for slot in slots(q, draft):
        if slot.kind == "question" and isinstance(slot.item, Question):
            present = slot.path[-1] in slot.scopes[0]
            value = slot.scopes[0].get(str(slot.path[-1]))
            if is_required(slot.item, slot.scopes) and (not present or value in (None, [], "")):
                out.append(slot)
    return out


def find(slot_list: list[Slot], path: list[str | int] | PathT | None) -> int | None:
    """The index of the slot at `path` in `slot_list`, or None."""
    if path is None:
        return None
    key = path_key(path)
    for i, s in enumerate(slot_list):
        if s.key == key:
            return i
    return None


# ---- answers in nested dicts -----------------------------------------------------------------


def container(answers: dict[str, Any], path: PathT, create: bool) -> dict[str, Any] | None:
    """The dict that holds the last element of `path`, creating group instances if asked."""
    node: Any = answers
    i = 0
    while i < len(path) - 1:
        name, index = path[i], path[i + 1]
        assert isinstance(name, str) and isinstance(index, int)
        lst = node.get(name)
        if lst is None:
            if not create:
                return None
            lst = node[name] = []
        while len(lst) <= index:
            if not create:
                return None
            lst.append({})
        node = lst[index]
        i += 2
    return node if isinstance(node, dict) else None


def get_value(answers: dict[str, Any], path: PathT) -> tuple[bool, Any]:
    """(present, value) of the answer at `path`."""
    holder = container(answers, path, create=False)
    if holder is None or path[-1] not in holder:
        return False, None
    return True, holder[str(path[-1])]


def store(draft: Draft, path: PathT, value: Any) -> Draft:
    """A copy of the draft with `value` at `path` (group instances created as needed)."""
    new = draft.model_copy(deep=True)
    holder = container(new.answers, path, create=True)
    assert holder is not None
    holder[str(path[-1])] = value
    return new


def prune(q: Questionnaire, draft: Draft) -> Draft:
    """Drop answers to questions whose conditions no longer hold (after an edit changed one)."""
    new = draft.model_copy(deep=True)

    def clean(items: list[Question | Group], scope: dict[str, Any], outer: tuple[dict[str, Any], ...]) -> None:
        scopes = (scope,) + outer
        for item in items:
            if item.when is not None and not holds(item.when, scopes):
                scope.pop(item.id, None)
                continue
            if isinstance(item, Group):
                for instance in scope.get(item.id) or []:
                    clean(item.items, instance, scopes)

    for section in q.sections:
        clean(section.items, new.answers, ())
    # twice: removing one answer can switch off a condition further down
    for section in q.sections:
        clean(section.items, new.answers, ())
    live = {s.key for s in slots(q, new) if s.kind == "add"}
    new.closed_groups = [g for g in new.closed_groups if g in live or _group_exists(new.answers, g)]
    return new


def _group_exists(answers: dict[str, Any], key: str) -> bool:
    present, _ = get_value(answers, parse_path(key))
    return present


def open_instances(q: Questionnaire, draft: Draft, path: PathT) -> Draft | None:
    """Create the group instances `path` names, when each is the next instance of a repeatable
    group that applies and has room (e.g. `perpetrators.1.perp_name` when there is one so far).
    Returns the new draft, or None when `path` cannot be opened."""
    current = draft
    opened = False
    for depth in range(0, len(path) - 1, 2):
        group_path, index = path[: depth + 1], path[depth + 1]
        if not isinstance(index, int):
            return None
        present, value = get_value(current.answers, group_path)
        count = len(value) if present and isinstance(value, list) else 0
        if index < count:
            continue
        live = slots(q, current)
        if count == 0 and index == 0 and any(s.path[: depth + 2] == group_path + (0,) for s in live):
            continue  # the first instance of a required group: its questions are already asked
        group_slot = next((s for s in live if s.kind == "add" and s.path == group_path), None)
        if group_slot is None or index != count:
            return None
        group = group_slot.item
        assert isinstance(group, Group)
        new = current.model_copy(deep=True)
        holder = container(new.answers, group_path, create=True)
        assert holder is not None
        holder.setdefault(group.id, []).append({})
        new.closed_groups = [g for g in new.closed_groups if g != group_slot.key]
        current, opened = new, True
    return current if opened else None
