"""The questionnaire as a plain-text email form (pure): which questions go in comes from
`intake.forms.select`; this lays them out so that people can fill them in with any mail client.

Every line is at most 78 characters, wrapped by us: a label that is too long breaks after one of
its ` — ` separators (the reader joins it back), the question's full text and its hints are
indented below the label. Optional questions are marked `(optional)`; a question that depends on
an earlier answer says so ("only if …"); a repeatable block says how to add another one (copy the
block and change the number); a file question asks for the name of a file attached to the reply.
"""

from __future__ import annotations

import textwrap

from intake import engine, languages
from intake.engine import PathT
from intake.forms import SEPARATOR, FormEntry, label_for
from intake.i18n import translator
from intake.questionnaire import Condition, FieldType, Group, Question, Questionnaire

WIDTH = 78  # every line we send fits (RFC 5322 recommends 78)
INDENT = "    "


def hints(question: Question, lang: str) -> list[str]:
    """The hint lines under a question's label (its choices with numbers, the expected format)."""
    t = translator(lang)
    listing = " · ".join(f"{n} = {o.text.get(lang)}" for n, o in enumerate(question.options, 1))
    match question.type:
        case FieldType.SINGLE_CHOICE:
            return [t("(choose one: {options})", options=listing)]
        case FieldType.MULTI_CHOICE:
            return [t("(choose one or more, separated by commas: {options})", options=listing)]
        case FieldType.YES_NO:
            return [t("(yes or no)")]
        case FieldType.COUNTRY:
            return [t("(one or more countries, separated by commas)") if question.multiple else t("(a country name or code)")]
        case FieldType.DATE:
            if question.range:
                return [t("(from – to, e.g. 2019-03 to 2021; YYYY, YYYY-MM or YYYY-MM-DD; add “about” if approximate)")]
            return [t("(YYYY, YYYY-MM or YYYY-MM-DD; add “about” if approximate)")]
        case FieldType.NUMBER:
            return [t("(a number)")]
        case FieldType.LONG_TEXT:
            return [t("(as long as you need; paragraphs are fine)")]
        case FieldType.EMAIL:
            return [t("(an email address)")]
        case FieldType.URL:
            return [t("(a web address)")]
        case FieldType.FILES:
            return [t("(the file names of files you attach to your reply, separated by commas)")]
    return []


def condition_note(q: Questionnaire, cond: Condition, lang: str) -> str:
    """`(only if Perpetrator type is “A person”)` for a condition on an unanswered question."""
    t = translator(lang)
    if cond.q is None:
        return t("(only if an earlier answer asks for it)")
    asked = q.items_by_id().get(cond.q)
    if not isinstance(asked, Question):
        return t("(only if an earlier answer asks for it)")
    wanted = cond.eq if cond.eq is not None else cond.includes
    option = asked.option(str(wanted)) if wanted is not None and asked.options else None
    if cond.in_ is not None and asked.options:
        names = [o.text.get(lang) for o in (asked.option(str(v)) for v in cond.in_) if o is not None]
        if names:
            return t("(only if {question} is one of: {answers})", question=asked.short(lang), answers=", ".join(f"“{n}”" for n in names))
    if option is not None:
        return t("(only if {question} is “{answer}”)", question=asked.short(lang), answer=option.text.get(lang))
    if asked.type == FieldType.YES_NO and isinstance(cond.eq, bool):
        return t("(only if {question} is “yes”)", question=asked.short(lang)) if cond.eq else t(
            "(only if {question} is “no”)", question=asked.short(lang))
    return t("(only if {question} asks for it)", question=asked.short(lang))


def wrap_label(head: str, width: int = WIDTH) -> list[str]:
    """A label line as we send it: whole when it fits, else broken after ` —` separators (each
    piece but the last ends in `—`, which tells the reader to join it with the next line)."""
    if len(head) <= width:
        return [head]
    out: list[str] = []
    rest = head
    while len(rest) > width:
        cut = rest.rfind(SEPARATOR, 0, width)
        if cut <= 0:
            break
        out.append(rest[:cut] + SEPARATOR.rstrip())
        rest = rest[cut + len(SEPARATOR):]
    return out + [rest]


def indented(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=INDENT, subsequent_indent=INDENT, break_on_hyphens=False)


def entry_lines(q: Questionnaire, entry: FormEntry, lang: str) -> list[str]:
    """One question: its label (marked optional), its full question text, when it applies, its hints."""
    t = translator(lang)
    question = entry.question
    label = label_for(q, entry.path, lang)
    mark = f" {t('(optional)')}" if not entry.required or entry.virtual and not _first_instance(entry) else ""
    lines = wrap_label(f"{label}{mark}:")
    if question.text.get(lang) != question.short(lang):
        lines += indented(question.text.get(lang))
    for cond in entry.pending:
        lines += indented(condition_note(q, cond, lang))
    for hint in hints(question, lang):
        lines += indented(hint)
    return lines + [""]


def _first_instance(entry: FormEntry) -> bool:
    """A virtual entry of a group that must have an instance (its questions are required)."""
    return all(g.min > 0 for g in entry.groups)


def copy_note(q: Questionnaire, group: Group, path: PathT, lang: str) -> str:
    """How to add another instance of a repeatable group: copy the block, change the number."""
    t = translator(lang)
    instance = label_for_group(q, path, lang)
    return t("(To add another {what}: copy the lines of “{instance}” and change the number {n} to {m}.)",
             what=group.text.get(lang), instance=instance, n=int(path[-1]) + 1, m=int(path[-1]) + 2)


def label_for_group(q: Questionnaire, path: PathT, lang: str) -> str:
    """`Alleged perpetrator 1 — ID document 1` for the instance path `(perpetrators, 0, perp_id_docs, 0)`."""
    items = q.items_by_id()
    parts = []
    for i in range(0, len(path) - 1, 2):
        group = items.get(str(path[i]))
        if isinstance(group, Group):
            parts.append(f"{group.text.get(lang)} {int(path[i + 1]) + 1}")
    return SEPARATOR.join(parts)


def render_form(q: Questionnaire, entries: list[FormEntry], lang: str, *, language_line: bool = False) -> str:
    """The form for these entries (from `intake.forms.select`), section by section. After the
    last question of each repeatable group instance whose block the form carries whole, how to
    add another one."""
    t = translator(lang)
    lines: list[str] = []
    if language_line:  # the form's language line: changing it changes the language of the case
        lines += [f"{t('Language')}: {languages.get(lang).native_name}"]
        lines += textwrap.wrap(t("(to change it, write another language: {names})",
                                 names=", ".join(x.native_name for x in languages.LANGUAGES)), WIDTH) + [""]
    section_seen: int | None = None
    keys = {e.key for e in entries}
    for n, entry in enumerate(entries):
        if section_seen != entry.section:
            section_seen = entry.section
            lines += textwrap.wrap(f"== {entry.section + 1}. {q.sections[entry.section].title.get(lang)} ==", WIDTH) + [""]
        lines += entry_lines(q, entry, lang)
        following = entries[n + 1].path if n + 1 < len(entries) else ()
        for depth in range(len(entry.groups), 0, -1):  # the innermost instance that ends here first
            instance = entry.path[: 2 * depth]
            group = entry.groups[depth - 1]
            if following[: len(instance)] != instance and group.max > 1 and _whole_block(group, instance, keys):
                lines += textwrap.wrap(copy_note(q, group, instance, lang), WIDTH) + [""]
    return "\n".join(lines).rstrip() + "\n"


def _whole_block(group: Group, instance: PathT, keys: set[str]) -> bool:
    """Whether the form carries the block of this instance from its first question (then it can
    be copied as another instance); a form with only some of its answers asks for those only."""
    first = group.items[0]
    return isinstance(first, Group) or engine.path_key(instance + (first.id,)) in keys


def wrap_lines(text: str, width: int = WIDTH) -> str:
    """Every line longer than `width` wrapped at word boundaries, keeping its indentation."""
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out.extend(textwrap.wrap(line, width, initial_indent="", subsequent_indent=indent + "  ", break_on_hyphens=False) or [line])
    return "\n".join(out)


def group_paths(entries: list[FormEntry]) -> set[str]:
    """Every group instance path the entries sit in (for tests and the reader)."""
    return {engine.path_key(e.path[: 2 * d]) for e in entries for d in range(1, len(e.groups) + 1)}
