"""Translation: every text a submitter sees goes through a `Translator` (gettext catalogs).

Message ids are the English texts. `intake/locale/<lang>/LC_MESSAGES/intake.po` holds each other
language; `make translations` (run by `make .venv/.installed`, `make run` and `make test`)
compiles them to `intake.mo` with Babel. A catalog whose `.mo` is missing or older than its `.po`
is compiled in memory from the `.po` instead, so a fresh checkout never shows stale text. An
unknown language falls back to English.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from intake import languages

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "intake"
DEFAULT_LANG = languages.DEFAULT


def normalise_lang(code: str | None) -> str:
    """A supported language code for a tag (`es-MX` → `es`); an unsupported or empty tag → English."""
    return languages.match(code) or DEFAULT_LANG


def catalog_paths(lang: str) -> tuple[Path, Path]:
    """The `.po` and `.mo` file of one language."""
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    return folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


def _load(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of `lang`, compiling its `.po` in memory when the `.mo` is missing or stale."""
    po, mo = catalog_paths(lang)
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return gettext.GNUTranslations(fp)
    if po.exists():
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=lang, domain=DOMAIN)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        return gettext.GNUTranslations(buffer)
    return gettext.NullTranslations()


class Translator:
    """Translates message ids into one language. Call it like gettext's `_`."""

    def __init__(self, lang: str = DEFAULT_LANG) -> None:
        self.lang = normalise_lang(lang)
        self.direction = languages.direction(self.lang)
        self._t = gettext.NullTranslations() if self.lang == DEFAULT_LANG else _load(self.lang)

    def __call__(self, message: str, /, **values: object) -> str:
        text = self._t.gettext(message)
        return text.format(**values) if values else text

    def plural(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        text = self._t.ngettext(singular, plural, n)
        return text.format(n=n, **values)


@lru_cache(maxsize=32)
def translator(lang: str | None = None) -> Translator:
    return Translator(normalise_lang(lang))


def N_(message: str) -> str:
    """Marks a message id for extraction without translating it yet."""
    return message
