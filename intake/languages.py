"""The languages a submitter can use, as data: every channel reads this list, none keeps its own.

A language is one entry here, one gettext catalog (`intake/locale/<code>/LC_MESSAGES/intake.po`)
and one questionnaire file beside each questionnaire (`default.<code>.yaml`). English is the
source language and the fallback for anything untranslated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from intake.localise.text import strip_marks

DEFAULT = "en"


@dataclass(frozen=True)
class Language:
    """One supported language: its code (ISO 639-1), names, writing direction and answer words."""

    code: str
    english_name: str
    native_name: str
    direction: Literal["ltr", "rtl"]
    yes_words: frozenset[str]
    no_words: frozenset[str]
    none_words: frozenset[str]  # "nothing to report" answers to an optional question
    lingua_name: str  # the name of the language in lingua's `Language` enum

    @property
    def rtl(self) -> bool:
        return self.direction == "rtl"


LANGUAGES: tuple[Language, ...] = (
    Language(
        code="en", english_name="English", native_name="English", direction="ltr",
        yes_words=frozenset({"yes", "y", "yeah", "yep", "true", "1"}),
        no_words=frozenset({"no", "n", "nope", "false", "0"}),
        none_words=frozenset({"none", "n/a", "na", "-", "nothing", "none known", "nothing known"}),
        lingua_name="ENGLISH",
    ),
    Language(
        code="es", english_name="Spanish", native_name="Español", direction="ltr",
        yes_words=frozenset({"sí", "si", "s", "claro", "correcto"}),
        no_words=frozenset({"no", "n"}),
        none_words=frozenset({"ninguno", "ninguna", "nada", "no aplica", "n/a", "ninguno conocido", "-"}),
        lingua_name="SPANISH",
    ),
    Language(
        code="fr", english_name="French", native_name="Français", direction="ltr",
        yes_words=frozenset({"oui", "o", "ouais", "exact"}),
        no_words=frozenset({"non", "n"}),
        none_words=frozenset({"aucun", "aucune", "rien", "néant", "sans objet", "n/a", "-", "aucun connu"}),
        lingua_name="FRENCH",
    ),
    Language(
        code="ru", english_name="Russian", native_name="Русский", direction="ltr",
        yes_words=frozenset({"да", "д", "ага", "верно"}),
        no_words=frozenset({"нет", "н"}),
        none_words=frozenset({"ничего", "никаких", "нет данных", "неизвестно", "-"}),
        lingua_name="RUSSIAN",
    ),
    Language(
        code="ar", english_name="Arabic", native_name="العربية", direction="rtl",
        yes_words=frozenset({"نعم", "ايوه", "أيوه", "أجل", "اجل", "بلى", "صح"}),
        no_words=frozenset({"لا", "كلا"}),
        none_words=frozenset({"لا شيء", "لا يوجد", "لاشيء", "غير معروف", "-"}),
        lingua_name="ARABIC",
    ),
)

BY_CODE: dict[str, Language] = {lang.code: lang for lang in LANGUAGES}
CODES: tuple[str, ...] = tuple(BY_CODE)

# Unicode bidirectional isolates: text inside shows in its own direction whatever surrounds it.
RLI, LRI, FSI, PDI = "\u2067", "\u2066", "\u2068", "\u2069"


def get(code: str | None) -> Language:
    """The language for a code (`es`, `es-MX`, `ES_mx`), else English."""
    return BY_CODE.get(match(code) or DEFAULT, BY_CODE[DEFAULT])


def match(code: str | None) -> str | None:
    """The supported language a tag names (`pt-BR` → None, `fr-CA` → `fr`), or None."""
    if not code:
        return None
    base = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return base if base in BY_CODE else None


def from_header(value: str | None) -> str | None:
    """The first supported language in a `Content-Language` or `Accept-Language` header value.

    `Content-Language: es-MX, en` → `es`; quality values (`fr;q=0.8`) are ordered by weight.
    """
    if not value:
        return None
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(value.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if m := re.search(r"q\s*=\s*([0-9.]+)", params):
            try:
                weight = float(m[1])
            except ValueError:
                weight = 0.0
        weighted.append((-weight, index, tag.strip()))
    for _, _, tag in sorted(weighted):
        if code := match(tag):
            return code
    return None


# The word "language" in each language, for a `LANGUAGE: es` line in an email or form.
LANGUAGE_WORDS = ("language", "lang", "idioma", "lengua", "langue", "язык", "اللغة", "لغة")
_LANGUAGE_LINE = re.compile(
    rf"^\s*(?:{'|'.join(LANGUAGE_WORDS)})\s*[:：]\s*(?P<value>[^\n]+?)\s*$", re.IGNORECASE | re.MULTILINE
)


def from_name(value: str | None) -> str | None:
    """The language a code or a name means, in English or in itself: `es`, `Spanish`, `español`, `العربية`."""
    if not value:
        return None
    folded = _fold(value)
    for lang in LANGUAGES:
        if folded in (lang.code, _fold(lang.english_name), _fold(lang.native_name)):
            return lang.code
    return match(folded) if re.fullmatch(r"[a-z]{2}(?:[-_][a-z0-9]+)*", folded) else None


def from_language_line(text: str | None) -> str | None:
    """The language asked for by a `LANGUAGE: es` / `Idioma: español` / `اللغة: العربية` line in a text."""
    if not text:
        return None
    for m in _LANGUAGE_LINE.finditer(text):
        if code := from_name(m["value"]):
            return code
    return None


def choose(*, explicit: str | None = None, stored: str | None = None, hint: str | None = None, text: str | None = None) -> str:
    """The language to talk in, from the strongest signal down.

    `explicit`: what the submitter chose (`/language`, a `LANGUAGE:` line, `intake chat --lang`);
    `stored`: the case's or submitter's language; `hint`: Telegram's `language_code` or an email's
    `Content-Language`; `text`: a body to detect the language of. English when nothing fits.
    """
    for candidate in (explicit, stored):
        if code := from_name(candidate):
            return code
    if code := from_header(hint):
        return code
    if text:
        from intake.localise.detect import detect_language  # loads lingua's models only when needed

        if code := detect_language(text):
            return code
    return DEFAULT


def _fold(word: str) -> str:
    return strip_marks(word.strip().strip(".!¡¿?؟").casefold())


def yes_no(word: str, lang: str | None = None) -> bool | None:
    """True for a yes word, False for a no word, in `lang` first and then in any language; else None."""
    folded = _fold(word)
    first = get(lang)
    for language in (first, *LANGUAGES):
        if folded in _with_unaccented(language.yes_words):
            return True
        if folded in _with_unaccented(language.no_words):
            return False
    return None


def is_none_word(word: str, lang: str | None = None) -> bool:
    """Whether the answer means "none" in `lang` or in any language."""
    folded = _fold(word)
    return folded in all_none_words()


def _with_unaccented(words: frozenset[str]) -> frozenset[str]:
    return words | {strip_marks(w) for w in words}


def all_yes_words() -> frozenset[str]:
    """Every language's yes words, also without accents ("si" for "sí")."""
    return _with_unaccented(frozenset().union(*(lang.yes_words for lang in LANGUAGES)))


def all_no_words() -> frozenset[str]:
    return _with_unaccented(frozenset().union(*(lang.no_words for lang in LANGUAGES)))


def all_none_words() -> frozenset[str]:
    return _with_unaccented(frozenset().union(*(lang.none_words for lang in LANGUAGES)))


def isolate(text: str, lang: str | None) -> str:
    """`text` wrapped in a right-to-left isolate for an RTL language, unchanged otherwise.

    Telegram and mail clients pick a paragraph's direction from its first strong character; an
    Arabic message that starts with a reference like `MI-2026-0001` would otherwise show left-to-right.
    """
    if not get(lang).rtl or not text:
        return text
    return "\n".join(f"{RLI}{line}{PDI}" if line.strip() else line for line in text.split("\n"))


def direction(lang: str | None) -> Literal["ltr", "rtl"]:
    """`rtl` or `ltr`, for an HTML `dir` attribute."""
    return get(lang).direction
