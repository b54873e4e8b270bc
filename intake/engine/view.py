"""What the submitter sees: the next prompt, the review summary, values as text, the help list.

Nothing here branches on a field type: the field registry (`intake.fields.registry`) says how a
value reads, which keyboard a question takes and what form an answer has.
"""

from __future__ import annotations

from typing import Any

from intake import fields
from intake.engine.model import Draft, HelpEntry, OptionView, PathT, Prompt, SectionSummary, Slot, SummaryLine, path_key
from intake.engine.phases import (
    current_slot,
    details_left,
    details_missing,
    essential_missing,
    essentials_progress,
    first_pass_ids,
    is_essential,
    next_round,
    walk,
)
from intake.engine.slots import answered, find, get_value, holds, is_required, slots
from intake.i18n import translator
from intake.questionnaire import Group, Question, Questionnaire

STOPPED_TEXT = "This conversation has ended. When it is safe, contact us again to begin a new case."


def display(question: Question, value: Any, lang: str) -> str:
    """A normalised value as a person reads it."""
    return fields.display(question, value, lang)


def summary(q: Questionnaire, draft: Draft) -> list[SectionSummary]:
    """The answers by section, with question labels and review numbers (`5.3`), for review screens
    and staff views. Group instances get a heading line (no value, no number)."""
    lang = draft.lang
    out: list[SectionSummary] = []
    for si, section in enumerate(q.sections):
        lines: list[SummaryLine] = []
        counter = [0]

        def walk(
            items: list[Question | Group],
            scopes: tuple[dict[str, Any], ...],
            prefix: PathT,
            depth: int,
            lines: list[SummaryLine] = lines,
            counter: list[int] = counter,
            si: int = si,
        ) -> None:
            for item in items:
                if item.when is not None and not holds(item.when, scopes):
                    continue
                if isinstance(item, Question):
                    if item.id in scopes[0]:
                        counter[0] += 1
                        value = display(item, scopes[0][item.id], lang)
                        lines.append(SummaryLine(path_key(prefix + (item.id,)), item.short(lang), value, depth, f"{si + 1}.{counter[0]}"))
                    continue
                for i, instance in enumerate(scopes[0].get(item.id) or []):
                    lines.append(SummaryLine(path_key(prefix + (item.id, i)), f"{item.text.get(lang)} {i + 1}", "", depth))
                    walk(item.items, (instance,) + scopes, prefix + (item.id, i), depth + 1)

        walk(section.items, (draft.answers,), (), 0)
        out.append(SectionSummary(section.id, si + 1, section.title.get(lang), lines))
    return out


def instance_label(q: Questionnaire, path: PathT, lang: str) -> str | None:
    """"Alleged perpetrator 2 · ID document 1" for a path inside group instances."""
    items = q.items_by_id()
    labels = []
    for i in range(0, len(path) - 1):
        name, index = path[i], path[i + 1]
        if isinstance(name, str) and isinstance(index, int) and isinstance(items.get(name), Group):
            labels.append(f"{items[name].text.get(lang)} {index + 1}")
    return " · ".join(labels) or None


def _review(q: Questionnaire, draft: Draft) -> Prompt:
    lang = draft.lang
    t = translator(lang)
    count = len(q.sections)
    labels = []
    for s in essential_missing(q, draft):
        assert isinstance(s.item, Question)
        where = instance_label(q, s.path, lang)
        labels.append(f"{s.item.short(lang)} ({where})" if where else s.item.short(lang))
    left = details_left(q, draft)
    if labels:
        text = t("Some required answers are still missing. You can edit any section.")
    elif left:
        text = t("Please check your answers. The essentials are complete: you can submit the case now and add the details later.")
    else:
        text = t("Please check your answers. When everything is right, submit the case.")
    return Prompt(
        kind="review",
        text=text,
        section_index=count,
        section_count=count,
        missing=labels,
        summary=summary(q, draft),
        can_back=True,
        progress=t("Review"),
        details_left=len(left),
        details_required=len(details_missing(q, draft)),
    )


def _details_choice(q: Questionnaire, draft: Draft) -> Prompt:
    """Between the first pass and a details round (or between two rounds): now, or later."""
    t = translator(draft.lang)
    nxt = next_round(q, draft)
    assert nxt is not None
    index, n = nxt
    title = q.sections[index].title.get(draft.lang)
    left = details_left(q, draft)
    if draft.round is None and not draft.amending:
        text = t("The essentials are done: our staff can act on this case now. Add the details now, one short round at a time, or later (after you submit, whenever you are ready).")
    elif draft.round is None:
        text = t("Details still wanted: {n} questions, one short round (a section) at a time.", n=len(left))
    else:
        text = t("That round is done. Next: {title}.", title=title)
    later = t("Not now: stop here") if draft.amending else t("Later: review and submit")
    return Prompt(
        kind="details",
        text=text,
        section_index=index + 1,
        section_count=len(q.sections),
        section_title=title,
        progress=t("Details: {n} questions left", n=len(left)),
        path=f"{draft.round or ''}>{q.sections[index].id}",  # which choice this is (a channel's stale-button check)
        options=[OptionView("details", t("Details now: {title} ({n} left)", title=title, n=n)), OptionView("later", later)],
        can_back=True,
        keyboard="options",
        details_left=len(left),
        details_required=len(details_missing(q, draft)),
    )


def _progress(q: Questionnaire, draft: Draft, slot: Slot) -> str:
    """"Essentials 6/12" in the first pass; "Details: Evidence · 3 left" in a round."""
    t = translator(draft.lang)
    title = q.sections[slot.section].title.get(draft.lang)
    if draft.mode in ("edit_one", "edit_section"):
        return t("Editing · {title}", title=title)
    if draft.round is not None and not is_essential(slot, first_pass_ids(q)):
        left = sum(1 for s in slots(q, draft) if s.section == slot.section and not answered(s, draft))
        return t("Details: {title} · {n} left", title=title, n=max(left, 1))
    n, m = essentials_progress(q, draft, slot)
    return t("Essentials {n}/{m}", n=n, m=m)


def next_prompt(q: Questionnaire, draft: Draft) -> Prompt:
    """What to show the submitter now."""
    lang = draft.lang
    t = translator(lang)
    count = len(q.sections)
    if draft.stopped:
        return Prompt(kind="stopped", text=t(STOPPED_TEXT))
    slot = current_slot(q, draft)
    if slot is None:
        if draft.mode != "review" and next_round(q, draft) is not None:
            return _details_choice(q, draft)
        return _review(q, draft)
    section = q.sections[slot.section]
    progress = _progress(q, draft, slot)
    all_slots = walk(q, draft)
    at = find(all_slots, slot.path)
    if at is None:  # moved to with edit, outside the walk
        all_slots = slots(q, draft)
        at = find(all_slots, slot.path) or 0
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
            instance_label=instance_label(q, slot.path + (0,), lang) if len(slot.path) > 1 else None,
            intro=intro,
            keyboard="yes_no",
        )
    question = slot.item
    assert isinstance(question, Question)
    kind = fields.kind_of(question)
    present, value = get_value(draft.answers, slot.path)
    pending_here = draft.pending is not None and draft.pending_path is not None and path_key(draft.pending_path) == slot.key
    if kind.keyboard == "yes_no":
        options = [OptionView("yes", t("Yes"), value is True), OptionView("no", t("No"), value is False)]
    elif kind.keyboard == "checkboxes":
        selected = set(draft.pending if pending_here and draft.pending is not None else (value or []))
        options = [OptionView(o.id, o.text.get(lang), o.id in selected) for o in question.options]
    else:
        options = [OptionView(o.id, o.text.get(lang), o.id == value) for o in question.options]
    optional = not is_required(question, slot.scopes)
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
        multi=kind.keyboard == "checkboxes",
        can_skip=optional,
        can_back=can_back,
        current=display(question, value, lang) if present else None,
        instance_label=instance_label(q, slot.path, lang),
        intro=intro,
        keyboard=kind.keyboard,
        hint=kind.hint(question, t) or None,
        example=kind.example(question, t) or None,
        blank_skips=optional and question.blank_skips,
    )


def help_entries(q: Questionnaire, draft: Draft) -> list[HelpEntry]:
    """The commands that work at this point of the conversation, and what each does."""
    t = translator(draft.lang)
    if draft.stopped:
        return []
    prompt = next_prompt(q, draft)
    out: list[HelpEntry] = []
    if prompt.can_back:
        out.append(HelpEntry("back", t("go to the previous question (your answers are kept)")))
    if prompt.kind in ("question", "add") and prompt.can_skip:
        out.append(HelpEntry("skip", t("leave this question out")))
    if prompt.current is not None:
        out.append(HelpEntry("keep", t("keep the current answer and go on")))
    if prompt.keyboard in ("checkboxes", "files"):
        out.append(HelpEntry("done", t("finish choosing or sending files for this question")))
    if prompt.kind != "review":
        out.append(HelpEntry("review", t("see all your answers, each with its number")))
    if draft.cursor is not None or prompt.kind == "review":
        out.append(HelpEntry("continue", t("go on with the first question not answered yet")))
    if prompt.kind != "details" and next_round(q, draft) is not None and not essential_missing(q, draft):
        out.append(HelpEntry("details", t("add the details, one short round (a section) at a time")))
    out.append(
        HelpEntry("edit", t("change an answer: give its number from the review (e.g. 2.3), the question's name, or a section number"))
    )
    out.append(HelpEntry("submit", t("send the case to our staff when the essentials are answered (details can follow)")))
    out.append(HelpEntry("help", t("this list")))
    return out


def help_text(entries: list[HelpEntry], lang: str, prefix: str = "") -> str:
    """The help list as one text: `prefix` is what the channel puts before a command word ("/")."""
    t = translator(lang)
    lines = [t("Answer the question, or use one of these commands:")]
    lines += [f"{prefix}{e.command} — {e.text}" for e in entries]
    return "\n".join(lines)
