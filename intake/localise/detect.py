"""The language of a text (an email body), among the supported languages only, with lingua."""

from __future__ import annotations

from functools import lru_cache

from lingua import Language as LinguaLanguage
from lingua import LanguageDetector, LanguageDetectorBuilder

from intake import languages

MIN_LETTERS = 12  # below this a guess is noise: "ok", "hi", a reference number
MIN_RELATIVE_DISTANCE = 0.05  # lingua answers None when the top two languages are closer than this


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    """A lingua detector restricted to our languages; its models load on first use, once per process."""
    wanted = [getattr(LinguaLanguage, lang.lingua_name) for lang in languages.LANGUAGES]
    return LanguageDetectorBuilder.from_languages(*wanted).with_minimum_relative_distance(MIN_RELATIVE_DISTANCE).build()


@lru_cache(maxsize=1)
def _codes() -> dict[LinguaLanguage, str]:
    return {getattr(LinguaLanguage, lang.lingua_name): lang.code for lang in languages.LANGUAGES}


def detect_language(text: str) -> str | None:
    """The supported language `text` is written in (`es`, `ar`, …), or None when too short or unclear."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None
    found = _detector().detect_language_of(text)
    return _codes().get(found) if found is not None else None
