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

from intake import engine
from intake.engine import Draft
from intake.forms import SEPARATOR, label_for
from intake.i18n import translator
from intake.questionnaire import FieldType, Group, Question, Questionnaire
from mail.formtext import INDENT, WIDTH, condition_note, copy_note, hints, render_form, wrap_lines

__all__ = ["label_for", "hints", "render_form", "wrap_lines", "parse_form", "resolve_label", "sent_lines", "summary_text"]
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

    def pieces(text: str) -> set[str]:
        """A text we send under a label, whole and as the lines we wrap it into."""
        wrapped = textwrap.wrap(text, WIDTH, initial_indent=INDENT, subsequent_indent=INDENT, break_on_hyphens=False)
        return {norm(text)} | {norm(w) for w in wrapped} | {norm(w) for w in textwrap.wrap(text, WIDTH)}

    def walk(items: list[Question | Group], groups: tuple[Group, ...]) -> None:
        for item in items:
            if isinstance(item, Group):
                for numbers in _instance_numbers(len(groups) + 1):
                    path: list[Any] = []
                    for g, n in zip(groups + (item,), numbers, strict=True):
                        path += [g.id, n]
                    hint_set.update(pieces(copy_note(q, item, tuple(path), lang)))
                walk(item.items, groups + (item,))
                continue
            for key in {norm(item.short(lang)), norm(item.short("en")), norm(item.id)}:
                by_label.setdefault(key, []).append(_Template(groups, item))
            for text in [*hints(item, lang), item.text.get(lang)] + ([condition_note(q, item.when, lang)] if item.when else []):
                hint_set.update(pieces(text))

    for section in q.sections:
        walk(section.items, ())
    markers = tuple({norm(t("(optional)")), "(optional)", "(required)", norm(t("(required)"))})
    return _Index(by_label, frozenset(hint_set), markers)


def _instance_numbers(depth: int, most: int = 6) -> list[tuple[int, ...]]:
    """Instance indexes up to `most` at each of `depth` nesting levels (copy notes we may send)."""
    out: list[tuple[int, ...]] = [()]
    for _ in range(depth):
        out = [o + (n,) for o in out for n in range(most)]
    return out


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

    for raw_line in _join_labels(q, lang, text.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
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


def _join_labels(q: Questionnaire, lang: str, lines: list[str]) -> list[str]:
    """The lines with every label we broke after a ` —` separator (too long for one line) joined
    back into one line, quoted as its last piece is."""
    out: list[str] = []
    tail = SEPARATOR.rstrip()
    i = 0
    while i < len(lines):
        line = lines[i]
        here = unquote(line).rstrip()
        if here.endswith(tail) and i + 1 < len(lines):
            following = lines[i + 1]
            joined = here + " " + unquote(following).strip()
            if _label_line(q, lang, joined) is not None or (here.endswith(tail) and following.rstrip().endswith(tail)):
                prefix = following[: len(following) - len(unquote(following))]
                lines[i + 1] = prefix + joined
                i += 1
                continue
        out.append(line)
        i += 1
    return out


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
