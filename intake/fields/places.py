"""Places: countries (ISO 3166-1 alpha-2, by code or a name in any supported language) and places at sea.

A place at sea needs no country: the high seas, a coastal state's exclusive economic zone or
territorial waters (named by the state), or coordinates. Its value is a small dict:
`{"kind": "high_seas"}`, `{"kind": "eez", "country": "GH"}`, `{"kind": "territorial_waters",
"country": "GH"}` or `{"kind": "coordinates", "lat": 5.5, "lon": -3.25}`.
"""

from __future__ import annotations

import re
from typing import Any

from intake.fields.core import InvalidAnswer, norm
from intake.i18n import Translator
from intake.localise import countries

# country names and short forms in every language live in intake/localise/countries.py


def country_name(code: str, lang: str = "en") -> str:
    """The country's everyday name in `lang` (CLDR), the code itself when unknown."""
    return countries.country_name(code, lang)


def parse_country(text: str, t: Translator) -> str:
    """An ISO 3166-1 alpha-2 code, from a code or a name in any supported language; an ambiguous
    name ("Congo") is refused with the candidates to choose from."""
    token = text.strip().strip(".")
    try:
        found = countries.parse_country(token, t.lang)
    except countries.UnknownCountry:
        raise InvalidAnswer(
            t("I do not know the country “{text}”. Please give its name or its two-letter code (e.g. NG for Nigeria).", text=token)
        ) from None
    if isinstance(found, list):
        names = countries.candidates_text(found, t.lang)
        raise InvalidAnswer(t("“{text}” could mean several countries ({names}). Which one?", text=token, names=names))
    return found


def parse_countries(text: str, t: Translator) -> list[str]:
    """Several countries, separated by commas, semicolons, slashes, lines or "and" in any language;
    a name with a conjunction in it ("Trinidad y Tobago") is one country."""
    try:
        return [parse_country(text, t)]
    except InvalidAnswer:
        pass
    parts = [p for p in re.split(r"[,;/\n،]+|\s+(?:and|y|et|и|или)\s+|\s+و\s*", text) if p.strip()]
    out: list[str] = []
    for part in parts:
        code = parse_country(part, t)
        if code not in out:
            out.append(code)
    if not out:
        raise InvalidAnswer(t("Please name at least one country."))
    return out


def display_countries(value: Any, t: Translator) -> str:
    codes = value if isinstance(value, list) else [value]
    return ", ".join(f"{country_name(c, t.lang)} ({c})" for c in codes)


# ---- places at sea ---------------------------------------------------------------------------

SEA_EXAMPLES = "high seas; EEZ of Ghana; 5.3 N, 3.2 W"
_HIGH_SEAS = {"high seas", "the high seas", "on the high seas", "open sea", "the open sea", "international waters", "in international waters"}
_ZONES = (
    ("eez", r"(?:eez|exclusive economic zone)"),
    ("territorial_waters", r"(?:territorial\s+(?:waters|sea)|waters)"),
)
_NUM = r"[-+]?\d{1,3}(?:\.\d+)?"
_PART = (
    r"(?P<h1{i}>[NSEW])?\s*(?P<deg{i}>" + _NUM + r")\s*(?:°|º|deg)?\s*"
    r"(?:(?P<min{i}>\d{1,2}(?:\.\d+)?)\s*(?:'|′|’)\s*)?"
    r"(?:(?P<sec{i}>\d{1,2}(?:\.\d+)?)\s*(?:\"|″|''|”)\s*)?(?(h1{i})|(?P<h2{i}>[NSEW])?)"
)
_COORDS = re.compile(r"\s*" + _PART.replace("{i}", "1") + r"\s*(?:[,;/]|\s)\s*" + _PART.replace("{i}", "2") + r"\s*", re.IGNORECASE)


def _sea_error(t: Translator) -> InvalidAnswer:
    return InvalidAnswer(
        t(
            "Please say where at sea: “high seas”, the waters of a country (e.g. “EEZ of Ghana”), "
            "or coordinates (e.g. “5.3 N, 3.2 W”)."
        )
    )


def _component(m: re.Match[str], i: int, t: Translator) -> tuple[float, str | None]:
    """One coordinate in decimal degrees and its hemisphere letter, if one was given."""
    deg, minutes, seconds = m[f"deg{i}"], m[f"min{i}"], m[f"sec{i}"]
    hemis = {h.upper() for h in (m[f"h1{i}"], m[f"h2{i}"]) if h}
    if len(hemis) > 1:
        raise _sea_error(t)
    value = abs(float(deg)) + (float(minutes) / 60 if minutes else 0) + (float(seconds) / 3600 if seconds else 0)
    if (minutes and float(minutes) >= 60) or (seconds and float(seconds) >= 60) or ((minutes or seconds) and "." in deg):
        raise _sea_error(t)
    hemi = hemis.pop() if hemis else None
    if deg.startswith("-"):
        if hemi is not None:
            raise _sea_error(t)
        value = -value
    elif hemi in ("S", "W"):
        value = -value
    return value, hemi


def parse_coordinates(text: str, t: Translator) -> dict[str, Any] | None:
    """`5.3 N, 3.2 W`, `5°18'N 3°12'W`, `-5.3, 12.1` (latitude first unless the letters say otherwise)."""
    m = _COORDS.fullmatch(text)
    if m is None:
        return None
    (a, ha), (b, hb) = _component(m, 1, t), _component(m, 2, t)
    if ha in ("E", "W") or hb in ("N", "S"):
        if ha in ("N", "S") or hb in ("E", "W"):
            raise _sea_error(t)
        (a, ha), (b, hb) = (b, hb), (a, ha)
    if not (-90 <= a <= 90 and -180 <= b <= 180):
        raise InvalidAnswer(t("Latitude goes from 90 S to 90 N and longitude from 180 W to 180 E. Please check, e.g. “5.3 N, 3.2 W”."))
    return {"kind": "coordinates", "lat": round(a, 5), "lon": round(b, 5)}


def parse_sea_area(text: str, t: Translator) -> dict[str, Any]:
    """A place at sea: the high seas, an EEZ or territorial waters named by the coastal state, or coordinates."""
    value = norm(text)
    if value in _HIGH_SEAS:
        return {"kind": "high_seas"}
    coords = parse_coordinates(text.strip(), t)
    if coords is not None:
        return coords
    for kind, zone in _ZONES:
        m = re.fullmatch(r"(?:in\s+)?(?:the\s+)?" + zone + r"\s+(?:of|off)\s+(?:the\s+)?(?P<c>.+)", value) or re.fullmatch(
            r"(?:in\s+)?(?:the\s+)?(?P<c>.+?)(?:'s|’s)?\s+" + zone, value
        )
        if m is not None:
            try:
                return {"kind": kind, "country": parse_country(m["c"], t)}
            except InvalidAnswer as exc:
                raise InvalidAnswer(exc.message + " " + t("At sea, for example: “EEZ of Ghana”, “high seas” or “5.3 N, 3.2 W”.")) from None
    raise _sea_error(t)


def _degrees(value: float, positive: str, negative: str) -> str:
    number = f"{abs(value):.5f}".rstrip("0").rstrip(".")
    return f"{number}° {positive if value >= 0 else negative}"


def display_sea_area(value: Any, t: Translator) -> str:
    if not isinstance(value, dict):
        return str(value)
    kind = value.get("kind")
    if kind == "high_seas":
        return t("High seas")
    if kind == "eez":
        return t("Exclusive economic zone of {country}", country=display_countries(value["country"], t))
    if kind == "territorial_waters":
        return t("Territorial waters of {country}", country=display_countries(value["country"], t))
    if kind == "coordinates":
        return f"{_degrees(value['lat'], 'N', 'S')}, {_degrees(value['lon'], 'E', 'W')}"
    return str(value)


def sea_country(value: Any) -> str | None:
    """The coastal state of a place at sea, if it names one."""
    if isinstance(value, dict) and isinstance(value.get("country"), str):
        return str(value["country"])
    return None
