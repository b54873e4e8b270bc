"""Dates typed the local way, rewritten into the form the date parser reads.

`canonical("15 de junio de 2016", "es")` → `2016-06-15`; `с 2019 по настоящее время` → `from 2019 to now`;
`15.06.2016` → `2016-06-15` (dots are always day.month.year); `15/06/2016` → `2016-06-15` only when
one of the first two numbers is over 12, otherwise it is left for the parser to ask for the year
first. Month names of every supported language (CLDR through Babel, with the Levantine and
Maghreb Arabic month names) are read whatever the case's language.
"""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale

from intake import languages
from intake.localise.text import fold

# Arabic month names used in the Levant and Iraq, in Algeria/Tunisia, and in Morocco (CLDR has the Egyptian set).
_ARABIC_MONTHS: dict[str, int] = {
    "كانون الثاني": 1, "شباط": 2, "اذار": 3, "نيسان": 4, "ايار": 5, "حزيران": 6, "تموز": 7, "اب": 8,
    "ايلول": 9, "تشرين الاول": 10, "تشرين الثاني": 11, "كانون الاول": 12,
    "جانفي": 1, "فيفري": 2, "افريل": 4, "ماي": 5, "جوان": 6, "جويليه": 7, "اوت": 8,
    "يوليوز": 7, "غشت": 8, "شتنبر": 9, "نونبر": 11, "دجنبر": 12,
}
# Russian months after "в" ("в июне 2016").
_RUSSIAN_MONTHS: dict[str, int] = {
    name: i for i, name in enumerate(
        ("январе", "феврале", "марте", "апреле", "мае", "июне", "июле", "августе", "сентябре", "октябре", "ноябре", "декабре"), 1
    )
}

# Per language: phrases mapped to the English words the parser knows (applied in order, on folded text).
_PHRASES: dict[str, list[tuple[str, str]]] = {
    "es": [
        (r"\bhasta (?:ahora|hoy|la fecha|el presente|la actualidad)\b", " to now"),
        (r"\b(?:actualidad|la actualidad|el presente|en curso|continua|sigue)\b", "now"),
        (r"\b(?:aproximadamente|aprox|alrededor de|cerca de|hacia|mas o menos)\b\.?", "about"),
        (r"^desde\s+", "since "), (r"^(?:de|del)\s+", "from "), (r"\s+(?:a|al|hasta)\s+", " to "),
        (r"^entre\s+", "between "), (r"\s+y\s+", " and "), (r"^en\s+(?=\d)", ""),
    ],
    "fr": [
        (r"\bjusqu'(?:a|au|en) (?:present|aujourd'hui|ce jour|maintenant)\b", " to now"),
        (r"\b(?:a ce jour|aujourd'hui|maintenant|en cours|actuellement|present)\b", "now"),
        (r"\b(?:environ|env|vers|aux alentours de|autour de|a peu pres|approximativement)\b\.?", "about"),
        (r"^depuis\s+", "since "), (r"^(?:(?:de|du)\s+|d')", "from "), (r"\s+(?:a|au|jusqu'a|jusqu'au|jusqu'en)\s+", " to "),
        (r"^entre\s+", "between "), (r"\s+et\s+", " and "), (r"^en\s+(?=\d)", ""),
    ],
    "ru": [
        (r"\s+(?:по|до)\s+(?:настоящее время|настоящего времени|сей день|сегодняшний день|сих пор)\b", " to now"),
        (r"\b(?:до сих пор|по настоящее время|настоящее время|сейчас|продолжается|наст\. вр\.)", "now"),
        (r"(?:\bоколо|\bпримерно|\bприблизительно|\bок\.|\bгде-то)(?=\s|$)", "about"),
        (r"\s*(?:гг?\.|годы|годах|года|году|год)(?=\s|$|,)", ""),
        (r"^(?:с|со|от)\s+", "since "), (r"\s+(?:по|до)\s+", " to "), (r"^между\s+", "between "),
        (r"\s+и\s+", " and "), (r"^в\s+(?=\d)", ""),
    ],
    "ar": [
        (r"\s*(?:الي|حتي|لغايه)\s+(?:الان|اليوم)\b", " to now"),
        (r"(?:^|\s)(?:الان|للان|مستمر|مستمره|حاليا|حتي الان)(?=\s|$)", " now"),
        (r"(?:^|\s)(?:حوالي|تقريبا|نحو|قرابه|في حدود)(?=\s|$)", " about "),
        (r"(?:^|\s)(?:عام|العام|سنه|في)(?=\s)", " "), (r"(?<=\d)\s*م(?=\s|$)", ""),
        (r"^\s*منذ\s+", "since "), (r"^\s*من\s+", "since "), (r"\s+(?:الي|حتي|لغايه)\s+", " to "),
        (r"^\s*بين\s+", "between "), (r"\s+و\s*(?=\d)", " and "),
    ],
}


@lru_cache(maxsize=1)
def month_names() -> dict[str, int]:
    """Every month name and abbreviation of every supported language, folded → month number."""
    names: dict[str, set[int]] = {}
    for lang in languages.CODES:
        months = Locale.parse(lang).months
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in months[context][width].items():
                    names.setdefault(fold(name), set()).add(number)
    for name, number in (_ARABIC_MONTHS | _RUSSIAN_MONTHS).items():
        names.setdefault(fold(name), set()).add(number)
    # a name that means different months in different languages is no use
    return {name: numbers.pop() for name, numbers in names.items() if len(numbers) == 1 and name}


@lru_cache(maxsize=1)
def _month_pattern() -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in sorted(month_names(), key=len, reverse=True))
    day = r"(?:(?P<d1>\d{1,2})(?:er|º|°)?\s*(?:de\s+|-)?)"
    return re.compile(
        rf"(?<!\w){day}?(?P<m1>{alternatives})\.?(?:\s*(?:de|,|-)\s*|\s+)(?P<y1>\d{{4}})(?!\d)"
        rf"|(?<!\w)(?P<m2>{alternatives})\.?\s+(?P<d2>\d{{1,2}}),?\s+(?P<y2>\d{{4}})(?!\d)"
    )


def _iso(year: str, month: int, day: str | None) -> str:
    return f"{year}-{month:02d}" + (f"-{int(day):02d}" if day else "")


def _months_to_iso(value: str) -> str:
    names = month_names()

    def replace(m: re.Match[str]) -> str:
        if m["m1"]:
            return _iso(m["y1"], names[m["m1"]], m["d1"])
        return _iso(m["y2"], names[m["m2"]], m["d2"])

    return _month_pattern().sub(replace, value)


def _numeric_to_iso(value: str) -> str:
    def full(m: re.Match[str]) -> str:
        a, sep, b, year = int(m[1]), m[2], int(m[3]), m[4]
        if sep == "." or (a > 12 and b <= 12):
            day, month = a, b
        elif b > 12 and a <= 12:  # month/day/year, as in the United States
            day, month = b, a
        else:
            return m[0]  # 05/06/2016 could be either: the parser asks for the year first
        return f"{year}-{month:02d}-{day:02d}"

    value = re.sub(r"(?<![\d.])(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?!\d)", full, value)
    return re.sub(r"(?<![\d.\-/])(\d{1,2})[./](\d{4})(?!\d)", lambda m: f"{m[2]}-{int(m[1]):02d}" if 1 <= int(m[1]) <= 12 else m[0], value)


def canonical(text: str, lang: str | None = None) -> str:
    """`text` with local month names, date orders and range/approximation words in the parser's form.

    Text the rewriting does not recognise is returned folded but otherwise as typed, so the parser
    still gives its own error.
    """
    value = fold(text, keep_punctuation=True)
    value = _months_to_iso(value)
    value = _numeric_to_iso(value)
    code = languages.get(lang).code
    for lang_code in dict.fromkeys((code, *languages.CODES)):
        for pattern, replacement in _PHRASES.get(lang_code, []):
            value = re.sub(pattern, replacement, value)
    value = re.sub(r"\s+", " ", value).strip(" ,")
    if value.startswith("since ") and " to " in value:
        value = "from " + value[len("since "):]
    if value.endswith(" about"):
        value = "about " + value[: -len(" about")]
    return value
