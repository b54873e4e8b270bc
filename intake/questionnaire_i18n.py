"""Questionnaire translations: one file per language beside the questionnaire, merged at load.

`default.yaml` holds the English text; `default.es.yaml`, `default.fr.yaml`, … hold the other
languages, keyed by ids so a translator never touches the structure:

    lang: es
    title: "…"
    sections:
      safety: {title: "…", intro: "…"}
    items:
      is_channel_safe:            # a question or a group, by id
        text: "…"
        label: "…"
        help: "…"
        add_prompt: "…"           # groups only
        options: {"yes": "Sí"}    # by option id
        notices: ["…"]            # in the order of the question's notices

A key that names nothing in the questionnaire is an error (the translation went stale); a text
missing from a file falls back to English (the test suite refuses that for the shipped files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from intake import languages
from intake.questionnaire import Questionnaire, QuestionnaireError, load

_ITEM_KEYS = {"text", "label", "help", "add_prompt", "options", "notices"}
_SECTION_KEYS = {"title", "intro"}


def translation_path(source: Path, lang: str) -> Path:
    """Where the `lang` text of the questionnaire at `source` lives: `default.yaml` → `default.es.yaml`."""
    return source.with_name(f"{source.stem}.{lang}{source.suffix}")


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise QuestionnaireError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise QuestionnaireError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise QuestionnaireError(f"{path}: expected a mapping at the top level")
    return data


def _put(node: dict[str, Any], key: str, lang: str, text: Any, where: str) -> None:
    """Add `text` as the `lang` version of `node[key]` (a Text dump: {"by_lang": {...}})."""
    if not isinstance(text, str) or not text.strip():
        raise QuestionnaireError(f"{where}: expected a non-empty text")
    if key not in node or node[key] is None:
        raise QuestionnaireError(f"{where}: the questionnaire has no English '{key}' here to translate")
    node[key]["by_lang"][lang] = text


def _items(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}

    def visit(items: list[dict[str, Any]]) -> None:
        for item in items:
            out[item["id"]] = item
            if item.get("kind") == "group":
                visit(item["items"])

    for section in data["sections"]:
        visit(section["items"])
    return out


def _merge(data: dict[str, Any], lang: str, tr: dict[str, Any], path: Path) -> None:
    unknown = set(tr) - {"lang", "title", "sections", "items"}
    if unknown:
        raise QuestionnaireError(f"{path}: unknown top-level keys: {', '.join(sorted(unknown))}")
    if "title" in tr:
        _put(data, "title", lang, tr["title"], f"{path}: title")
    sections = {s["id"]: s for s in data["sections"]}
    for section_id, texts in (tr.get("sections") or {}).items():
        where = f"{path}: sections.{section_id}"
        if section_id not in sections:
            raise QuestionnaireError(f"{where}: no such section")
        for key, text in (texts or {}).items():
            if key not in _SECTION_KEYS:
                raise QuestionnaireError(f"{where}.{key}: a section has only {', '.join(sorted(_SECTION_KEYS))}")
            _put(sections[section_id], key, lang, text, f"{where}.{key}")
    items = _items(data)
    for item_id, texts in (tr.get("items") or {}).items():
        where = f"{path}: items.{item_id}"
        if item_id not in items:
            raise QuestionnaireError(f"{where}: no such question or group")
        item = items[item_id]
        for key, value in (texts or {}).items():
            if key not in _ITEM_KEYS:
                raise QuestionnaireError(f"{where}.{key}: not a translatable field")
            if key == "options":
                options = {o["id"]: o for o in item.get("options", [])}
                for option_id, text in (value or {}).items():
                    if str(option_id) not in options:
                        raise QuestionnaireError(f"{where}.options.{option_id}: no such option")
                    _put(options[str(option_id)], "text", lang, text, f"{where}.options.{option_id}")
            elif key == "notices":
                notices = item.get("notices", [])
                if not isinstance(value, list) or len(value) != len(notices):
                    raise QuestionnaireError(f"{where}.notices: expected {len(notices)} texts, in the order of the notices")
                for index, text in enumerate(value):
                    _put(notices[index], "text", lang, text, f"{where}.notices[{index}]")
            else:
                _put(item, key, lang, value, f"{where}.{key}")


def with_translations(questionnaire: Questionnaire, source: Path | str) -> Questionnaire:
    """The questionnaire with the text of every `<stem>.<lang>.yaml` found beside `source` merged in.

    `languages` lists English and each language whose file was found. Raises QuestionnaireError
    naming the file and key when a translation refers to an id, option or notice that does not exist.
    """
    source = Path(source)
    data = questionnaire.model_dump(by_alias=True, exclude_none=True)
    found = ["en"]
    for lang in languages.CODES:
        path = translation_path(source, lang)
        if lang == "en" or not path.exists():
            continue
        tr = _read(path)
        if tr.get("lang", lang) != lang:
            raise QuestionnaireError(f"{path}: says lang '{tr.get('lang')}' but is named for '{lang}'")
        _merge(data, lang, tr, path)
        found.append(lang)
    if found == ["en"]:
        return questionnaire
    data["languages"] = found
    return Questionnaire.model_validate(data)


def load_translated(path: Path | str) -> Questionnaire:
    """Load and validate a questionnaire file together with its translations."""
    return with_translations(load(path), path)
