"""Text folding for matching typed answers: digits in any script, case, accents, Arabic letter forms."""

from __future__ import annotations

import re
import unicodedata

# Arabic letter variants people use interchangeably when typing
_ARABIC = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ـ": None, "،": ",", "؛": ";", "؟": "?"})
_SEPARATORS = str.maketrans({"٫": ".", "٬": ",", "\u00a0": " ", "\u202f": " ", "’": "'", "‘": "'", "ʼ": "'"})


def normalise_digits(text: str) -> str:
    """Digits of any script (Arabic-Indic ٠١٢, Persian ۰۱۲, …) as ASCII digits; Arabic separators as `.` and `,`."""
    out = []
    for ch in text.translate(_SEPARATORS):
        if ch.isdecimal() and not ch.isascii():
            out.append(str(unicodedata.decimal(ch)))
        else:
            out.append(ch)
    return "".join(out)


def strip_marks(text: str) -> str:
    """Text without accents and Arabic vowel marks (combining characters), recomposed."""
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def fold(text: str, *, keep_punctuation: bool = False) -> str:
    """A matching key: ASCII digits, case-folded, no accents or tashkeel, one Arabic alef, spaces collapsed.

    Without `keep_punctuation`, every character that is not a letter or digit becomes a space.
    """
    value = strip_marks(normalise_digits(text).casefold()).translate(_ARABIC).replace("ё", "е")
    if not keep_punctuation:
        value = re.sub(r"[^\w]+|_", " ", value)
    return re.sub(r"\s+", " ", value).strip()
