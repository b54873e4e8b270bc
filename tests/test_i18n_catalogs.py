"""Every text a submitter sees exists in every supported language: gettext catalogs and questionnaire.

For each message id of `intake/locale/intake.pot` and each questionnaire text: every language has
a translation, it is not empty, not fuzzy, not still the English text (bar the short list of
exceptions below), and it keeps exactly the same `{placeholders}`.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from intake import i18n, languages
from intake.questionnaire import DEFAULT_PATH, Group, Question, Questionnaire, Text
from intake.questionnaire_i18n import load_translated

POT = i18n.LOCALE_DIR / "intake.pot"
TRANSLATED = [code for code in languages.CODES if code != languages.DEFAULT]
PLACEHOLDER = re.compile(r"\{[^{}]*\}")

# Texts that are correctly the same as the English: words the language shares, and names.
SAME_AS_ENGLISH: dict[str, set[str]] = {
    "es": {"No", "no", "Australia"},
    "fr": {"Canada"},
    "ru": set(),
    "ar": set(),
}


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def _only_symbols(text: str) -> bool:
    """A text with no words once placeholders are removed ("✎ {n}. {title}") needs no translation."""
    return not any(ch.isalpha() for ch in PLACEHOLDER.sub("", text))


def _catalog(lang: str) -> Catalog:
    po, _ = i18n.catalog_paths(lang)
    with po.open("rb") as fp:
        return read_po(fp, locale=lang, domain=i18n.DOMAIN)


def _template() -> Catalog:
    with POT.open("rb") as fp:
        return read_po(fp)


def _problems(lang: str, english: str, translated: str, where: str) -> list[str]:
    out = []
    if not translated.strip():
        out.append(f"{lang}: {where}: empty translation of {english!r}")
    elif translated == english and not _only_symbols(english) and english not in SAME_AS_ENGLISH[lang]:
        out.append(f"{lang}: {where}: still English: {english!r}")
    if translated.strip() and _placeholders(translated) != _placeholders(english):
        out.append(f"{lang}: {where}: placeholders {_placeholders(translated)} differ from {_placeholders(english)} in {english!r}")
    return out


def test_languages_are_data() -> None:
    assert languages.CODES == ("en", "es", "fr", "ru", "ar")
    assert [lang.code for lang in languages.LANGUAGES if lang.rtl] == ["ar"]
    for lang in languages.LANGUAGES:
        assert lang.native_name and lang.english_name and lang.yes_words and lang.no_words
        assert not lang.yes_words & lang.no_words


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_translated(lang: str) -> None:
    catalog = _catalog(lang)
    problems: list[str] = []
    for message in _template():
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        found = catalog.get(key)
        if found is None or not found.string:
            problems.append(f"{lang}: missing translation of {key!r} (run `make messages`, then translate)")
            continue
        if found.fuzzy:
            problems.append(f"{lang}: fuzzy translation of {key!r}")
        if isinstance(message.id, tuple):
            forms = found.string if isinstance(found.string, tuple) else (found.string,)
            if len(forms) != catalog.num_plurals:
                problems.append(f"{lang}: {key!r} needs {catalog.num_plurals} plural forms")
            allowed = set(_placeholders(message.id[0])) | set(_placeholders(message.id[1]))
            for form in forms:
                if not form.strip():
                    problems.append(f"{lang}: an empty plural form of {key!r}")
                if not set(_placeholders(form)) <= allowed:
                    problems.append(f"{lang}: unknown placeholder in {form!r}")
            if forms[-1] in message.id:
                problems.append(f"{lang}: still English: {key!r}")
        else:
            assert isinstance(found.string, str)
            problems.extend(_problems(lang, key, found.string, "catalog"))
    assert not problems, "\n".join(problems)


def _texts(questionnaire: Questionnaire) -> Iterator[tuple[str, Text]]:
    yield "title", questionnaire.title
    for section in questionnaire.sections:
        yield f"sections.{section.id}.title", section.title
        if section.intro:
            yield f"sections.{section.id}.intro", section.intro
    for item_id, item in questionnaire.items_by_id().items():
        yield f"items.{item_id}.text", item.text
        if item.help:
            yield f"items.{item_id}.help", item.help
        if isinstance(item, Group) and item.add_prompt:
            yield f"items.{item_id}.add_prompt", item.add_prompt
        if isinstance(item, Question):
            if item.label:
                yield f"items.{item_id}.label", item.label
            for option in item.options:
                yield f"items.{item_id}.options.{option.id}", option.text
            for index, notice in enumerate(item.notices):
                yield f"items.{item_id}.notices[{index}]", notice.text


def test_every_questionnaire_text_translated() -> None:
    questionnaire = load_translated(DEFAULT_PATH)
    assert questionnaire.languages == list(languages.CODES)
    problems: list[str] = []
    for where, text in _texts(questionnaire):
        english = text.by_lang["en"]
        for lang in TRANSLATED:
            if lang not in text.by_lang:
                problems.append(f"{lang}: {where}: no translation of {english!r}")
            else:
                problems.extend(_problems(lang, english, text.by_lang[lang], where))
    assert not problems, "\n".join(problems)


def test_translator_uses_catalogs() -> None:
    assert i18n.translator("es")("Skip") == "Omitir"
    assert i18n.translator("fr-CA")("Skip") == "Passer"
    assert i18n.translator("ru")("Done") == "Готово"
    assert i18n.translator("ar")("Yes") == "نعم"
    assert i18n.translator("pt-BR")("Skip") == "Skip"  # unsupported → English
    ru = i18n.translator("ru")
    assert [ru.plural("{n} file", "{n} files", n) for n in (1, 3, 5, 21)] == ["1 файл", "3 файла", "5 файлов", "21 файл"]
    ar = i18n.translator("ar")
    assert ar.plural("{n} file", "{n} files", 2) == "ملفان"
    assert ar.plural("{n} file", "{n} files", 11) == "11 ملفًا"
    assert i18n.translator("es")("Case {ref}: {kind}", ref="MI-1", kind="x") == "Caso MI-1: x"


def test_po_compiled_in_memory_when_mo_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkout where `make translations` has not run yet still shows the translations."""
    po, _ = i18n.catalog_paths("fr")
    target = tmp_path / "fr" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(po, target / po.name)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    assert not (target / "intake.mo").exists()
    assert i18n.Translator("fr")("Skip") == "Passer"
