"""The questionnaire as a plain-text email form: rendering it, and reading a filled-in reply.

Each question is one labelled line (`Organisation name:`), a group instance is numbered
(`Alleged perpetrator 1 — Name:`), choices are listed with their numbers on a hint line below,
optional questions are marked. Reading is by label and tolerant: case, spacing, leading numbering
or bullets, `>` quoting, and an answer on the line after its label are all accepted. Validation
is not done here: the raw answers go to the engine through the case service.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from dataclasses import dataclass
from typing import Any

from intake import engine, languages
from intake.engine import Draft, PathT
from intake.i18n import translator
from intake.questionnaire import FieldType, Group, Question, Questionnaire

SEPARATOR = " — "
WIDTH = 78  # every line we send fits (RFC 5322 recommends 78)
QUOTE_RE = re.compile(r"^\s*(?:>\s?)+")
NUMBERING_RE = re.compile(r"^(?:[-*•]\s+|\(?\d{1,3}[.)]\s+)")
GROUP_PART_RE = re.compile(r"^(.*?)\s*(?:#|no\.?|nr\.?|n°)?\s*(\d{1,3})$")
PART_SPLIT_RE = re.compile(r"\s*[—–·|]\s*|\s+-{1,2}\s+")
SIGNATURE_LINES = {"--", "-- ", "__", "___"}


def norm(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of a label."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[*_`\"“”'’]", "", text)
    return re.sub(r"\s+", " ", text).strip(" .:;")


def unquote(line: str) -> str:
    """A line without its leading `>` quote markers."""
    return QUOTE_RE.sub("", line)


# ---- rendering -----------------------------------------------------------------------------


def label_for(q: Questionnaire, path: PathT, lang: str) -> str:
    """The form label of a question at `path`, e.g. `Alleged perpetrator 1 — Name`."""
    items = q.items_by_id()
    parts: list[str] = []
    for i in range(0, len(path) - 1):
        name, index = path[i], path[i + 1]
        item = items.get(name) if isinstance(name, str) else None
        if isinstance(item, Group) and isinstance(index, int):
            parts.append(f"{item.text.get(lang)} {index + 1}")
    question = items[str(path[-1])]
    assert isinstance(question, Question)
    parts.append(question.short(lang))
    return SEPARATOR.join(parts)


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
    return []


def _question_lines(label: str, question: Question, lang: str, *, optional: bool, value: str = "") -> list[str]:
    t = translator(lang)
    mark = f" {t('(optional)')}" if optional else ""
    head = f"{label}{mark}: {value}".rstrip()
    wrapped = [w for h in hints(question, lang) for w in textwrap.wrap(h, WIDTH, initial_indent="    ", subsequent_indent="    ")]
    return [head] + wrapped + [""]


def wrap_lines(text: str, width: int = 78) -> str:
    """Every line longer than `width` wrapped at word boundaries, keeping its indentation."""
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out.extend(textwrap.wrap(line, width, initial_indent="", subsequent_indent=indent + "  ", break_on_hyphens=False) or [line])
    return "\n".join(out)


def render_form(q: Questionnaire, draft: Draft, *, only: set[str] | None = None) -> str:
    """The form for this draft: every question that applies now (or only the paths in `only`).

    Without `only`, optional repeatable blocks with no entry yet are offered as a numbered block
    to copy, and file questions are replaced by a note to attach files.
    """
    lang = draft.lang
    t = translator(lang)
    lines: list[str] = []
    if only is None:  # the form's language line: changing it changes the language of the case
        lines += [f"{t('Language')}: {languages.get(lang).native_name}", t("(to change it, write another language: {names})", names=", ".join(x.native_name for x in languages.LANGUAGES)), ""]
    section_seen: int | None = None
    for slot in engine.slots(q, draft):
        if slot.kind == "add":
            if only is None:
                lines.extend(_add_block(q, slot, lang))
            continue
        question = slot.item
        assert isinstance(question, Question)
        if only is not None and slot.key not in only:
            continue
        if section_seen != slot.section:
            section_seen = slot.section
            lines.append(f"== {slot.section + 1}. {q.sections[slot.section].title.get(lang)} ==")
            lines.append("")
        if question.type == FieldType.FILES:
            if only is None:
                lines.append(t("({label}: attach the files to your reply)", label=label_for(q, slot.path, lang)))
                lines.append("")
            continue
        optional = not engine.is_required(question, slot.scopes)
        lines.extend(_question_lines(label_for(q, slot.path, lang), question, lang, optional=optional))
    return wrap_lines("\n".join(lines).rstrip()) + "\n"


def _add_block(q: Questionnaire, slot: engine.Slot, lang: str) -> list[str]:
    t = translator(lang)
    group = slot.item
    assert isinstance(group, Group)
    count = len(slot.scopes[0].get(group.id) or [])
    if count:
        return [
            t("(To add another {what}, copy the lines of {what} {n} and number them {m}.)", what=group.text.get(lang), n=count, m=count + 1),
            "",
        ]
    out = [t("(Optional: {what} — fill in only if you have one; copy the lines to add more.)", what=group.text.get(lang))]
    for item in group.items:
        if isinstance(item, Question) and item.when is None and item.type != FieldType.FILES:
            path = slot.path + (0, item.id)
            out.extend(_question_lines(label_for(q, path, lang), item, lang, optional=True))
    return out + [""]


# ---- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Template:
    groups: tuple[Group, ...]
    question: Question


@dataclass(frozen=True)
class _Index:
    by_label: dict[str, list[_Template]]
    hint_lines: frozenset[str]
    markers: tuple[str, ...]


_INDEXES: dict[tuple[int, str], tuple[Questionnaire, _Index]] = {}


def _index(q: Questionnaire, lang: str) -> _Index:
    """The label index of a questionnaire in a language (cached per questionnaire object)."""
    cached = _INDEXES.get((id(q), lang))
    if cached is not None and cached[0] is q:
        return cached[1]
    if len(_INDEXES) > 64:
        _INDEXES.clear()
    built = _build_index(q, lang)
    _INDEXES[(id(q), lang)] = (q, built)
    return built


def _build_index(q: Questionnaire, lang: str) -> _Index:
    t = translator(lang)
    by_label: dict[str, list[_Template]] = {}
    hint_set: set[str] = set()

    def walk(items: list[Question | Group], groups: tuple[Group, ...]) -> None:
        for item in items:
            if isinstance(item, Group):
                walk(item.items, groups + (item,))
                continue
            for key in {norm(item.short(lang)), norm(item.short("en")), norm(item.id)}:
                by_label.setdefault(key, []).append(_Template(groups, item))
            hint_set.update(norm(h) for h in hints(item, lang))

    for section in q.sections:
        walk(section.items, ())
    markers = tuple({norm(t("(optional)")), "(optional)", "(required)", norm(t("(required)"))})
    return _Index(by_label, frozenset(hint_set), markers)


def _group_matches(group: Group, name: str, lang: str) -> bool:
    wanted = norm(name)
    if not wanted:
        return False
    for candidate in {norm(group.text.get(lang)), norm(group.text.get("en")), norm(group.id)}:
        if wanted == candidate or candidate.endswith(" " + wanted) or wanted.endswith(" " + candidate):
            return True
    return False


def resolve_label(q: Questionnaire, lang: str, label: str) -> str | None:
    """The answer path a form label names (e.g. `perpetrators.1.perp_name`), or None."""
    index = _index(q, lang)
    text = norm(label)
    for marker in index.markers:
        text = text.replace(marker, "")
    parts = [p for p in PART_SPLIT_RE.split(text.strip()) if p.strip()]
    if not parts:
        return None
    candidates = index.by_label.get(norm(parts[-1]), [])
    group_parts: list[tuple[str, int]] = []
    for part in parts[:-1]:
        m = GROUP_PART_RE.match(part.strip())
        if m is None:
            return None
        group_parts.append((m.group(1), int(m.group(2))))
    if not group_parts:
        # "Name:" alone: the question's first instance, when the label is unambiguous
        if len(candidates) != 1:
            return None
        template = candidates[0]
        path: list[Any] = []
        for group in template.groups:
            path += [group.id, 0]
        return engine.path_key(tuple(path + [template.question.id]))
    for template in candidates:
        if len(template.groups) != len(group_parts):
            continue
        if all(_group_matches(g, name, lang) and n >= 1 for g, (name, n) in zip(template.groups, group_parts, strict=True)):
            path = []
            for g, (_, n) in zip(template.groups, group_parts, strict=True):
                path += [g.id, n - 1]
            return engine.path_key(tuple(path + [template.question.id]))
    return None


def _label_line(q: Questionnaire, lang: str, line: str) -> tuple[str, str] | None:
    text = NUMBERING_RE.sub("", line.strip())
    m = re.match(r"^([^:：]{1,200})[:：](.*)$", text)
    if m is None:
        return None
    key = resolve_label(q, lang, m.group(1))
    return (key, m.group(2).strip()) if key else None


def _is_hint(line: str, index: _Index) -> bool:
    """Lines the form itself carries: hints (whole, or a piece of one re-wrapped by a mail client),
    section headers, long parenthesised notes."""
    n = norm(line)
    if line.startswith("==") or n in index.hint_lines:
        return True
    if len(n) >= 3 and (line.startswith("(") or line.endswith(")") or "=" in n or "·" in n) and any(n in h for h in index.hint_lines):
        return True
    return line.startswith("(") and line.endswith(")") and len(line) > 40


def sent_lines(body: str) -> frozenset[str]:
    """The normalised lines of a mail we sent, to recognise them when they come back quoted."""
    return frozenset(n for n in (norm(unquote(line)) for line in body.split("\n")) if n)


def _skip_ours(line: str, labelled: tuple[str, str] | None, sent: frozenset[str], *, quoted: bool) -> str | None:
    """Reading against the mail we sent: `skip` for a line that is ours and never an answer — a
    quoted line that is not a label (hints, prose, pieces re-wrapped by the client), or a whole
    line of ours even unquoted (Outlook's original below its header block); `reset` for one of our
    summary lines (`Label: value`); None to read the line (a label of ours with the answer below
    it, or a label the person filled in inside the quote)."""
    n = norm(line)
    ours = bool(n) and n in sent
    if labelled is None:
        return "skip" if (quoted or ours) else None
    return "reset" if labelled[1] and ours else None


def parse_form(q: Questionnaire, lang: str, text: str, *, sent: frozenset[str] | None = None) -> dict[str, str]:
    """Answers found in a filled-in form: `path → raw text`. The first non-empty answer to a label
    wins; empty labels are ignored. A value continues on the following lines until an empty line —
    except a long-text answer, which keeps its paragraphs and runs until the next label, section
    header or signature line. With `sent` (the lines of the mail this one replies to), a quoted
    line that is ours is never an answer: our summary lines are skipped, our empty labels still
    take the answer written below them, and our hints are skipped even when re-wrapped."""
    index = _index(q, lang)
    questions = q.questions()
    found: dict[str, str] = {}
    key: str | None = None
    value: list[str] = []
    blanks = 0

    def flush() -> None:
        # a short answer the client hard-wrapped is one line again; a long one keeps its lines
        joined = ("\n" if key is not None and is_long(key) else " ").join(value).strip()
        if key is not None and joined and key not in found:
            found[key] = joined

    def is_long(path: str) -> bool:
        question = questions.get(path.rsplit(".", 1)[-1])
        return question is not None and question.type == FieldType.LONG_TEXT

    for raw_line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = unquote(raw_line).rstrip()
        if line in SIGNATURE_LINES or line.strip().startswith("=="):
            flush()
            key, value = None, []
            continue
        labelled = _label_line(q, lang, line)
        verdict = _skip_ours(line, labelled, sent, quoted=QUOTE_RE.match(raw_line) is not None) if sent is not None else None
        if verdict == "reset":
            flush()
            key, value = None, []
        if verdict is not None:
            continue
        if labelled is not None:
            flush()
            key, first = labelled
            value = [first] if first else []
            blanks = 0
            continue
        if key is None:
            continue
        stripped = line.strip()
        if stripped and _is_hint(stripped, index):
            continue
        if not stripped:
            blanks += 1
            if is_long(key):
                if value and value[-1] != "":
                    value.append("")  # a paragraph break inside a long answer
                continue
            if value or blanks > 1:
                flush()
                key, value = None, []
            continue
        value.append(stripped)
    flush()
    return found


def wants_submit(text: str, langs: tuple[str, ...] = ()) -> bool:
    """Whether the reply (quotes already stripped) has a line that is just the word SUBMIT, in
    English or in one of `langs` (the form's languages)."""
    words = {"submit"} | {norm(translator(lang)("SUBMIT")) for lang in langs}
    for line in text.replace("\r", "\n").split("\n"):
        if QUOTE_RE.match(line):
            continue
        if norm(line).strip("!¡") in words:
            return True
    return False


def wants_withdraw(text: str) -> bool:
    """Whether the reply (quotes already stripped) has a line that is just the word WITHDRAW."""
    for line in text.replace("\r", "\n").split("\n"):
        if QUOTE_RE.match(line):
            continue
        if norm(line).strip("!") in ("withdraw", norm(translator("en")("WITHDRAW"))):
            return True
    return False


def summary_text(q: Questionnaire, draft: Draft) -> str:
    """The draft's answers by section, as plain text."""
    out: list[str] = []
    for section in engine.summary(q, draft):
        if not section.lines:
            continue
        out.append(f"== {section.index}. {section.title} ==")
        for line in section.lines:
            pad = "  " * line.depth
            out.append(f"{pad}{line.label}: {line.value}".rstrip() if line.value else f"{pad}{line.label}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
