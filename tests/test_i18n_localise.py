"""Answers typed in Spanish, French, Russian and Arabic: countries, dates, digits, yes/no, choices,
language detection, and a whole questionnaire typed in each language giving the English answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from intake import engine, languages
from intake.fields import InvalidAnswer, parse
from intake.localise.countries import UnknownCountry, candidates_text, country_name, parse_country
from intake.localise.dates import canonical
from intake.localise.detect import detect_language
from intake.localise.text import fold, normalise_digits
from intake.questionnaire import DEFAULT_PATH, FieldType, QuestionnaireError
from intake.questionnaire_i18n import load_translated, with_translations

Q = load_translated(DEFAULT_PATH)
QS = Q.questions()


@pytest.mark.parametrize(
    ("text", "lang", "code"),
    [
        ("Tailandia", "es", "TH"), ("Таиланд", "ru", "TH"), ("تايلاند", "ar", "TH"), ("Thaïlande", "fr", "TH"),
        ("thailande", "fr", "TH"), ("Indonésie", "fr", "ID"), ("لبنان", "ar", "LB"), ("le Liban", "fr", "LB"),
        ("Líbano", "es", "LB"), ("USA", "en", "US"), ("EE. UU.", "es", "US"), ("США", "ru", "US"),
        ("أمريكا", "ar", "US"), ("PRC", "en", "CN"), ("КНР", "ru", "CN"), ("DRC", "en", "CD"), ("RDC", "fr", "CD"),
        ("ДРК", "ru", "CD"), ("UK", "en", "GB"), ("Reino Unido", "es", "GB"), ("Великобритания", "ru", "GB"),
        ("المملكة المتحدة", "ar", "GB"), ("ОАЭ", "ru", "AE"), ("الإمارات", "ar", "AE"), ("السعودية", "ar", "SA"),
        ("Côte d’Ivoire", "fr", "CI"), ("Costa de Marfil", "es", "CI"), ("Россия", "ru", "RU"),
        ("Thailand", "ar", "TH"), ("ng", "ru", "NG"), ("NGA", "ar", "NG"), ("Guinea (GN)", "es", "GN"),
    ],
)
def test_country_names_in_every_language(text: str, lang: str, code: str) -> None:
    assert parse_country(text, lang) == code


@pytest.mark.parametrize(
    ("text", "lang", "codes"),
    [
        ("Congo", "en", ["CD", "CG"]), ("Конго", "ru", ["CD", "CG"]), ("الكونغو", "ar", ["CD", "CG"]),
        ("Korea", "en", ["KP", "KR"]), ("Corée", "fr", ["KP", "KR"]), ("Guinea", "es", ["GN", "GQ", "GW"]),
        ("Guinée", "fr", ["GN", "GQ", "GW"]), ("Sudan", "en", ["SD", "SS"]), ("السودان", "ar", ["SD", "SS"]),
    ],
)
def test_ambiguous_names_give_a_choice(text: str, lang: str, codes: list[str]) -> None:
    assert parse_country(text, lang) == codes
    shown = candidates_text(codes, lang)
    for part in shown.split("; "):  # every candidate as shown can be typed back
        assert parse_country(part, lang) in codes


def test_unknown_country() -> None:
    with pytest.raises(UnknownCountry):
        parse_country("Атлантида", "ru")
    with pytest.raises(UnknownCountry):
        parse_country("  ", "es")


def test_country_names_shown_in_the_language() -> None:
    assert country_name("TH", "es") == "Tailandia"
    assert country_name("TH", "ar") == "تايلاند"
    assert country_name("DE", "ru") == "Германия"
    assert country_name("CD", "fr").startswith("République démocratique du Congo")


def test_digits_and_folding() -> None:
    assert normalise_digits("١٢٣٤") == "1234"
    assert normalise_digits("۱۲۳") == "123"
    assert normalise_digits("٣٫٥") == "3.5"
    assert fold("Thaïlande") == "thailande"
    assert fold("أمريكا") == fold("امريكا")
    assert fold("Ёлка") == "елка"


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("15 de junio de 2016", "es", "2016-06-15"), ("junio de 2016", "es", "2016-06"), ("15.06.2016", "ru", "2016-06-15"),
        ("15/06/2016", "fr", "2016-06-15"), ("06/15/2016", "en", "2016-06-15"), ("05/06/2016", "fr", "05/06/2016"),
        ("15 июня 2016 г.", "ru", "2016-06-15"), ("в июне 2016 года", "ru", "2016-06"), ("1er juin 2016", "fr", "2016-06-01"),
        ("١٥ يونيو ٢٠١٦", "ar", "2016-06-15"), ("15 حزيران 2016", "ar", "2016-06-15"), ("جوان 2016", "ar", "2016-06"),
        ("с 2019 по настоящее время", "ru", "from 2019 to now"), ("de 2019 à 2021", "fr", "from 2019 to 2021"),
        ("desde 2020", "es", "since 2020"), ("من 2019 إلى 2021", "ar", "from 2019 to 2021"), ("2019 تقريبا", "ar", "about 2019"),
        ("около 2019", "ru", "about 2019"), ("environ 2019", "fr", "about 2019"), ("March 2021", "en", "2021-03"),
    ],
)
def test_local_dates(text: str, lang: str, expected: str) -> None:
    assert canonical(text, lang) == expected


def test_fields_read_local_answers() -> None:
    assert parse(QS["org_country"], "Tailandia", "es") == "TH"
    assert parse(QS["perp_nationality"], "Таиланд и Лаос", "ru") == ["TH", "LA"]
    assert parse(QS["perp_nationality"], "تايلاند ولاوس", "ar") == ["TH", "LA"]
    assert parse(QS["perp_nationality"], "Trinidad y Tobago", "es") == ["TT"]
    assert parse(QS["perp_dob"], "15 de junio de 1970", "es") == {"date": "1970-06-15", "approx": False}
    assert parse(QS["perp_dob"], "около 1970", "ru") == {"date": "1970", "approx": True}
    assert parse(QS["abuse_dates"], "с 2019 по настоящее время", "ru")["ongoing"] is True
    assert parse(QS["victims_count"], "١٢", "ar") == 12
    assert parse(QS["immediate_danger"], "Sí", "es") is True
    assert parse(QS["immediate_danger"], "لا", "ar") is False
    assert parse(QS["org_attribution"], "Seulement si nécessaire", "fr") == "only_if_necessary"
    assert parse(QS["org_attribution"], "Only if necessary", "fr") == "only_if_necessary"  # English still accepted
    assert parse(QS["org_attribution"], "seulement si necessaire", "fr") == "only_if_necessary"  # accents optional
    assert parse(QS["org_attribution"], "si", "es") == "yes"
    assert parse(QS["immediate_danger"], "si", "es") is True
    with pytest.raises(InvalidAnswer, match="несколько стран"):
        parse(QS["org_country"], "Конго", "ru")
    with pytest.raises(InvalidAnswer, match="Seulement si nécessaire"):
        parse(QS["org_attribution"], "peut-être", "fr")  # the error lists the options in the submitter's language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Hola, quiero denunciar un caso de trabajo forzoso en una finca.", "es"),
        ("Bonjour, nous voulons signaler un cas de traite des êtres humains.", "fr"),
        ("Здравствуйте, мы хотим сообщить о случае торговли людьми.", "ru"),
        ("مرحبا، نريد الإبلاغ عن حالة اتجار بالبشر في مصنع.", "ar"),
        ("Hello, we would like to report a case of forced labour.", "en"),
        ("Los trabajadores no recibieron su salario", "es"),
        ("Les travailleurs ne pouvaient pas partir", "fr"),
    ],
)
def test_detect_language(text: str, code: str) -> None:
    assert detect_language(text) == code


def test_detect_language_refuses_to_guess_on_little_text() -> None:
    assert detect_language("ok") is None
    assert detect_language("MI-2026-0001") is None


def test_language_tags_and_words() -> None:
    assert languages.match("es-MX") == "es" and languages.match("pt-BR") is None and languages.match(None) is None
    assert languages.from_header("fr-CA, en;q=0.5") == "fr"
    assert languages.from_header("de, ar;q=0.9, en;q=0.8") == "ar"
    assert languages.from_header("de") is None
    assert languages.yes_no("Sí", "es") is True and languages.yes_no("нет") is False and languages.yes_no("maybe") is None
    assert languages.is_none_word("ninguno", "es") and languages.is_none_word("aucun")
    assert languages.isolate("MI-1 قضية", "ar") == "\u2067MI-1 قضية\u2069"
    assert languages.isolate("MI-1 case", "en") == "MI-1 case"
    assert languages.direction("ar") == "rtl" and languages.direction("xx") == "ltr"


def test_choosing_the_language() -> None:
    assert languages.from_name("Español") == "es" and languages.from_name("arabic") == "ar" and languages.from_name("ru-RU") == "ru"
    assert languages.from_name("Klingon") is None
    assert languages.from_language_line("Hola\nIdioma: español\n") == "es"
    assert languages.from_language_line("LANGUAGE: fr") == "fr"
    assert languages.from_language_line("اللغة: العربية") == "ar"
    assert languages.from_language_line("Language of the victims: Thai") is None
    assert languages.choose(explicit="ru", stored="es", hint="fr") == "ru"
    assert languages.choose(stored="es", hint="fr") == "es"
    assert languages.choose(hint="fr-CA, en;q=0.5", text="Hello there, this is a case") == "fr"
    assert languages.choose(hint="pt-BR", text="Здравствуйте, мы хотим сообщить о случае") == "ru"
    assert languages.choose(hint="pt-BR") == "en"


def test_stale_translation_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "default.yaml"
    source.write_text(DEFAULT_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "default.es.yaml").write_text("lang: es\nitems:\n  no_such_question:\n    text: Hola\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="no_such_question"):
        load_translated(source)
    (tmp_path / "default.es.yaml").write_text("lang: es\nitems:\n  org_attribution:\n    options: {maybe: Quizás}\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="options.maybe"):
        load_translated(source)
    (tmp_path / "default.es.yaml").unlink()
    assert with_translations(load_translated(source), source).languages == ["en"]


# ---- a whole questionnaire typed in each language -----------------------------------------------

YES = {"en": "yes", "es": "sí", "fr": "oui", "ru": "да", "ar": "نعم"}
NO = {"en": "no", "es": "no", "fr": "non", "ru": "нет", "ar": "لا"}
COUNTRY = {"en": "Thailand", "es": "Tailandia", "fr": "Thaïlande", "ru": "Таиланд", "ar": "تايلاند"}
COUNTRIES = {"en": "Thailand and Laos", "es": "Tailandia y Laos", "fr": "Thaïlande et Laos", "ru": "Таиланд и Лаос", "ar": "تايلاند ولاوس"}
DATE = {"en": "2016-06-15", "es": "15 de junio de 2016", "fr": "15 juin 2016", "ru": "15.06.2016", "ar": "١٥ يونيو ٢٠١٦"}
RANGE = {
    "en": "2019-05 to now", "es": "de mayo de 2019 hasta ahora", "fr": "de mai 2019 à aujourd’hui",
    "ru": "с мая 2019 по настоящее время", "ar": "من مايو 2019 حتى الآن",
}
NUMBER = {"en": "12", "es": "12", "fr": "12", "ru": "12", "ar": "١٢"}


def _typed(prompt: engine.Prompt, lang: str) -> engine.Action:
    """What a submitter would type in `lang`: words, names and dates, never a button."""
    if prompt.kind == "add":
        return engine.Answer(NO[lang])
    if prompt.kind == "details":  # add the details now: every question is asked
        return engine.Answer(YES[lang])
    question = QS[prompt.question_id or ""]
    match question.type:
        case FieldType.YES_NO:
            return engine.Answer(NO[lang] if question.id == "immediate_danger" else YES[lang])
        case FieldType.SINGLE_CHOICE:  # the first option: a person, so their dates and countries are asked
            return engine.Answer(question.options[0].text.get(lang))
        case FieldType.MULTI_CHOICE:
            texts = [o.text.get(lang) for o in question.options[:2]]
            return engine.Answer("; ".join(texts) if not any("," in x for x in texts) else "1, 2")
        case FieldType.COUNTRY:
            return engine.Answer(COUNTRIES[lang] if question.multiple else COUNTRY[lang])
        case FieldType.DATE:
            return engine.Answer(RANGE[lang] if question.range else DATE[lang])
        case FieldType.NUMBER:
            return engine.Answer(NUMBER[lang])
        case FieldType.FILES:
            return engine.Command("skip")
        case FieldType.EMAIL:
            return engine.Answer("contact@example.org")
        case FieldType.URL:
            return engine.Answer("https://example.org/report")
    return engine.Answer(f"Texto, текст, نص {question.id}")


def _run(lang: str) -> dict[str, Any]:
    draft = engine.start(lang)
    for _ in range(400):
        prompt = engine.next_prompt(Q, draft)
        if prompt.kind == "review":
            assert not engine.missing(Q, draft)
            return draft.answers
        outcome = engine.apply(Q, draft, _typed(prompt, lang))
        assert outcome.ok, f"{lang}: {prompt.question_id}: {outcome.error}"
        draft = outcome.draft
    raise AssertionError("the questionnaire never ended")


@pytest.mark.parametrize("lang", ["es", "fr", "ru", "ar"])
def test_whole_questionnaire_typed_in_each_language_equals_english(lang: str) -> None:
    english = _run("en")
    assert english["org_country"] == "TH" and english["abuse_dates"]["ongoing"] is True
    perpetrator = english["perpetrators"][0]
    assert perpetrator["perp_kind"] == "person" and perpetrator["perp_dob"] == {"date": "2016-06-15", "approx": False}
    assert perpetrator["perp_nationality"] == ["TH", "LA"]
    assert _run(lang) == english
