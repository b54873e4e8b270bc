"""Parsing raw answers into typed, normalised values — one function per field type.

Every channel's input (a Telegram text or button, an email form line, the terminal, a staff edit)
goes through `parse`. Errors are `InvalidAnswer` with a text a person understands, already in the
submitter's language.
"""

from __future__ import annotations

import calendar
import re
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from intake import languages  # i18n hook
from intake.i18n import Translator, translator
from intake.localise import countries, dates  # i18n hook
from intake.localise.text import normalise_digits, strip_marks  # i18n hook
from intake.questionnaire import FieldType, Question

TEXT_MAX = 500
LONG_TEXT_MAX = 20_000
NUMBER_MAX = 1_000_000_000
YEAR_MIN, YEAR_MAX = 1900, 2100

YES_WORDS = {"yes", "y", "true", "1", "si", "sí", "oui", "да", "نعم", "ja"} | languages.all_yes_words()  # i18n hook
NO_WORDS = {"no", "n", "false", "0", "non", "нет", "لا", "nein"} | languages.all_no_words()  # i18n hook
NONE_WORDS = {"none", "n/a", "na", "-", "nothing"} | languages.all_none_words()  # i18n hook


class InvalidAnswer(ValueError):
    """The raw answer does not fit the question; `message` says why in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse(question: Question, raw: str, lang: str = "en") -> Any:
    """Parse `raw` for `question` into its normalised value, or raise InvalidAnswer."""
    t = translator(lang)
    text = raw.strip()
    if not text:
        raise InvalidAnswer(t("Please type an answer."))
    match question.type:
        case FieldType.TEXT:
            return parse_text(text, question.max_length or TEXT_MAX, t)
        case FieldType.LONG_TEXT:
            return parse_text(text, question.max_length or LONG_TEXT_MAX, t)
        case FieldType.SINGLE_CHOICE:
            return parse_single(question, text, t)
        case FieldType.MULTI_CHOICE:
            return parse_multi(question, text, t)
        case FieldType.YES_NO:
            return parse_yes_no(text, t)
        case FieldType.DATE:
            text = dates.canonical(text, t.lang)  # i18n hook: local month names, orders, words
            return parse_date_range(text, t) if question.range else parse_date(text, t)
        case FieldType.COUNTRY:
            return parse_countries(text, t) if question.multiple else parse_country(text, t)
        case FieldType.NUMBER:
            return parse_number(normalise_digits(text), t, lo=question.min, hi=question.max)  # i18n hook: Arabic-Indic digits
        case FieldType.EMAIL:
            return parse_email(text, t)
        case FieldType.URL:
            return parse_url(text, t)
        case FieldType.FILES:
            raise InvalidAnswer(t("Please send the file itself, or skip this question."))
    raise InvalidAnswer(t("This question cannot be answered here."))  # pragma: no cover


def parse_text(text: str, limit: int, t: Translator) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if len(text) > limit:
        raise InvalidAnswer(
            t("That answer is too long ({n} characters). Please keep it under {limit}.", n=len(text), limit=limit)
        )
    return text


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", strip_marks(text.strip().strip(".").casefold()))  # i18n hook: "si" matches "Sí"


def _match_option(question: Question, token: str, lang: str) -> str | None:
    token_n = _norm(token)
    if not token_n:
        return None
    if token_n.isdigit():
        index = int(token_n) - 1
        return question.options[index].id if 0 <= index < len(question.options) else None
    for option in question.options:
        if token_n in (_norm(option.id), _norm(option.id.replace("_", " ")), _norm(option.text.get(lang))):
            return option.id
        if token_n == _norm(option.text.get("en")):
            return option.id
    starts = [o.id for o in question.options if _norm(o.text.get(lang)).startswith(token_n)]
    return starts[0] if len(starts) == 1 else None


def _choices_hint(question: Question, t: Translator) -> str:
    listing = "; ".join(f"{i}. {o.text.get(t.lang)}" for i, o in enumerate(question.options, 1))
    return listing


def parse_single(question: Question, text: str, t: Translator) -> str:
    choice = _match_option(question, text, t.lang)
    if choice is None:
        raise InvalidAnswer(
            t("Please choose one of the options by its number or its words: {options}", options=_choices_hint(question, t))
        )
    return choice


def parse_multi(question: Question, text: str, t: Translator) -> list[str]:
    tokens = [tok for tok in re.split(r"[,;\n]+|\s+and\s+", text) if tok.strip()]
    if len(tokens) == 1 and re.fullmatch(r"[\d\s]+", tokens[0]):
        tokens = tokens[0].split()
    chosen: set[str] = set()
    bad: list[str] = []
    for token in tokens:
        match = _match_option(question, token, t.lang)
        if match is None:
            bad.append(token.strip())
        else:
            chosen.add(match)
    if bad or not chosen:
        raise InvalidAnswer(
            t(
                "I could not match “{bad}”. Please choose one or more options by number or words, separated by commas: {options}",
                bad=", ".join(bad) or text,
                options=_choices_hint(question, t),
            )
        )
    return [o.id for o in question.options if o.id in chosen]


def parse_yes_no(text: str, t: Translator) -> bool:
    word = _norm(text).rstrip("!")
    if word in YES_WORDS or word == _norm(t("yes")):
        return True
    if word in NO_WORDS or word == _norm(t("no")):
        return False
    raise InvalidAnswer(t("Please answer yes or no."))


# ---- dates -----------------------------------------------------------------------------------

_MONTHS = {
    name.casefold(): i
    for i in range(1, 13)
    for name in (calendar.month_name[i], calendar.month_abbr[i], calendar.month_abbr[i] + ".")
}
_APPROX = re.compile(
    r"^(?:~|about|around|approx\.?|approximately|circa|c\.|ca\.?|roughly|early|mid|late)\s*|\s*(?:\?|\(approx(?:imate)?\.?\)|approx\.?|approximately)$",
    re.IGNORECASE,
)
_ONGOING = {"now", "present", "ongoing", "today", "current", "still ongoing", "continuing"}


def _date_error(t: Translator) -> InvalidAnswer:
    return InvalidAnswer(
        t("Please give a date like 2021, 2021-03 or 2021-03-15. Add “about” if it is approximate, e.g. “about 2019”.")
    )


def parse_date(text: str, t: Translator) -> dict[str, Any]:
    """`2021`, `2021-03`, `2021-03-15`, `March 2021`, `15 March 2021`; `about`/`~`/`?` → approximate."""
    approx = False
    value = text.strip()
    while True:
        stripped = _APPROX.sub("", value, count=1).strip()
        if stripped == value:
            break
        approx, value = True, stripped
    value = value.strip(" ,.")
    year = month = day = None
    if m := re.fullmatch(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?", value):
        year = int(m[1])
        month = int(m[2]) if m[2] else None
        day = int(m[3]) if m[3] else None
    elif m := re.fullmatch(r"(?:(\d{1,2})\s+)?([A-Za-z]+\.?),?\s+(\d{4})", value):
        month = _MONTHS.get(m[2].casefold())
        if month is None:
            raise _date_error(t)
        year, day = int(m[3]), int(m[1]) if m[1] else None
    elif m := re.fullmatch(r"([A-Za-z]+\.?)\s+(\d{1,2}),?\s+(\d{4})", value):
        month = _MONTHS.get(m[1].casefold())
        if month is None:
            raise _date_error(t)
        year, day = int(m[3]), int(m[2])
    elif re.fullmatch(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{4}", value):
        raise InvalidAnswer(
            t("Please write the year first (2021-03-15), so day and month cannot be mixed up.")
        )
    else:
        raise _date_error(t)
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise InvalidAnswer(t("Please give a year between {lo} and {hi}.", lo=YEAR_MIN, hi=YEAR_MAX))
    if month is not None and not 1 <= month <= 12:
        raise InvalidAnswer(t("There is no month {month}. Please give a date like 2021-03-15.", month=month))
    if day is not None:
        assert month is not None
        if not 1 <= day <= calendar.monthrange(year, month)[1]:
            raise InvalidAnswer(t("That day does not exist in that month. Please check the date."))
    iso = f"{year:04d}" + (f"-{month:02d}" if month else "") + (f"-{day:02d}" if day else "")
    return {"date": iso, "approx": approx}


_RANGE_SPLIT = re.compile(r"\s+(?:to|until|till|through|-|–|—)\s+|\s*(?:–|—|\.\.)\s*", re.IGNORECASE)


def parse_date_range(text: str, t: Translator) -> dict[str, Any]:
    """`2019 to 2021`, `2019-2021`, `2019-03 – 2020`, `since 2020`, `2020 to now`, or one date."""
    value = re.sub(r"^(?:from|between)\s+", "", text.strip(), flags=re.IGNORECASE)
    value = re.sub(r"\s+and\s+", " to ", value, flags=re.IGNORECASE)
    if m := re.fullmatch(r"since\s+(.+)", value, re.IGNORECASE):
        return {"start": parse_date(m[1], t), "end": None, "ongoing": True}
    if m := re.fullmatch(r"(\d{4})\s*-\s*(\d{4})", value):
        parts = [m[1], m[2]]
    else:
        parts = _RANGE_SPLIT.split(value, maxsplit=1)
    if len(parts) == 1:
        single = parse_date(parts[0], t)
        return {"start": single, "end": single, "ongoing": False}
    start = parse_date(parts[0], t)
    if _norm(parts[1]) in _ONGOING:
        return {"start": start, "end": None, "ongoing": True}
    end = parse_date(parts[1], t)
    if end["date"] < start["date"][: len(end["date"])]:
        raise InvalidAnswer(t("The end date is before the start date. Please check the order."))
    return {"start": start, "end": end, "ongoing": False}


# ---- countries -------------------------------------------------------------------------------

# i18n hook: country names and short forms in every language live in intake/localise/countries.py


def country_name(code: str, lang: str = "en") -> str:
    """The country's everyday name in `lang` (CLDR), e.g. for summaries and staff alerts."""
    return countries.country_name(code, lang)  # i18n hook


def parse_country(text: str, t: Translator) -> str:
    """An ISO 3166-1 alpha-2 code, from a code or a name in any supported language (intake.localise.countries)."""
    token = text.strip().strip(".")
    try:
        found = countries.parse_country(token, t.lang)  # i18n hook
    except countries.UnknownCountry:
        raise InvalidAnswer(
            t("I do not know the country “{text}”. Please give its name or its two-letter code (e.g. NG for Nigeria).", text=token)
        ) from None
    if isinstance(found, list):
        names = countries.candidates_text(found, t.lang)
        raise InvalidAnswer(t("“{text}” could mean several countries ({names}). Which one?", text=token, names=names))
    return found


def parse_countries(text: str, t: Translator) -> list[str]:
    try:  # i18n hook: a name with a conjunction in it ("Trinidad y Tobago") is one country
        return [parse_country(text, t)]
    except InvalidAnswer:
        pass
    parts = [p for p in re.split(r"[,;/\n،]+|\s+(?:and|y|et|и|или)\s+|\s+و\s*", text) if p.strip()]  # i18n hook
    out: list[str] = []
    for part in parts:
        code = parse_country(part, t)
        if code not in out:
            out.append(code)
    if not out:
        raise InvalidAnswer(t("Please name at least one country."))
    return out


# ---- numbers, email, url ---------------------------------------------------------------------


def parse_number(text: str, t: Translator, *, lo: float | None = None, hi: float | None = None) -> int:
    """A whole number; thousands separators (`1,200`, `1 200`, `1.200`) are accepted."""
    value = text.strip().lstrip("~").strip()
    value = re.sub(r"^(?:about|around|approx\.?|approximately)\s+", "", value, flags=re.IGNORECASE)
    compact = re.sub(r"(?<=\d)[,\s.'](?=\d{3}\b)", "", value)
    if not re.fullmatch(r"-?\d+", compact):
        raise InvalidAnswer(t("Please give a whole number using digits, for example 12. A best estimate is fine."))
    number = int(compact)
    low = 0 if lo is None else lo
    high = NUMBER_MAX if hi is None else hi
    if number < low or number > high:
        raise InvalidAnswer(t("Please give a number between {lo} and {hi}.", lo=int(low), hi=int(high)))
    return number


def parse_email(text: str, t: Translator) -> str:
    try:
        result = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise InvalidAnswer(t("That does not look like an email address. Please check it, e.g. name@example.org.")) from None
    return str(result.normalized)


def parse_url(text: str, t: Translator) -> str:
    value = text.strip()
    if re.match(r"^www\.", value, re.IGNORECASE):
        value = "https://" + value
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in value:
        raise InvalidAnswer(t("Please give a web address starting with https://"))
    return value


def is_none_word(text: str) -> bool:
    return _norm(text) in NONE_WORDS
