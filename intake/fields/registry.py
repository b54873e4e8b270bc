"""Field types as a registry: one `FieldKind` per `FieldType`.

An entry says how raw text becomes a value (`parse`), how a value reads (`display`), what to
tell a person about the expected form (`hint`), an answer that would be accepted (`example`) and
which keyboard a channel shows (`keyboard`). The engine, its views and the channels look the
type up here instead of branching on it, so a new question type is one entry (plus its
`FieldType` member).

Keyboards: "none" (type an answer), "options" (pick one button), "checkboxes" (toggle several,
then Done), "yes_no" (two buttons), "files" (send files, then Done).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from intake.fields.core import (
    LONG_TEXT_MAX,
    TEXT_MAX,
    InvalidAnswer,
    parse_email,
    parse_multi,
    parse_number,
    parse_percent,
    parse_single,
    parse_text,
    parse_url,
    parse_yes_no,
)
from intake.fields.dates import DATE_EXAMPLE, RANGE_EXAMPLE, display_date, parse_date, parse_date_range
from intake.fields.places import display_countries, display_sea_area, parse_countries, parse_country, parse_sea_area
from intake.i18n import Translator, translator
from intake.localise.dates import canonical
from intake.localise.text import normalise_digits
from intake.questionnaire import FieldType, Question

Keyboard = Literal["none", "options", "checkboxes", "yes_no", "files"]
Parser = Callable[[Question, str, Translator], Any]
Displayer = Callable[[Question, Any, Translator], str]
Texter = Callable[[Question, Translator], str]


@dataclass(frozen=True)
class FieldKind:
    """Everything the engine and the channels need to know about one field type."""

    type: FieldType
    parse: Parser  # stripped, non-empty raw text → value, or InvalidAnswer
    display: Displayer  # a stored value as a person reads it
    hint: Texter  # the expected form, in a few words: "(a country name or code)"
    example: Texter  # an answer `parse` accepts, shown in error messages ("" for free text and files)
    keyboard: Keyboard = "none"

    @property
    def collects(self) -> bool:
        """Inputs are gathered over several messages and stored with Done (toggles, files)."""
        return self.keyboard in ("checkboxes", "files")


def _option_text(question: Question, value: Any, lang: str) -> str:
    option = question.option(value)
    return option.text.get(lang) if option else str(value)


def _listing(question: Question, t: Translator) -> str:
    return " · ".join(f"{n} = {o.text.get(t.lang)}" for n, o in enumerate(question.options, 1))


def _files_parse(question: Question, text: str, t: Translator) -> Any:
    raise InvalidAnswer(t("Please send the file itself, or skip this question."))


def _number_parse(question: Question, text: str, t: Translator) -> Any:
    if question.unit == "percent":
        return parse_percent(normalise_digits(text), t, lo=question.min, hi=question.max)
    return parse_number(normalise_digits(text), t, lo=question.min, hi=question.max)  # Arabic-Indic digits too


def _number_display(question: Question, value: Any, t: Translator) -> str:
    return f"{value}%" if question.unit == "percent" else str(value)


def _number_hint(question: Question, t: Translator) -> str:
    return t("(a percentage, e.g. 51%)") if question.unit == "percent" else t("(a number)")


def _date_hint(question: Question, t: Translator) -> str:
    if question.range:
        return t("(from – to, e.g. 2019-03 to 2021, or “since March 2022” if it is still going on; add “about” if approximate)")
    return t("(YYYY, YYYY-MM or YYYY-MM-DD; add “about” if approximate)")


def _plain(question: Question, value: Any, t: Translator) -> str:
    return str(value)


REGISTRY: dict[FieldType, FieldKind] = {
    kind.type: kind
    for kind in (
        FieldKind(
            FieldType.TEXT,
            parse=lambda q, text, t: parse_text(text, q.max_length or TEXT_MAX, t),
            display=_plain,
            hint=lambda q, t: "",
            example=lambda q, t: "",  # any text is an answer: no example to show
        ),
        FieldKind(
            FieldType.LONG_TEXT,
            parse=lambda q, text, t: parse_text(text, q.max_length or LONG_TEXT_MAX, t),
            display=_plain,
            hint=lambda q, t: t("(as long as you need; paragraphs are fine)"),
            example=lambda q, t: "",
        ),
        FieldKind(
            FieldType.SINGLE_CHOICE,
            parse=parse_single,
            display=lambda q, v, t: _option_text(q, v, t.lang),
            hint=lambda q, t: t("(choose one: {options})", options=_listing(q, t)),
            example=lambda q, t: q.options[0].text.get(t.lang),
            keyboard="options",
        ),
        FieldKind(
            FieldType.MULTI_CHOICE,
            parse=parse_multi,
            display=lambda q, v, t: ", ".join(_option_text(q, o, t.lang) for o in v),
            hint=lambda q, t: t("(choose one or more, separated by commas: {options})", options=_listing(q, t)),
            example=lambda q, t: q.options[0].text.get(t.lang),
            keyboard="checkboxes",
        ),
        FieldKind(
            FieldType.YES_NO,
            parse=lambda q, text, t: parse_yes_no(text, t),
            display=lambda q, v, t: t("Yes") if v else t("No"),
            hint=lambda q, t: t("(yes or no)"),
            example=lambda q, t: t("yes"),
            keyboard="yes_no",
        ),
        FieldKind(
            FieldType.DATE,
            parse=lambda q, text, t: parse_date_range(canonical(text, t.lang), t) if q.range else parse_date(canonical(text, t.lang), t),
            display=lambda q, v, t: display_date(v, t),
            hint=_date_hint,
            example=lambda q, t: RANGE_EXAMPLE if q.range else DATE_EXAMPLE,  # digits: parseable in every language
        ),
        FieldKind(
            FieldType.COUNTRY,
            parse=lambda q, text, t: parse_countries(text, t) if q.multiple else parse_country(text, t),
            display=lambda q, v, t: display_countries(v, t),
            hint=lambda q, t: t("(one or more countries, separated by commas)") if q.multiple else t("(a country name or code)"),
            example=lambda q, t: "Nigeria",
        ),
        FieldKind(
            FieldType.NUMBER,
            parse=_number_parse,
            display=_number_display,
            hint=_number_hint,
            example=lambda q, t: "51%" if q.unit == "percent" else "12",
        ),
        FieldKind(
            FieldType.EMAIL,
            parse=lambda q, text, t: parse_email(text, t),
            display=_plain,
            hint=lambda q, t: t("(an email address)"),
            example=lambda q, t: "name@example.org",
        ),
        FieldKind(
            FieldType.URL,
            parse=lambda q, text, t: parse_url(text, t),
            display=_plain,
            hint=lambda q, t: t("(a web address)"),
            example=lambda q, t: "https://example.org/report",
        ),
        FieldKind(
            FieldType.FILES,
            parse=_files_parse,
            display=lambda q, v, t: t.plural("{n} file", "{n} files", len(v)),
            hint=lambda q, t: t("(send the files, then say you are done)"),
            example=lambda q, t: "",
            keyboard="files",
        ),
        FieldKind(
            FieldType.SEA_AREA,
            parse=lambda q, text, t: parse_sea_area(text, t),
            display=lambda q, v, t: display_sea_area(v, t),
            hint=lambda q, t: t("(high seas, the waters of a country such as “EEZ of Ghana”, or coordinates such as “5.3 N, 3.2 W”)"),
            example=lambda q, t: "EEZ of Ghana",  # the parser knows English words only
        ),
    )
}


def kind_of(question_or_type: Question | FieldType) -> FieldKind:
    """The registry entry for a question (or a field type)."""
    ftype = question_or_type.type if isinstance(question_or_type, Question) else question_or_type
    return REGISTRY[ftype]


def parse(question: Question, raw: str, lang: str = "en") -> Any:
    """Parse `raw` for `question` into its normalised value, or raise InvalidAnswer."""
    t = translator(lang)
    text = raw.strip()
    if not text:
        raise InvalidAnswer(t("Please type an answer."))
    return kind_of(question).parse(question, text, t)


def display(question: Question, value: Any, lang: str) -> str:
    """A normalised value as a person reads it; a skipped answer reads "(skipped)"."""
    t = translator(lang)
    if value is None:
        return t("(skipped)")
    return kind_of(question).display(question, value, t)


def hint(question: Question, lang: str) -> str:
    """The expected form of an answer, in a few words ("" for plain text)."""
    return kind_of(question).hint(question, translator(lang))


def example(question: Question, lang: str) -> str:
    """An answer that `parse` accepts for this question ("" for free text and files)."""
    return kind_of(question).example(question, translator(lang))


def keyboard(question: Question) -> Keyboard:
    """The keyboard a channel shows for this question."""
    return kind_of(question).keyboard
