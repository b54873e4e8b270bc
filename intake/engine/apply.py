"""Applying input to a draft: an answer, a button, a toggle, a file, or a command.

`apply` is the conversational path (it moves the submitter on); `set_answer` is the bulk path
(an email form: store one answer at a path without moving). Both validate through the field
registry, so every channel gets the same values and the same error texts.
"""

from __future__ import annotations

from typing import Any

from intake import fields
from intake.engine.model import SKIPPED, Action, AddFile, Answer, Choose, Command, Draft, Outcome, PathT, Slot, Toggle, path_key
from intake.engine.phases import current_slot, essential_missing, next_round, walk
from intake.engine.slots import answered, container, find, get_value, is_required, open_instances, prune, slots, store
from intake.engine.targets import resolve_edit
from intake.engine.view import STOPPED_TEXT, help_entries, help_text
from intake.fields import InvalidAnswer
from intake.i18n import translator
from intake.questionnaire import Group, Question, Questionnaire


def _fail(draft: Draft, message: str) -> Outcome:
    return Outcome(draft=draft, ok=False, error=message)


def _after(all_slots: list[Slot], slot: Slot) -> Slot | None:
    at = find(all_slots, slot.path)
    return all_slots[at + 1] if at is not None and at + 1 < len(all_slots) else None


def _route(q: Questionnaire, draft: Draft, slot: Slot) -> list[Slot]:
    """The slots to move through from `slot`: the walk (first pass or details round) when it holds
    the slot, else every slot (a question reached with edit)."""
    here = walk(q, draft)
    return here if find(here, slot.path) is not None else slots(q, draft)


def _advance(q: Questionnaire, before: Draft, after: Draft, slot: Slot) -> Draft:
    """Move on after `slot` was answered (or kept), according to the mode.

    flow: on to the first unanswered slot — except after `back`, where the submitter goes on to
    the slot after the one just answered, answered or not, so nothing is jumped over.
    edit_section: the next slot of the section, then the review. edit_one: questions the edit
    opened in the same section, then the flow (or the review when nothing is left).
    """
    after = after.model_copy(update={"pending": None, "pending_path": None})
    if after.mode == "edit_section":
        # the section's answers, and what the walk asks (the first pass does not ask details)
        here = {s.key for s in walk(q, after)}
        route = [s for s in slots(q, after) if s.key in here or answered(s, after) or s.key == slot.key]
        nxt = _after(route, slot)
        if nxt is not None and nxt.section == slot.section:
            return after.model_copy(update={"cursor": list(nxt.path)})
        return after.model_copy(update={"cursor": None, "mode": "review"})
    if after.mode == "edit_one":
        # an edit can open new questions (a changed condition): ask those in the same section first
        pending = [s for s in walk(q, after) if not answered(s, after)]
        for s in pending:
            if s.section == slot.section:
                return after.model_copy(update={"cursor": list(s.path)})
        # nothing new here: back to the flow if questions remain, else to the review screen
        return after.model_copy(update={"cursor": None, "mode": "flow" if pending else "review"})
    if before.cursor is not None and answered(slot, before):
        nxt = _after(_route(q, after, slot), slot)
        if nxt is not None:
            return after.model_copy(update={"cursor": list(nxt.path), "mode": "flow"})
    return after.model_copy(update={"cursor": None, "mode": "flow"})


def _notices(question: Question, value: Any, lang: str) -> tuple[list[str], bool]:
    texts, stop = [], False
    for notice in question.notices:
        if notice.if_answer == value:
            texts.append(notice.text.get(lang))
            stop = stop or notice.stop
    return texts, stop


def _set(q: Questionnaire, draft: Draft, slot: Slot, value: Any) -> Outcome:
    question = slot.item
    assert isinstance(question, Question)
    stored = prune(q, store(draft, slot.path, value))
    notices, stop = _notices(question, value, draft.lang)
    if stop:
        return Outcome(draft=stored.model_copy(update={"stopped": True, "cursor": None}), ok=True, notices=notices, changed=True, stopped=True)
    return Outcome(draft=_advance(q, draft, stored, slot), ok=True, notices=notices, changed=True)


def _parse(question: Question, slot: Slot, raw: str, lang: str) -> Any:
    """The value for `raw`: a blank answer skips an optional question marked `blank_skips`;
    otherwise the registry's parser."""
    optional = not is_required(question, slot.scopes)
    if not raw.strip():
        if optional and question.blank_skips:
            return SKIPPED
        if optional:
            raise InvalidAnswer(translator(lang)("Please type an answer, or skip this question."))
    return fields.parse(question, raw, lang)


def set_answer(q: Questionnaire, draft: Draft, path: PathT, raw: str) -> Outcome:
    """Validate and store one raw answer at `path` (any applicable slot), without moving the cursor.

    This is the bulk path (an email form): the same parser as the conversational path.
    """
    t = translator(draft.lang)
    all_slots = slots(q, draft)
    at = find(all_slots, path)
    if at is None:
        opened = open_instances(q, draft, path)
        if opened is not None:
            all_slots = slots(q, opened)
            at = find(all_slots, path)
            draft = opened if at is not None else draft
    if at is None:
        return Outcome(draft=draft, ok=False, error=t("That question does not apply to this case."), applies=False)
    slot = all_slots[at]
    if not isinstance(slot.item, Question):
        return _fail(draft, t("That question does not apply to this case."))
    try:
        value = _parse(slot.item, slot, raw, draft.lang)
    except InvalidAnswer as exc:
        return _fail(draft, exc.message)
    stored = prune(q, store(draft, slot.path, value))
    notices, stop = _notices(slot.item, value, draft.lang)
    if stop:
        stored = stored.model_copy(update={"stopped": True, "cursor": None})
    return Outcome(draft=stored, ok=True, notices=notices, changed=True, stopped=stop)


def apply(q: Questionnaire, draft: Draft, action: Action) -> Outcome:
    """Apply one input or command to the draft; return the new draft and what to tell the person."""
    t = translator(draft.lang)
    if draft.stopped:
        return _fail(draft, t(STOPPED_TEXT))
    if isinstance(action, Command):
        return _command(q, draft, action)
    slot = current_slot(q, draft)
    if slot is None and draft.mode != "review" and next_round(q, draft) is not None:
        return _choose_details(q, draft, action)
    if slot is None:
        return _fail(draft, t("Your answers are complete. Please review them and submit, or edit a section."))
    if slot.kind == "add":
        choice = action.option if isinstance(action, Choose) else action.text if isinstance(action, Answer) else None
        if choice is None:
            return _fail(draft, t("Please answer yes or no."))
        try:
            yes = parse_yes(choice, draft.lang)
        except InvalidAnswer as exc:
            return _fail(draft, exc.message)
        return _add_answer(q, draft, slot, yes)
    question = slot.item
    assert isinstance(question, Question)
    keyboard = fields.keyboard(question)
    if isinstance(action, Toggle):
        if keyboard != "checkboxes" or question.option(action.option) is None:
            return _fail(draft, t("That option is not part of this question."))
        base = _pending_for(draft, slot)
        chosen = [v for v in base if v != action.option] if action.option in base else base + [action.option]
        ordered = [o.id for o in question.options if o.id in chosen]
        return Outcome(draft=draft.model_copy(update={"pending": ordered, "pending_path": list(slot.path)}), ok=True)
    if isinstance(action, AddFile):
        if keyboard != "files":
            return _fail(draft, t("This question does not take files."))
        files = _pending_for(draft, slot)
        if action.attachment_id not in files:
            files = files + [action.attachment_id]
        return Outcome(draft=draft.model_copy(update={"pending": files, "pending_path": list(slot.path)}), ok=True)
    if isinstance(action, Choose):
        if keyboard == "yes_no":
            try:
                return _set(q, draft, slot, parse_yes(action.option, draft.lang))
            except InvalidAnswer as exc:
                return _fail(draft, exc.message)
        if keyboard == "options" and question.option(action.option) is not None:
            return _set(q, draft, slot, action.option)
        if keyboard == "checkboxes":
            return apply(q, draft, Toggle(action.option))
        return _fail(draft, t("That option is not part of this question."))
    assert isinstance(action, Answer)
    try:
        value = _parse(question, slot, action.text, draft.lang)
    except InvalidAnswer as exc:
        return _fail(draft, exc.message)
    return _set(q, draft, slot, value)


def parse_yes(text: str, lang: str) -> bool:
    return fields.parse_yes_no(text, translator(lang))


def _pending_for(draft: Draft, slot: Slot) -> list[Any]:
    if draft.pending is not None and draft.pending_path is not None and path_key(draft.pending_path) == slot.key:
        return list(draft.pending)
    present, value = get_value(draft.answers, slot.path)
    return list(value) if present and isinstance(value, list) else []


def _add_answer(q: Questionnaire, draft: Draft, slot: Slot, yes: bool) -> Outcome:
    group = slot.item
    assert isinstance(group, Group)
    new = draft.model_copy(deep=True)
    holder = container(new.answers, slot.path, create=True)
    assert holder is not None
    instances = holder.setdefault(group.id, [])
    if yes:
        if len(instances) >= group.max:
            return _fail(draft, translator(draft.lang)("That is the most this form can take here."))
        instances.append({})
        # later instances are decided again after this one
        new.closed_groups = [g for g in new.closed_groups if g != slot.key]
        new = new.model_copy(update={"cursor": None, "mode": "flow" if new.mode != "edit_section" else new.mode})
        if new.mode == "edit_section":
            first = slot.path + (len(instances) - 1,) + (group.items[0].id,)
            return Outcome(draft=new.model_copy(update={"cursor": list(first)}), ok=True, changed=True)
        return Outcome(draft=new, ok=True, changed=True)
    if not instances:
        holder.pop(group.id, None)
    if slot.key not in new.closed_groups:
        new.closed_groups = new.closed_groups + [slot.key]
    return Outcome(draft=_advance(q, draft, new, slot), ok=True, changed=True)


def _moved(draft: Draft, **update: Any) -> Outcome:
    return Outcome(draft=draft.model_copy(update={"pending": None, "pending_path": None, **update}), ok=True)


def _command(q: Questionnaire, draft: Draft, cmd: Command) -> Outcome:
    t = translator(draft.lang)
    all_slots = slots(q, draft)
    slot = current_slot(q, draft)
    if cmd.name == "back":
        route = _route(q, draft, slot) if slot else walk(q, draft, all_slots)
        at = find(route, slot.path) if slot else len(route)
        if not at:
            return _fail(draft, t("This is the first question."))
        prev = route[at - 1]
        return _moved(draft, cursor=list(prev.path), mode=draft.mode if draft.mode != "review" else "flow")
    if cmd.name == "skip":
        if slot is None:
            return _fail(draft, t("There is no question to skip here."))
        if slot.kind == "add":
            return _add_answer(q, draft, slot, False)
        assert isinstance(slot.item, Question)
        if is_required(slot.item, slot.scopes):
            return _fail(draft, t("This question is required, so it cannot be skipped. Please answer it."))
        return _set(q, draft, slot, SKIPPED)
    if cmd.name == "keep":
        if slot is None or not answered(slot, draft):
            return _fail(draft, t("There is no answer to keep yet. Please answer the question."))
        return Outcome(draft=_advance(q, draft, draft, slot), ok=True)
    if cmd.name == "done":
        if slot is None or slot.kind != "question":
            return _fail(draft, t("There is nothing to finish here."))
        question = slot.item
        assert isinstance(question, Question)
        if not fields.kind_of(question).collects:
            return _fail(draft, t("Please answer the question."))
        values = _pending_for(draft, slot)
        if not values:
            if is_required(question, slot.scopes):
                return _fail(draft, t("Please choose at least one option, then press Done."))
            return _set(q, draft, slot, SKIPPED)
        return _set(q, draft, slot, values)
    if cmd.name == "continue":
        return _moved(draft, cursor=None, mode="flow")
    if cmd.name == "review":
        return _moved(draft, cursor=None, mode="review")
    if cmd.name == "help":
        entries = help_entries(q, draft)
        return Outcome(draft=draft, ok=True, notices=[help_text(entries, draft.lang, cmd.target or "")], help=entries)
    if cmd.name == "edit":
        return _edit(q, draft, all_slots, cmd.target or "")
    if cmd.name == "details":
        return _start_round(q, draft)
    if cmd.name == "submit":
        todo = essential_missing(q, draft)
        if todo:
            first = todo[0]
            assert isinstance(first.item, Question)
            return Outcome(
                draft=draft.model_copy(update={"cursor": list(first.path), "mode": "edit_one"}),
                ok=False,
                error=t(
                    "The case cannot be submitted yet: {n} required answers are missing. The first is: {label}",
                    n=len(todo),
                    label=first.item.short(draft.lang),
                ),
            )
        return Outcome(draft=draft.model_copy(update={"cursor": None, "mode": "review"}), ok=True, ready_to_submit=True)
    return _fail(draft, t("Unknown command."))  # pragma: no cover


def _edit(q: Questionnaire, draft: Draft, all_slots: list[Slot], target: str) -> Outcome:
    found = resolve_edit(q, draft, all_slots, target)
    if found.error is not None:
        return _fail(draft, found.error)
    assert found.slot is not None
    mode = "edit_section" if found.section else "edit_one"
    return _moved(draft, cursor=list(found.slot.path), mode=mode)


# ---- essentials first, then details -----------------------------------------------------------

_NOW = {"details", "now", "1"}
_LATER = {"later", "submit", "2"}


def _choose_details(q: Questionnaire, draft: Draft, action: Action) -> Outcome:
    """The choice after the first pass (or a round): add details now, or later (the review)."""
    t = translator(draft.lang)
    choice = action.option if isinstance(action, Choose) else action.text.strip().lower() if isinstance(action, Answer) else ""
    if choice in _NOW:
        return _start_round(q, draft)
    if choice in _LATER:
        return _moved(draft, cursor=None, mode="review")
    try:
        yes = parse_yes(choice, draft.lang)
    except InvalidAnswer:
        return _fail(draft, t("Please choose: details now, or later."))
    return _start_round(q, draft) if yes else _moved(draft, cursor=None, mode="review")


def _start_round(q: Questionnaire, draft: Draft) -> Outcome:
    """Begin the next details round: the first section with something not answered yet."""
    t = translator(draft.lang)
    if essential_missing(q, draft) or any(not answered(s, draft) for s in walk(q, draft.model_copy(update={"round": None}))):
        return _fail(draft, t("Please answer the essential questions first; the details come after."))
    nxt = next_round(q, draft)
    if nxt is None:
        return _fail(draft, t("There are no details left to add."))
    return _moved(draft, cursor=None, mode="flow", round=q.sections[nxt[0]].id)
