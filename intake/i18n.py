"""Translation: every text a submitter sees goes through a `Translator` (gettext catalogs).

Message ids are the English texts; `intake/locale/<lang>/LC_MESSAGES/intake.mo` holds the other
languages (none yet). An unknown language falls back to English.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "intake"
DEFAULT_LANG = "en"


def normalise_lang(code: str | None) -> str:
    """`pt-BR` / `pt_br` → `pt-br`; empty → the default language."""
    if not code:
        return DEFAULT_LANG
    return code.strip().replace("_", "-").lower() or DEFAULT_LANG


class Translator:
    """Translates message ids into one language. Call it like gettext's `_`."""

    def __init__(self, lang: str = DEFAULT_LANG) -> None:
        self.lang = normalise_lang(lang)
        base = self.lang.split("-")[0]
        self._t = gettext.translation(
            DOMAIN, localedir=LOCALE_DIR, languages=[self.lang, base], fallback=True
        )

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
