"""Reading stored answers: junk values dropped, dates, countries and identifiers normalised.

Shared by the checklist, the matcher and the dossier writers, so "not known" means the same
thing everywhere."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# answers that say "we don't know" rather than give a value
JUNK = {
    "", "-", "--", "?", "n/a", "na", "none", "none known", "nil", "no", "not known", "not applicable", "unknown",
    "don't know", "dont know", "do not know", "idk", "tbc", "tbd", "not sure", "unclear", "no idea", "неизвестно",
    "нет", "غير معروف", "不详", "未知",
}
_SPACE = re.compile(r"\s+")


def text(value: Any) -> str:
    """A scalar answer as one line of text ("" for None, booleans and lists)."""
    if value is None or isinstance(value, bool | list | dict):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _SPACE.sub(" ", str(value)).strip()


def is_junk(value: Any) -> bool:
    """True when the answer carries no information ("not known", "n/a", "?", empty)."""
    t = unicodedata.normalize("NFKC", text(value)).casefold().strip(" .!?,;:()[]")
    return t in JUNK


def known(value: Any) -> str:
    """The answer's text, or "" when it is junk."""
    return "" if is_junk(value) else text(value)


def lines(value: Any) -> list[str]:
    """Values listed one a line (or separated by semicolons) in a free-text answer, junk dropped."""
    if not isinstance(value, str):
        return []
    return [v for v in (known(p) for p in re.split(r"[\n;]+", value)) if v]


def long_text(value: Any, *, min_chars: int = 1) -> str:
    """A long answer with its line breaks, or "" when junk or shorter than `min_chars`."""
    if not isinstance(value, str) or is_junk(value):
        return ""
    stripped = value.strip()
    return stripped if len(stripped) >= min_chars else ""


def date(value: Any) -> str:
    """An ISO date prefix (`1970`, `1970-03`, `1970-03-02`) from a stored partial date or range start."""
    if isinstance(value, dict):
        if "start" in value:
            return date(value["start"])
        return text(value.get("date"))
    return ""


def approx(value: Any) -> bool:
    return isinstance(value, dict) and bool(value.get("approx"))


def countries(value: Any) -> list[str]:
    """Lower-case ISO codes from a country answer (one code or a list)."""
    codes = value if isinstance(value, list) else [value]
    return [c.strip().lower() for c in codes if isinstance(c, str) and c.strip()]


def choices(value: Any) -> list[str]:
    """Option ids of a multi-choice answer."""
    return [str(v) for v in value] if isinstance(value, list) else ([str(value)] if isinstance(value, str) else [])


def instances(answers: dict[str, Any], group: str) -> list[dict[str, Any]]:
    """The instances of a repeat group (dicts only)."""
    return [i for i in answers.get(group) or [] if isinstance(i, dict)]


def imo(value: Any) -> str:
    """`IMO1234567` from "1234567", "IMO 1234567" or "imo:1234567"; other text unchanged."""
    raw = known(value)
    m = re.fullmatch(r"(?i)(?:imo)?\s*:?\s*(\d{7})", raw)
    return f"IMO{m.group(1)}" if m else raw


def identifier(value: Any) -> str:
    """An ID number compared without spaces, dashes, dots or case."""
    return re.sub(r"[\s\-./]", "", known(value)).upper()
