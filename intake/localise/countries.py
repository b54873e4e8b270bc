"""Country names in every supported language → ISO 3166-1 alpha-2 codes, and codes → names.

Names come from CLDR (through Babel) and from pycountry's ISO 3166 translations, plus the short
forms people type ("USA", "PRC", "DRC", "КНР", "ОАЭ", "EE.UU.", "الإمارات"). A name that fits
several countries ("Congo", "Korea", "Guinea", "Sudan") gives the candidates, never a guess.
"""

from __future__ import annotations

import gettext
import re
from collections import defaultdict
from functools import lru_cache

import pycountry
from babel import Locale

from intake import languages
from intake.localise.text import fold

# Typed short forms and older or everyday names, per language (the first language tried is the case's).
ALIASES: dict[str, dict[str, str]] = {
    "en": {
        "usa": "US", "u.s.": "US", "u.s.a.": "US", "us": "US", "america": "US", "united states of america": "US",
        "the united states": "US", "the us": "US", "uk": "GB", "u.k.": "GB", "britain": "GB", "great britain": "GB",
        "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB", "prc": "CN",
        "people's republic of china": "CN", "mainland china": "CN", "drc": "CD", "dr congo": "CD",
        "democratic republic of congo": "CD", "republic of congo": "CG", "uae": "AE", "emirates": "AE",
        "ksa": "SA", "russia": "RU", "iran": "IR", "syria": "SY", "vietnam": "VN", "laos": "LA",
        "south korea": "KR", "rok": "KR", "north korea": "KP", "dprk": "KP", "moldova": "MD", "tanzania": "TZ",
        "bolivia": "BO", "venezuela": "VE", "taiwan": "TW", "czech republic": "CZ", "ivory coast": "CI",
        "cote d'ivoire": "CI", "burma": "MM", "holland": "NL", "the netherlands": "NL", "palestine": "PS",
        "macedonia": "MK", "turkey": "TR", "türkiye": "TR", "cape verde": "CV", "swaziland": "SZ",
        "east timor": "TL", "vatican": "VA", "brunei": "BN", "micronesia": "FM", "the gambia": "GM",
        "the philippines": "PH", "bosnia": "BA", "car": "CF", "png": "PG",
    },
    "es": {
        "ee.uu.": "US", "ee. uu.": "US", "eeuu": "US", "eua": "US", "usa": "US", "estados unidos de america": "US",
        "norteamerica": "US", "gran bretaña": "GB", "inglaterra": "GB", "escocia": "GB", "rpc": "CN",
        "republica popular china": "CN", "rdc": "CD", "rd congo": "CD", "republica democratica del congo": "CD",
        "republica del congo": "CG", "eau": "AE", "emiratos": "AE", "arabia saudita": "SA", "birmania": "MM",
        "holanda": "NL", "palestina": "PS", "costa de marfil": "CI", "turquia": "TR", "cabo verde": "CV",
        "suazilandia": "SZ", "timor oriental": "TL", "vaticano": "VA", "republica checa": "CZ",
        "macedonia": "MK", "iran": "IR", "siria": "SY", "corea del sur": "KR", "corea del norte": "KP",
        "rusia": "RU", "moldavia": "MD", "bielorrusia": "BY",
    },
    "fr": {
        "usa": "US", "é.-u.": "US", "e.-u.": "US", "eua": "US", "etats-unis d'amerique": "US", "amerique": "US",
        "r.-u.": "GB", "grande-bretagne": "GB", "angleterre": "GB", "ecosse": "GB", "rpc": "CN",
        "republique populaire de chine": "CN", "rdc": "CD", "rd congo": "CD", "republique democratique du congo": "CD",
        "republique du congo": "CG", "eau": "AE", "emirats": "AE", "birmanie": "MM", "hollande": "NL",
        "palestine": "PS", "cote d'ivoire": "CI", "turquie": "TR", "cap-vert": "CV", "swaziland": "SZ",
        "timor oriental": "TL", "vatican": "VA", "republique tcheque": "CZ", "macedoine": "MK",
        "coree du sud": "KR", "coree du nord": "KP", "russie": "RU", "syrie": "SY", "iran": "IR",
        "bielorussie": "BY",
    },
    "ru": {
        "сша": "US", "соединенные штаты америки": "US", "америка": "US", "штаты": "US", "британия": "GB",
        "англия": "GB", "шотландия": "GB", "соединенное королевство": "GB", "рф": "RU", "российская федерация": "RU",
        "россия": "RU", "кнр": "CN", "китайская народная республика": "CN", "дрк": "CD",
        "демократическая республика конго": "CD", "республика конго": "CG", "оаэ": "AE", "эмираты": "AE",
        "южная корея": "KR", "северная корея": "KP", "кндр": "KP", "бирма": "MM", "голландия": "NL",
        "палестина": "PS", "кот дивуар": "CI", "берег слоновой кости": "CI", "турция": "TR", "свазиленд": "SZ",
        "восточный тимор": "TL", "ватикан": "VA", "чехия": "CZ", "македония": "MK", "молдавия": "MD",
        "белоруссия": "BY", "киргизия": "KG", "туркмения": "TM", "саудовская аравия": "SA",
    },
    "ar": {
        "امريكا": "US", "الولايات المتحدة الامريكيه": "US", "الولايات المتحده": "US", "بريطانيا": "GB",
        "انجلترا": "GB", "انكلترا": "GB", "اسكتلندا": "GB", "روسيا الاتحاديه": "RU", "جمهوريه الصين الشعبيه": "CN",
        "الصين الشعبيه": "CN", "جمهوريه الكونغو الديمقراطيه": "CD", "الكونغو الديمقراطيه": "CD",
        "جمهوريه الكونغو": "CG", "الامارات": "AE", "السعوديه": "SA", "كوريا الجنوبيه": "KR",
        "كوريا الشماليه": "KP", "بورما": "MM", "فلسطين": "PS", "كوت ديفوار": "CI", "تركيا": "TR",
        "الراس الاخضر": "CV", "سوازيلاند": "SZ", "تيمور الشرقيه": "TL", "الفاتيكان": "VA", "التشيك": "CZ",
        "مقدونيا": "MK", "سوريا": "SY", "سوريه": "SY", "ايران": "IR", "ليبيا": "LY", "موريتانيا": "MR",
    },
}

# Names that fit several countries: the submitter is asked which one.
_CONGO, _KOREA, _GUINEA, _SUDAN, _VIRGIN = ("CD", "CG"), ("KR", "KP"), ("GN", "GW", "GQ"), ("SD", "SS"), ("VG", "VI")
AMBIGUOUS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {"congo": _CONGO, "korea": _KOREA, "guinea": _GUINEA, "sudan": _SUDAN, "virgin islands": _VIRGIN},
    "es": {"congo": _CONGO, "corea": _KOREA, "guinea": _GUINEA, "sudan": _SUDAN, "islas virgenes": _VIRGIN},
    "fr": {"congo": _CONGO, "coree": _KOREA, "guinee": _GUINEA, "soudan": _SUDAN, "iles vierges": _VIRGIN},
    "ru": {"конго": _CONGO, "корея": _KOREA, "гвинея": _GUINEA, "судан": _SUDAN, "виргинские острова": _VIRGIN},
    "ar": {"الكونغو": _CONGO, "كونغو": _CONGO, "كوريا": _KOREA, "غينيا": _GUINEA, "السودان": _SUDAN,
           "سودان": _SUDAN, "جزر العذراء": _VIRGIN},
}

# Clearer names than CLDR's "Congo - Kinshasa" for the candidates shown to a submitter.
DISPLAY: dict[str, dict[str, str]] = {
    "en": {"CD": "Democratic Republic of the Congo (Kinshasa)", "CG": "Republic of the Congo (Brazzaville)"},
    "es": {"CD": "República Democrática del Congo (Kinsasa)", "CG": "República del Congo (Brazzaville)"},
    "fr": {"CD": "République démocratique du Congo (Kinshasa)", "CG": "République du Congo (Brazzaville)"},
    "ru": {"CD": "Демократическая Республика Конго (Киншаса)", "CG": "Республика Конго (Браззавиль)"},
    "ar": {"CD": "جمهورية الكونغو الديمقراطية (كينشاسا)", "CG": "جمهورية الكونغو (برازافيل)"},
}

_ARTICLES = re.compile(r"^(?:the|el|la|los|las|le|les|l|al)\s+")
_CODE_IN_PARENS = re.compile(r"^(.*?)\s*\(\s*([A-Za-z]{2})\s*\)\s*$")


class UnknownCountry(LookupError):
    """No country goes by that name in any supported language."""


def _codes() -> list[str]:
    return sorted(str(c.alpha_2) for c in pycountry.countries)


@lru_cache(maxsize=1)
def _index() -> dict[str, dict[str, frozenset[str]]]:
    """Folded name → codes, per language; built once from CLDR, pycountry and the aliases above."""
    codes = _codes()
    by_lang: dict[str, dict[str, set[str]]] = {}
    for lang in languages.CODES:
        names: dict[str, set[str]] = defaultdict(set)

        def add(name: str, code: str, names: dict[str, set[str]] = names) -> None:
            key = fold(name)
            if key:
                names[key].add(code)
                if key.startswith("ال") and len(key) > 4:  # Arabic: "السودان" is also typed "سودان"
                    names[key[2:]].add(code)

        territories = Locale.parse(lang).territories
        iso = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
        for code in codes:
            country = pycountry.countries.get(alpha_2=code)
            if code in territories:
                add(territories[code], code)
            for attr in ("name", "official_name", "common_name"):
                if value := getattr(country, attr, None):
                    add(iso.gettext(str(value)), code)
        for alias, code in ALIASES.get(lang, {}).items():
            add(alias, code)
        for code, name in DISPLAY.get(lang, {}).items():
            add(name, code)
        by_lang[lang] = names
    return {lang: {k: frozenset(v) for k, v in names.items()} for lang, names in by_lang.items()}


def _order(lang: str | None) -> list[str]:
    first = languages.get(lang).code
    return [first, *(code for code in languages.CODES if code != first)]


def _exact(key: str, order: list[str]) -> frozenset[str] | None:
    index = _index()
    for lang in order:
        if key in AMBIGUOUS.get(lang, {}):
            return frozenset(AMBIGUOUS[lang][key])
    for lang in order:
        if key in index[lang]:
            return index[lang][key]
    return None


def _partial(key: str, order: list[str]) -> frozenset[str] | None:
    """Codes whose name contains `key` as whole words, in the first language that has any (at most six)."""
    if len(key) < 4:
        return None
    padded = f" {key} "
    for lang in order:
        found = {code for name, codes in _index()[lang].items() if padded in f" {name} " for code in codes}
        if found:
            return frozenset(found) if len(found) <= 6 else None
    return None


def parse_country(text: str, lang: str | None = None) -> str | list[str]:
    """An ISO 3166-1 alpha-2 code for a country name, short form or code typed in any supported language.

    Returns a sorted list of candidate codes when the name fits several countries ("Congo"),
    and raises UnknownCountry when it fits none.
    """
    raw = text.strip()
    if m := _CODE_IN_PARENS.match(raw):  # "Sudan (SD)", as the candidates are shown
        if pycountry.countries.get(alpha_2=m[2].upper()) is not None:
            return m[2].upper()
        raw = m[1]
    key = fold(raw)
    if not key:
        raise UnknownCountry(text)
    order = _order(lang)
    if len(key) == 2 and key.isascii() and key.isalpha():
        if country := pycountry.countries.get(alpha_2=key.upper()):
            return str(country.alpha_2)
    if len(key) == 3 and key.isascii() and key.isalpha():
        if country := pycountry.countries.get(alpha_3=key.upper()):
            return str(country.alpha_2)
    for candidate in (key, _ARTICLES.sub("", key)):
        found = _exact(candidate, order) or _partial(candidate, order)
        if found:
            return next(iter(found)) if len(found) == 1 else sorted(found)
    raise UnknownCountry(text)


def country_name(code: str, lang: str | None = None) -> str:
    """The country's everyday name in `lang` (CLDR), else its English ISO name, else the code."""
    lang_code = languages.get(lang).code
    if name := DISPLAY.get(lang_code, {}).get(code):
        return name
    territories = Locale.parse(lang_code).territories
    if code in territories:
        return str(territories[code])
    country = pycountry.countries.get(alpha_2=code)
    return str(getattr(country, "common_name", None) or country.name) if country else code


def candidates_text(codes: list[str], lang: str | None = None) -> str:
    """The candidates as the submitter sees them: `Name (CODE)`, joined, each typeable as an answer."""
    return "; ".join(f"{country_name(code, lang)} ({code})" for code in codes)
