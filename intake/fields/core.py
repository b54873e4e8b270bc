"""Parsers for the plain field types: text, choices, yes/no, numbers, email and web addresses.

Each parser turns stripped raw text into the normalised value or raises `InvalidAnswer` with a
text a person understands, already in the submitter's language, that shows an answer which
would be accepted.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from intake import languages
from intake.i18n import Translator
from intake.localise.text import strip_marks
from intake.questionnaire import Question

TEXT_MAX = 500
LONG_TEXT_MAX = 20_000
NUMBER_MAX = 1_000_000_000

YES_WORDS = {"yes", "y", "true", "1", "si", "sí", "oui", "да", "نعم", "ja"} | languages.all_yes_words()
NO_WORDS = {"no", "n", "false", "0", "non", "нет", "لا", "nein"} | languages.all_no_words()
NONE_WORDS = {"none", "n/a", "na", "-", "nothing"} | languages.all_none_words()


class InvalidAnswer(ValueError):
    """The raw answer does not fit the question; `message` says why in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def norm(text: str) -> str:
    """Case-folded, with inner whitespace collapsed and surrounding dots removed (for matching)."""
    return re.sub(r"\s+", " ", strip_marks(text.strip().strip(".").casefold()))  # "si" matches "Sí"


def parse_text(text: str, limit: int, t: Translator) -> str:
    """Free text: line endings normalised, NUL removed, at most `limit` characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if len(text) > limit:
        raise InvalidAnswer(
            t("That answer is too long ({n} characters). Please keep it under {limit}.", n=len(text), limit=limit)
        )
    return text


# ---- choices ---------------------------------------------------------------------------------


def match_option(question: Question, token: str, lang: str) -> str | None:
    """The option id `token` names: its number, id, text (in `lang` or English), or a unique prefix."""
    token_n = norm(token)
    if not token_n:
        return None
    if token_n.isdigit():
        index = int(token_n) - 1
        return question.options[index].id if 0 <= index < len(question.options) else None
    for option in question.options:
        if token_n in (norm(option.id), norm(option.id.replace("_", " ")), norm(option.text.get(lang))):
            return option.id
        if token_n == norm(option.text.get("en")):
            return option.id
    starts = [o.id for o in question.options if norm(o.text.get(lang)).startswith(token_n)]
    return starts[0] if len(starts) == 1 else None


def choices_hint(question: Question, t: Translator) -> str:
    """The options with their numbers: `1. Yes; 2. No`."""
    return "; ".join(f"{i}. {o.text.get(t.lang)}" for i, o in enumerate(question.options, 1))


def parse_single(question: Question, text: str, t: Translator) -> str:
    choice = match_option(question, text, t.lang)
    if choice is None:
        raise InvalidAnswer(
            t("Please choose one of the options by its number or its words: {options}", options=choices_hint(question, t))
        )
    return choice


def parse_multi(question: Question, text: str, t: Translator) -> list[str]:
    """One or more options, separated by commas, semicolons, lines, "and" (or spaces between numbers)."""
    tokens = [tok for tok in re.split(r"[,;\n]+|\s+and\s+", text) if tok.strip()]
    if len(tokens) == 1 and re.fullmatch(r"[\d\s]+", tokens[0]):
        tokens = tokens[0].split()
    chosen: set[str] = set()
    bad: list[str] = []
    for token in tokens:
        match = match_option(question, token, t.lang)
        if match is None:
            bad.append(token.strip())
        else:
            chosen.add(match)
    if bad or not chosen:
        raise InvalidAnswer(
            t(
                "I could not match “{bad}”. Please choose one or more options by number or words, separated by commas: {options}",
                bad=", ".join(bad) or text,
                options=choices_hint(question, t),
            )
        )
    return [o.id for o in question.options if o.id in chosen]


def parse_yes_no(text: str, t: Translator) -> bool:
    word = norm(text).rstrip("!")
    if word in YES_WORDS or word == norm(t("yes")):
        return True
    if word in NO_WORDS or word == norm(t("no")):
        return False
    raise InvalidAnswer(t("Please answer yes or no."))


# ---- numbers ---------------------------------------------------------------------------------

_ABOUT = re.compile(r"^(?:about|around|approx\.?|approximately)\s+", re.IGNORECASE)
_PERCENT = re.compile(r"\s*(?:%|per\s?cent|percent)$", re.IGNORECASE)


def parse_number(text: str, t: Translator, *, lo: float | None = None, hi: float | None = None) -> int:
    """A whole number; thousands separators (`1,200`, `1 200`, `1.200`) are accepted."""
    value = _ABOUT.sub("", text.strip().lstrip("~").strip())
    compact = re.sub(r"(?<=\d)[,\s.'](?=\d{3}\b)", "", value)
    if not re.fullmatch(r"-?\d+", compact):
        raise InvalidAnswer(t("Please give a whole number using digits, for example 12. A best estimate is fine."))
    number = int(compact)
    _check_bounds(number, t, lo, hi)
    return number


def parse_percent(text: str, t: Translator, *, lo: float | None = None, hi: float | None = None) -> int | float:
    """A percentage: `51`, `51%`, `51 %`, `51 percent`, `33.5%` (or `33,5 %`); at most 2 decimals."""
    value = _ABOUT.sub("", text.strip().lstrip("~").strip())
    value = _PERCENT.sub("", value).strip()
    if not re.fullmatch(r"-?\d{1,9}(?:[.,]\d{1,9})?", value):
        raise InvalidAnswer(t("Please give a percentage using digits, for example 51%."))
    try:
        number = Decimal(value.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern above admits only decimals
        raise InvalidAnswer(t("Please give a percentage using digits, for example 51%.")) from None
    rounded = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole = rounded == rounded.to_integral_value()
    result: int | float = int(rounded) if whole else float(rounded)
    _check_bounds(result, t, lo, 100 if hi is None else hi)
    return result


def _check_bounds(number: float, t: Translator, lo: float | None, hi: float | None) -> None:
    low = 0 if lo is None else lo
    high = NUMBER_MAX if hi is None else hi
    if number < low or number > high:
        raise InvalidAnswer(t("Please give a number between {lo} and {hi}.", lo=int(low), hi=int(high)))


# ---- email, url ------------------------------------------------------------------------------


def parse_email(text: str, t: Translator) -> str:
    try:
        result = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise InvalidAnswer(t("That does not look like an email address. Please check it, e.g. name@example.org.")) from None
    return str(result.normalized)


def parse_url(text: str, t: Translator) -> str:
    """An http(s) address; `www.…` gets `https://` in front."""
    value = text.strip()
    if re.match(r"^www\.", value, re.IGNORECASE):
        value = "https://" + value
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in value:
        raise InvalidAnswer(t("Please give a web address starting with https://, e.g. https://example.org/report"))
    return value


def is_none_word(text: str) -> bool:
    return norm(text) in NONE_WORDS
