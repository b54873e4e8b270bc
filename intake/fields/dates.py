"""Partial dates (`2021`, `2021-03`, `2021-03-15`, with an "approximate" flag) and date ranges.

Accepted as people write them: ISO order; English month names (`March 2021`, `15 March 2021`,
`March 15, 2021`); day-first dates when the order is clear (`15.06.2016`, `15/06/2016`: a day over
12, equal day and month, or dots, the day-first convention); ranges with an open end (`since
March 2022`, `March 2022 –`, `2020 to now`). Month names in other languages come later (Babel).
"""

from __future__ import annotations

import calendar
import re
from typing import Any

from intake.fields.core import InvalidAnswer, norm
from intake.i18n import Translator

YEAR_MIN, YEAR_MAX = 1900, 2100

_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)
MONTHS: dict[str, int] = {}
for _i, _name in enumerate(_MONTH_NAMES, 1):
    MONTHS[_name] = MONTHS[_name[:3]] = MONTHS[_name[:3] + "."] = _i
MONTHS["sept"] = MONTHS["sept."] = 9

_APPROX = re.compile(
    r"^(?:~|about|around|approx\.?|approximately|circa|c\.|ca\.?|roughly|early|mid|late)(?:-(?=\d)|\s*)"
    r"|\s*(?:\?|\(approx(?:imate)?\.?\)|approx\.?|approximately)$",
    re.IGNORECASE,
)
_ONGOING = {"now", "present", "the present", "ongoing", "today", "current", "still ongoing", "continuing", "date", "to date"}
_OPEN_END = re.compile(
    r"\s*(?:-|–|—|\.\.\.?|…|to|until|till|onwards?|and later|(?:up\s+)?to\s+(?:now|date|the present|present|today))\s*$",
    re.IGNORECASE,
)
DATE_EXAMPLE = "2021-03-15"
RANGE_EXAMPLE = "2019-03 – 2021"


class DateFormatError(InvalidAnswer):
    """The text is not a date in any form we know (as opposed to an impossible date)."""


def _date_error(t: Translator) -> DateFormatError:
    return DateFormatError(
        t("Please give a date like 2021, 2021-03 or 2021-03-15. Add “about” if it is approximate, e.g. “about 2019”.")
    )


def _range_error(t: Translator) -> InvalidAnswer:
    return InvalidAnswer(
        t(
            "Please give a period like “2019 to 2021”, “{example}” or “since March 2022” "
            "(leave the end open if it is still going on). Add “about” if it is approximate, e.g. “about 2019 to 2021”.",
            example=RANGE_EXAMPLE,
        )
    )


def _month(name: str, t: Translator) -> int:
    month = MONTHS.get(name.casefold())
    if month is None:
        raise _date_error(t)
    return month


def _numeric_day_month(first: int, second: int, sep: str, year: int, text: str, t: Translator) -> tuple[int, int]:
    """(day, month) for `DD?MM?YYYY`, when the order is clear; else InvalidAnswer naming the doubt."""
    if first > 12 >= second or first == second or (sep == "." and max(first, second) <= 12):
        return first, second
    if second > 12 >= first:
        return second, first  # month first: the only reading
    if first > 12 and second > 12:
        raise InvalidAnswer(t("There is no month {month}. Please give a date like 2021-03-15.", month=second))
    raise InvalidAnswer(
        t(
            "“{text}” could be read two ways. Please write the year first, e.g. {example}, so day and month cannot be mixed up.",
            text=text,
            example=f"{year:04d}-{second:02d}-{first:02d}",
        )
    )


def parse_date(text: str, t: Translator) -> dict[str, Any]:
    """`2021`, `2021-03`, `2021-03-15`, `March 2021`, `15 March 2021`, `15.06.2016`; `about`/`~`/`?` → approximate."""
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
    elif m := re.fullmatch(r"(?:(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?)?([A-Za-z]+\.?),?\s+(\d{4})", value, re.IGNORECASE):
        month = _month(m[2], t)
        year, day = int(m[3]), int(m[1]) if m[1] else None
    elif m := re.fullmatch(r"([A-Za-z]+\.?)\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", value, re.IGNORECASE):
        month = _month(m[1], t)
        year, day = int(m[3]), int(m[2])
    elif m := re.fullmatch(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})", value):
        day, month = _numeric_day_month(int(m[1]), int(m[3]), m[2], int(m[4]), value, t)
        year = int(m[4])
    elif m := re.fullmatch(r"(\d{1,2})([-/.])(\d{4})", value):
        month, year = int(m[1]), int(m[3])  # 06/2016, 06.2016: month and year
    elif re.fullmatch(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{4}", value):
        raise InvalidAnswer(t("Please write the year first, e.g. {example}, so day and month cannot be mixed up.", example=DATE_EXAMPLE))
    else:
        raise _date_error(t)
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise InvalidAnswer(t("Please give a year between {lo} and {hi}.", lo=YEAR_MIN, hi=YEAR_MAX))
    if month is not None and not 1 <= month <= 12:
        raise InvalidAnswer(t("There is no month {month}. Please give a date like 2021-03-15.", month=month))
    if day is not None:
        assert month is not None
        if not 1 <= day <= calendar.monthrange(year, month)[1]:
            raise InvalidAnswer(t("That day does not exist in that month. Please check the date, e.g. 2021-03-15."))
    iso = f"{year:04d}" + (f"-{month:02d}" if month else "") + (f"-{day:02d}" if day else "")
    return {"date": iso, "approx": approx}


_RANGE_SPLIT = re.compile(r"\s+(?:to|until|till|through|-|–|—)\s+|\s*(?:–|—|\.\.)\s*", re.IGNORECASE)


def _range_part(text: str, t: Translator) -> dict[str, Any]:
    try:
        return parse_date(text, t)
    except DateFormatError:
        raise _range_error(t) from None


def parse_date_range(text: str, t: Translator) -> dict[str, Any]:
    """`2019 to 2021`, `2019-2021`, `2019-03 – 2020`, `since 2020`, `2020 to now`, `March 2022 –`, or one date."""
    value = re.sub(r"^(?:from|between)\s+", "", text.strip(), flags=re.IGNORECASE)
    value = re.sub(r"\s+and\s+(?!later\b)", " to ", value, flags=re.IGNORECASE)
    if m := re.fullmatch(r"(?:since|starting|started|beginning|begun)\s+(?:in\s+|on\s+)?(.+)", value, re.IGNORECASE):
        return {"start": _range_part(m[1], t), "end": None, "ongoing": True}
    opened = _OPEN_END.sub("", value)
    if opened != value and opened.strip():
        return {"start": _range_part(opened, t), "end": None, "ongoing": True}
    if m := re.fullmatch(r"(\d{4})\s*-\s*(\d{4})", value):
        parts = [m[1], m[2]]
    else:
        parts = _RANGE_SPLIT.split(value, maxsplit=1)
    if len(parts) == 1:
        single = _range_part(parts[0], t)
        return {"start": single, "end": single, "ongoing": False}
    start = _range_part(parts[0], t)
    if norm(parts[1]) in _ONGOING:
        return {"start": start, "end": None, "ongoing": True}
    end = _range_part(parts[1], t)
    if end["date"] < start["date"][: len(end["date"])]:
        raise InvalidAnswer(t("The end date is before the start date. Please check the order, e.g. “2019 to 2021”."))
    return {"start": start, "end": end, "ongoing": False}


def date_text(value: dict[str, Any], t: Translator) -> str:
    """A stored partial date as a person reads it: `2021-03`, `about 2019`."""
    return t("about {date}", date=value["date"]) if value.get("approx") else str(value["date"])


def display_date(value: dict[str, Any], t: Translator) -> str:
    """A stored date or range: `2019 to 2021`, `2020 to now`, `about 2019`."""
    if "start" in value:
        start = date_text(value["start"], t)
        if value.get("ongoing"):
            return t("{start} to now", start=start)
        end = date_text(value["end"], t)
        return start if start == end else t("{start} to {end}", start=start, end=end)
    return date_text(value, t)

