"""Parsing raw answers into typed, normalised values, and showing them again.

Every channel's input (a Telegram text or button, an email form line, the terminal, a staff edit)
goes through `parse`, which looks the question's type up in the registry (`registry.REGISTRY`).
Errors are `InvalidAnswer` with a text a person understands, already in the submitter's
language, showing an answer that would be accepted.
"""

from intake.fields.core import (
    LONG_TEXT_MAX,
    NO_WORDS,
    NONE_WORDS,
    NUMBER_MAX,
    TEXT_MAX,
    YES_WORDS,
    InvalidAnswer,
    is_none_word,
    parse_email,
    parse_multi,
    parse_number,
    parse_percent,
    parse_single,
    parse_text,
    parse_url,
    parse_yes_no,
)
from intake.fields.dates import YEAR_MAX, YEAR_MIN, display_date, parse_date, parse_date_range
from intake.fields.places import country_name, parse_coordinates, parse_countries, parse_country, parse_sea_area, sea_country
from intake.fields.registry import REGISTRY, FieldKind, Keyboard, display, example, hint, keyboard, kind_of, parse

__all__ = [
    "LONG_TEXT_MAX", "NONE_WORDS", "NO_WORDS", "NUMBER_MAX", "REGISTRY", "TEXT_MAX", "YEAR_MAX", "YEAR_MIN", "YES_WORDS",
    "FieldKind", "InvalidAnswer", "Keyboard",
    "country_name", "display", "display_date", "example", "hint", "is_none_word", "keyboard", "kind_of", "parse",
    "parse_coordinates", "parse_countries", "parse_country", "parse_date", "parse_date_range", "parse_email", "parse_multi",
    "parse_number", "parse_percent", "parse_sea_area", "parse_single", "parse_text", "parse_url", "parse_yes_no", "sea_country",
]
