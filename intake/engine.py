"""The conversation engine: pure functions over a draft. No I/O, no clock, no database.

A draft holds the answers as nested JSON (a repeatable group is a list of instances, each a dict
of its own answers), plus where the submitter is. The questionnaire and the answers together
define an ordered list of *slots* — the questions that apply now, and the "add another?" choice
after each repeatable group — and the prompt is the first slot not yet answered (or the slot the
submitter moved to with back/edit). Every channel renders `next_prompt` and feeds `apply`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Union

from pydantic import BaseModel

from intake.fields import InvalidAnswer, country_name, parse
from intake.i18n import translator
from intake.questionnaire import Condition, FieldType, Group, Question, Questionnaire

PathT = tuple[Union[str, int], ...]
SKIPPED = None  # an optional question the submitter skipped is stored as null


class Draft(BaseModel):
    """A case in progress. Serialised as JSON and stored encrypted."""

    answers: dict[str, Any] = {}
    lang: str = "en"
    cursor: list[str | int] | None = None  # a slot moved to with back/edit
    mode: Literal["flow", "edit_one", "edit_section", "review"] = "flow"
    closed_groups: list[str] = []  # group paths whose "add another?" was answered no
    pending: list[Any] | None = None  # multi-choice toggles / files gathered for the current slot
    pending_path: list[str | int] | None = None
    stopped: bool = False  # the channel is not safe: conversation ended


@dataclass(frozen=True)
class Slot:
    kind: Literal["question", "add"]
    path: PathT  # question: (..., "group", i, "qid"); add: (..., "group")
    item: Question | Group
    section: int
    scopes: tuple[dict[str, Any], ...] = field(repr=False, compare=False, default=())

    @property
    def key(self) -> str:
        return path_key(self.path)


# ---- actions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """Raw text typed by the submitter for the current slot."""

    text: str


@dataclass(frozen=True)
class Choose:
    """A button: an option id, or "yes"/"no" for yes_no and "add another?"."""

    option: str


@dataclass(frozen=True)
class Toggle:
    """Toggle one option of the current multi-choice question (kept pending until Done)."""

    option: str


@dataclass(frozen=True)
class AddFile:
    """A stored attachment's id, for the current files question (kept pending until Done)."""

    attachment_id: str


@dataclass(frozen=True)
class Command:
    name: Literal["back", "skip", "done", "keep", "review", "submit", "edit", "continue"]
    target: str | None = None  # edit: a question id, a path like perpetrators.0.perp_name, or a section id


Action = Union[Answer, Choose, Toggle, AddFile, Command]


# ---- prompts and outcomes --------------------------------------------------------------------


@dataclass(frozen=True)
class OptionView:
    id: str
    text: str
    selected: bool = False


@dataclass(frozen=True)
class SummaryLine:
    path: str
    label: str
    value: str
    depth: int = 0


@dataclass(frozen=True)
class SectionSummary:
    id: str
    index: int
    title: str
    lines: list[SummaryLine]


@dataclass(frozen=True)
class Prompt:
    kind: Literal["question", "add", "review", "stopped"]
    text: str
    section_index: int = 0  # 1-based
    section_count: int = 0
    section_title: str = ""
    progress: str = ""
    help: str | None = None
    path: str | None = None
    question_id: str | None = None
    field_type: FieldType | None = None
    options: list[OptionView] = field(default_factory=list)
    multi: bool = False
    can_skip: bool = False
    can_back: bool = False
    current: str | None = None  # the existing answer, shown when editing
    instance_label: str | None = None  # "Alleged perpetrator 2"
    intro: str | None = None  # the section's introduction, on its first question
    missing: list[str] = field(default_factory=list)  # review: labels still required
    summary: list[SectionSummary] = field(default_factory=list)  # review


@dataclass(frozen=True)
class Outcome:
    draft: Draft
    ok: bool
    error: str | None = None
    notices: list[str] = field(default_factory=list)
    changed: bool = False  # an answer was stored or removed
    ready_to_submit: bool = False  # `submit` asked and nothing required is missing
    stopped: bool = False
    applies: bool = True  # False: the question named does not apply to these answers (yet)


# ---- paths and conditions --------------------------------------------------------------------


def path_key(path: PathT | list[str | int]) -> str:
    return ".".join(str(p) for p in path)


def parse_path(key: str) -> PathT:
    return tuple(int(p) if p.isdigit() else p for p in key.split("."))


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
    if not question.required:
        return False
    return not (question.optional_when and holds(question.optional_when, scopes))


# ---- slots -----------------------------------------------------------------------------------


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


def _answered(slot: Slot, draft: Draft) -> bool:
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


def _find(slot_list: list[Slot], path: list[str | int] | PathT | None) -> int | None:
    if path is None:
        return None
    key = path_key(path)
    for i, s in enumerate(slot_list):
        if s.key == key:
            return i
    return None


def current_slot(q: Questionnaire, draft: Draft) -> Slot | None:
    """The slot the submitter is on, or None when at the review screen (or stopped)."""
    if draft.stopped:
        return None
    all_slots = slots(q, draft)
    at = _find(all_slots, draft.cursor)
    if at is not None:
        return all_slots[at]
    if draft.mode == "review":
        return None
    for slot in all_slots:
        if not _answered(slot, draft):
            return slot
    return None


# ---- answers in nested dicts -----------------------------------------------------------------


def _container(answers: dict[str, Any], path: PathT, create: bool) -> dict[str, Any] | None:
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
    holder = _container(answers, path, create=False)
    if holder is None or path[-1] not in holder:
        return False, None
    return True, holder[str(path[-1])]


def _store(draft: Draft, path: PathT, value: Any) -> Draft:
    new = draft.model_copy(deep=True)
    holder = _container(new.answers, path, create=True)
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


# ---- display ---------------------------------------------------------------------------------


def display(question: Question, value: Any, lang: str) -> str:
    """A normalised value as a person reads it."""
    t = translator(lang)
    if value is None:
        return t("(skipped)")
    match question.type:
        case FieldType.YES_NO:
            return t("Yes") if value else t("No")
        case FieldType.SINGLE_CHOICE:
            option = question.option(value)
            return option.text.get(lang) if option else str(value)
        case FieldType.MULTI_CHOICE:
            return ", ".join((o.text.get(lang) if (o := question.option(v)) else str(v)) for v in value)
        case FieldType.COUNTRY:
            codes = value if isinstance(value, list) else [value]
            return ", ".join(f"{country_name(c)} ({c})" for c in codes)
        case FieldType.DATE:
            if "start" in value:
                start = _date_text(value["start"], lang)
                if value.get("ongoing"):
                    return t("{start} to now", start=start)
                end = _date_text(value["end"], lang)
                return start if start == end else t("{start} to {end}", start=start, end=end)
            return _date_text(value, lang)
        case FieldType.FILES:
            return t.plural("{n} file", "{n} files", len(value))
    return str(value)


def _date_text(value: dict[str, Any], lang: str) -> str:
    t = translator(lang)
    return t("about {date}", date=value["date"]) if value.get("approx") else str(value["date"])


def summary(q: Questionnaire, draft: Draft) -> list[SectionSummary]:
    """The answers by section, with question labels, for review screens and staff views."""
    lang = draft.lang
    t = translator(lang)
    out: list[SectionSummary] = []
    for si, section in enumerate(q.sections):
        lines: list[SummaryLine] = []

        def walk(
            items: list[Question | Group], scopes: tuple[dict[str, Any], ...], prefix: PathT, depth: int, lines: list[SummaryLine] = lines
        ) -> None:
            for item in items:
                if item.when is not None and not holds(item.when, scopes):
                    continue
                if isinstance(item, Question):
                    if item.id in scopes[0]:
                        lines.append(
                            SummaryLine(path_key(prefix + (item.id,)), item.short(lang), display(item, scopes[0][item.id], lang), depth)
                        )
                    continue
                for i, instance in enumerate(scopes[0].get(item.id) or []):
                    lines.append(SummaryLine(path_key(prefix + (item.id, i)), f"{item.text.get(lang)} {i + 1}", "", depth))
                    walk(item.items, (instance,) + scopes, prefix + (item.id, i), depth + 1)

        walk(section.items, (draft.answers,), (), 0)
        out.append(SectionSummary(section.id, si + 1, section.title.get(lang), lines))
    _ = t
    return out


# ---- prompts ---------------------------------------------------------------------------------


def _instance_label(q: Questionnaire, path: PathT, lang: str) -> str | None:
    items = q.items_by_id()
    labels = []
    for i in range(0, len(path) - 1):
        name, index = path[i], path[i + 1]
        if isinstance(name, str) and isinstance(index, int) and isinstance(items.get(name), Group):
            labels.append(f"{items[name].text.get(lang)} {index + 1}")
    return " · ".join(labels) or None


def next_prompt(q: Questionnaire, draft: Draft) -> Prompt:
    """What to show the submitter now."""
    lang = draft.lang
    t = translator(lang)
    count = len(q.sections)
    if draft.stopped:
        return Prompt(kind="stopped", text=t("This conversation has ended. Send /start to begin again when it is safe."))
    slot = current_slot(q, draft)
    if slot is None:
        todo = missing(q, draft)
        labels = []
        for s in todo:
            assert isinstance(s.item, Question)
            where = _instance_label(q, s.path, lang)
            labels.append(f"{s.item.short(lang)} ({where})" if where else s.item.short(lang))
        text = (
            t("Please check your answers. When everything is right, submit the case.")
            if not todo
            else t("Some required answers are still missing. You can edit any section.")
        )
        return Prompt(
            kind="review",
            text=text,
            section_index=count,
            section_count=count,
            missing=labels,
            summary=summary(q, draft),
            can_back=True,
            progress=t("Review"),
        )
    section = q.sections[slot.section]
    progress = t(
        "Section {n} of {m} · {title}", n=slot.section + 1, m=count, title=section.title.get(lang)
    )
    all_slots = slots(q, draft)
    at = _find(all_slots, slot.path) or 0
    can_back = at > 0
    first_of_section = at == 0 or all_slots[at - 1].section != slot.section
    intro = section.intro.get(lang) if section.intro and first_of_section else None
    if slot.kind == "add":
        group = slot.item
        assert isinstance(group, Group)
        n = len(slot.scopes[0].get(group.id) or [])
        if n == 0:
            text = t("Do you want to add: {what}?", what=group.text.get(lang))
        else:
            text = group.add_prompt.get(lang) if group.add_prompt else t("Add another: {what}?", what=group.text.get(lang))
        return Prompt(
            kind="add",
            text=text,
            section_index=slot.section + 1,
            section_count=count,
            section_title=section.title.get(lang),
            progress=progress,
            path=slot.key,
            question_id=group.id,
            options=[OptionView("yes", t("Yes")), OptionView("no", t("No"))],
            help=group.help.get(lang) if group.help else None,
            can_back=can_back,
            instance_label=_instance_label(q, slot.path + (0,), lang) if len(slot.path) > 1 else None,
            intro=intro,
        )
    question = slot.item
    assert isinstance(question, Question)
    present, value = get_value(draft.answers, slot.path)
    pending_here = draft.pending is not None and draft.pending_path is not None and path_key(draft.pending_path) == slot.key
    selected: set[Any] = set()
    if question.type == FieldType.MULTI_CHOICE:
        selected = set(draft.pending if pending_here and draft.pending is not None else (value or []))
    if question.type == FieldType.YES_NO:
        options = [OptionView("yes", t("Yes"), value is True), OptionView("no", t("No"), value is False)]
    else:
        options = [
            OptionView(o.id, o.text.get(lang), o.id in selected or (question.type == FieldType.SINGLE_CHOICE and o.id == value))
            for o in question.options
        ]
    return Prompt(
        kind="question",
        text=question.text.get(lang),
        section_index=slot.section + 1,
        section_count=count,
        section_title=section.title.get(lang),
        progress=progress,
        help=question.help.get(lang) if question.help else None,
        path=slot.key,
        question_id=question.id,
        field_type=question.type,
        options=options,
        multi=question.type == FieldType.MULTI_CHOICE,
        can_skip=not is_required(question, slot.scopes),
        can_back=can_back,
        current=display(question, value, lang) if present else None,
        instance_label=_instance_label(q, slot.path, lang),
        intro=intro,
    )


# ---- apply -----------------------------------------------------------------------------------


def _fail(draft: Draft, message: str) -> Outcome:
    return Outcome(draft=draft, ok=False, error=message)


def _advance(q: Questionnaire, before: Draft, after: Draft, slot: Slot) -> Draft:
    """Move on after `slot` was answered, according to the mode."""
    after = after.model_copy(update={"pending": None, "pending_path": None})
    if after.mode == "edit_section":
        all_slots = slots(q, after)
        at = _find(all_slots, slot.path)
        nxt = all_slots[at + 1] if at is not None and at + 1 < len(all_slots) else None
        if nxt is not None and nxt.section == slot.section:
            return after.model_copy(update={"cursor": list(nxt.path)})
        return after.model_copy(update={"cursor": None, "mode": "review"})
    if after.mode == "edit_one":
        # an edit can open new questions (a changed condition): ask those in the same section first
        pending = [s for s in slots(q, after) if not _answered(s, after)]
        for s in pending:
            if s.section == slot.section:
                return after.model_copy(update={"cursor": list(s.path)})
        # nothing new here: back to the flow if questions remain, else to the review screen
        return after.model_copy(update={"cursor": None, "mode": "flow" if pending else "review"})
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
    stored = prune(q, _store(draft, slot.path, value))
    notices, stop = _notices(question, value, draft.lang)
    if stop:
        return Outcome(draft=stored.model_copy(update={"stopped": True, "cursor": None}), ok=True, notices=notices, changed=True, stopped=True)
    return Outcome(draft=_advance(q, draft, stored, slot), ok=True, notices=notices, changed=True)


def set_answer(q: Questionnaire, draft: Draft, path: PathT, raw: str) -> Outcome:
    """Validate and store one raw answer at `path` (any applicable slot), without moving the cursor.

    This is the bulk path (an email form): the same parser as the conversational path.
    """
    all_slots = slots(q, draft)
    at = _find(all_slots, path)
    if at is None:
        opened = _open_instances(q, draft, path)
        if opened is not None:
            all_slots = slots(q, opened)
            at = _find(all_slots, path)
            draft = opened if at is not None else draft
    if at is None:
        return Outcome(draft=draft, ok=False, error=translator(draft.lang)("That question does not apply to this case."), applies=False)
    slot = all_slots[at]
    if not isinstance(slot.item, Question):
        return _fail(draft, translator(draft.lang)("That question does not apply to this case."))
    try:
        value = parse(slot.item, raw, draft.lang)
    except InvalidAnswer as exc:
        return _fail(draft, exc.message)
    stored = prune(q, _store(draft, slot.path, value))
    notices, stop = _notices(slot.item, value, draft.lang)
    if stop:
        stored = stored.model_copy(update={"stopped": True, "cursor": None})
    return Outcome(draft=stored, ok=True, notices=notices, changed=True, stopped=stop)


def _open_instances(q: Questionnaire, draft: Draft, path: PathT) -> Draft | None:
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
        holder = _container(new.answers, group_path, create=True)
        assert holder is not None
        holder.setdefault(group.id, []).append({})
        new.closed_groups = [g for g in new.closed_groups if g != group_slot.key]
        current, opened = new, True
    return current if opened else None


def apply(q: Questionnaire, draft: Draft, action: Action) -> Outcome:
    """Apply one input or command to the draft; return the new draft and what to tell the person."""
    t = translator(draft.lang)
    if draft.stopped:
        return _fail(draft, t("This conversation has ended. Send /start to begin again when it is safe."))
    if isinstance(action, Command):
        return _command(q, draft, action)
    slot = current_slot(q, draft)
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
    if isinstance(action, Toggle):
        if question.type != FieldType.MULTI_CHOICE or question.option(action.option) is None:
            return _fail(draft, t("That option is not part of this question."))
        base = _pending_for(draft, slot)
        chosen = [v for v in base if v != action.option] if action.option in base else base + [action.option]
        ordered = [o.id for o in question.options if o.id in chosen]
        return Outcome(draft=draft.model_copy(update={"pending": ordered, "pending_path": list(slot.path)}), ok=True)
    if isinstance(action, AddFile):
        if question.type != FieldType.FILES:
            return _fail(draft, t("This question does not take files."))
        files = _pending_for(draft, slot)
        if action.attachment_id not in files:
            files = files + [action.attachment_id]
        return Outcome(draft=draft.model_copy(update={"pending": files, "pending_path": list(slot.path)}), ok=True)
    if isinstance(action, Choose):
        if question.type == FieldType.YES_NO:
            try:
                return _set(q, draft, slot, parse_yes(action.option, draft.lang))
            except InvalidAnswer as exc:
                return _fail(draft, exc.message)
        if question.type == FieldType.SINGLE_CHOICE and question.option(action.option) is not None:
            return _set(q, draft, slot, action.option)
        if question.type == FieldType.MULTI_CHOICE:
            return apply(q, draft, Toggle(action.option))
        return _fail(draft, t("That option is not part of this question."))
    assert isinstance(action, Answer)
    if question.type == FieldType.FILES:
        return _fail(draft, t("Please send the file itself (as a document or photo), or skip this question."))
    try:
        value = parse(question, action.text, draft.lang)
    except InvalidAnswer as exc:
        return _fail(draft, exc.message)
    return _set(q, draft, slot, value)


def parse_yes(text: str, lang: str) -> bool:
    from intake.fields import parse_yes_no

    return parse_yes_no(text, translator(lang))


def _pending_for(draft: Draft, slot: Slot) -> list[Any]:
    if draft.pending is not None and draft.pending_path is not None and path_key(draft.pending_path) == slot.key:
        return list(draft.pending)
    present, value = get_value(draft.answers, slot.path)
    return list(value) if present and isinstance(value, list) else []


def _add_answer(q: Questionnaire, draft: Draft, slot: Slot, yes: bool) -> Outcome:
    group = slot.item
    assert isinstance(group, Group)
    new = draft.model_copy(deep=True)
    holder = _container(new.answers, slot.path, create=True)
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
            return Outcome(draft=new.model_copy(update={"cursor": list(slot.path + (len(instances) - 1,) + (group.items[0].id,))}), ok=True, changed=True)
        return Outcome(draft=new, ok=True, changed=True)
    if not instances:
        holder.pop(group.id, None)
    if slot.key not in new.closed_groups:
        new.closed_groups = new.closed_groups + [slot.key]
    return Outcome(draft=_advance(q, draft, new, slot), ok=True, changed=True)


def _command(q: Questionnaire, draft: Draft, cmd: Command) -> Outcome:
    t = translator(draft.lang)
    all_slots = slots(q, draft)
    slot = current_slot(q, draft)
    if cmd.name == "back":
        at = _find(all_slots, slot.path) if slot else len(all_slots)
        if not at:
            return _fail(draft, t("This is the first question."))
        prev = all_slots[at - 1]
        mode = draft.mode if draft.mode != "review" else "flow"
        return Outcome(draft=draft.model_copy(update={"cursor": list(prev.path), "mode": mode, "pending": None, "pending_path": None}), ok=True)
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
        if slot is None or not _answered(slot, draft):
            return _fail(draft, t("There is no answer to keep yet. Please answer the question."))
        return Outcome(draft=_advance(q, draft, draft, slot), ok=True)
    if cmd.name == "done":
        if slot is None or slot.kind != "question":
            return _fail(draft, t("There is nothing to finish here."))
        question = slot.item
        assert isinstance(question, Question)
        if question.type not in (FieldType.MULTI_CHOICE, FieldType.FILES):
            return _fail(draft, t("Please answer the question."))
        values = _pending_for(draft, slot)
        if not values:
            if is_required(question, slot.scopes):
                return _fail(draft, t("Please choose at least one option, then press Done."))
            return _set(q, draft, slot, SKIPPED)
        return _set(q, draft, slot, values)
    if cmd.name in ("review", "continue"):
        if cmd.name == "continue":
            return Outcome(draft=draft.model_copy(update={"cursor": None, "mode": "flow", "pending": None, "pending_path": None}), ok=True)
        return Outcome(draft=draft.model_copy(update={"cursor": None, "mode": "review", "pending": None, "pending_path": None}), ok=True)
    if cmd.name == "edit":
        return _edit(q, draft, all_slots, cmd.target or "")
    if cmd.name == "submit":
        todo = missing(q, draft)
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
    t = translator(draft.lang)
    target = target.strip()
    for si, section in enumerate(q.sections):
        if target in (section.id, str(si + 1)):
            first = next((s for s in all_slots if s.section == si), None)
            if first is None:
                return _fail(draft, t("Nothing in that section applies to this case."))
            return Outcome(draft=draft.model_copy(update={"cursor": list(first.path), "mode": "edit_section", "pending": None, "pending_path": None}), ok=True)
    matches = [s for s in all_slots if s.key == target] or [s for s in all_slots if s.kind == "question" and s.path[-1] == target]
    if not matches:
        return _fail(draft, t("There is no question “{target}” in this case. Check the id in the review list.", target=target))
    return Outcome(draft=draft.model_copy(update={"cursor": list(matches[0].path), "mode": "edit_one", "pending": None, "pending_path": None}), ok=True)


def start(lang: str = "en") -> Draft:
    return Draft(lang=lang)


__all__ = [
    "Action", "AddFile", "Answer", "Choose", "Command", "Draft", "Outcome", "Prompt", "Slot", "Toggle",
    "apply", "current_slot", "display", "missing", "next_prompt", "prune", "set_answer", "slots", "start", "summary",
]
