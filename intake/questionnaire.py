"""The questionnaire as data: pydantic models, and the loader that validates a YAML file.

A questionnaire is a list of sections; a section holds items; an item is a question or a
repeatable group (which holds items of its own, so groups nest). Text is per language with
English as the fallback. Conditions refer to earlier answers by question id; inside a group they
look at the group's own instance first, then outwards.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

DEFAULT_PATH = Path(__file__).parent / "questionnaires" / "default.yaml"


class QuestionnaireError(Exception):
    """The questionnaire file is invalid: names the file, the place inside it and the problem."""


class FieldType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    SINGLE_CHOICE = "single_choice"
    MULTI_CHOICE = "multi_choice"
    YES_NO = "yes_no"
    DATE = "date"
    COUNTRY = "country"
    NUMBER = "number"
    EMAIL = "email"
    URL = "url"
    FILES = "files"
    SEA_AREA = "sea_area"  # a place at sea: high seas, a coastal state's EEZ or waters, coordinates


class TriageTag(StrEnum):
    """What a question tells staff first; `intake.triage.triage_facts` reads the tagged answers."""

    ABUSE_FORMS = "abuse_forms"  # multi_choice: the forms of abuse (option ids)
    COUNTRIES = "countries"  # country or sea_area: where it happened (ISO codes)
    MINORS = "minors"  # yes_no or single_choice with "yes"/"no" options: children among the victims
    DANGER = "danger"  # yes_no or single_choice: someone is in immediate danger
    ONGOING = "ongoing"  # yes_no or single_choice: the abuse is still going on
    TITLE = "title"  # text: the case's title
    SUMMARY = "summary"  # text or long_text: the case's narrative


_TRIAGE_TYPES: dict[TriageTag, tuple[FieldType, ...]] = {
    TriageTag.ABUSE_FORMS: (FieldType.MULTI_CHOICE,),
    TriageTag.COUNTRIES: (FieldType.COUNTRY, FieldType.SEA_AREA),
    TriageTag.MINORS: (FieldType.YES_NO, FieldType.SINGLE_CHOICE),
    TriageTag.DANGER: (FieldType.YES_NO, FieldType.SINGLE_CHOICE),
    TriageTag.ONGOING: (FieldType.YES_NO, FieldType.SINGLE_CHOICE),
    TriageTag.TITLE: (FieldType.TEXT,),
    TriageTag.SUMMARY: (FieldType.TEXT, FieldType.LONG_TEXT),
}
_TRIAGE_ONCE = {TriageTag.ABUSE_FORMS, TriageTag.TITLE, TriageTag.SUMMARY}


class Text(BaseModel):
    """Text in several languages; English (`en`) is required and is the fallback."""

    model_config = ConfigDict(frozen=True)
    by_lang: dict[str, str]

    @model_validator(mode="before")
    @classmethod
    def _coerce(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"by_lang": {"en": value}}
        if isinstance(value, dict) and "by_lang" not in value:
            return {"by_lang": value}
        return value

    @field_validator("by_lang")
    @classmethod
    def _needs_english(cls, value: dict[str, str]) -> dict[str, str]:
        if not value.get("en", "").strip():
            raise ValueError("an English text ('en') is required")
        return value

    def get(self, lang: str) -> str:
        """The text in `lang`, else in its base language (`pt` for `pt-BR`), else English."""
        if lang in self.by_lang:
            return self.by_lang[lang]
        base = lang.split("-")[0].split("_")[0]
        return self.by_lang.get(base, self.by_lang["en"])


class Condition(BaseModel):
    """A test on an earlier answer. Unanswered (or skipped) questions make every test false."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")
    q: str | None = None
    eq: Any = None
    ne: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    includes: Any = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None

    @model_validator(mode="after")
    def _shape(self) -> Condition:
        ops = [n for n in ("eq", "ne", "in_", "includes") if getattr(self, n) is not None]
        if self.all is not None or self.any is not None:
            if self.q is not None or ops:
                raise ValueError("'all'/'any' cannot be combined with 'q'")
        elif self.q is None or len(ops) != 1:
            raise ValueError("a condition needs 'q' and exactly one of eq, ne, in, includes")
        return self

    def referenced(self) -> list[str]:
        if self.all is not None:
            return [r for c in self.all for r in c.referenced()]
        if self.any is not None:
            return [r for c in self.any for r in c.referenced()]
        return [self.q] if self.q else []


class Option(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    text: Text


class Notice(BaseModel):
    """A text shown after the question is answered with `if_answer`; `stop` ends the conversation."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    if_answer: Any
    text: Text
    stop: bool = False


class Question(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["question"] = "question"
    id: str
    type: FieldType
    text: Text
    label: Text | None = None  # short label for forms and summaries; falls back to text
    help: Text | None = None
    required: bool = False
    optional_when: Condition | None = None  # required unless this holds
    when: Condition | None = None  # asked only when this holds
    options: list[Option] = []
    multiple: bool = False  # country: several allowed
    range: bool = False  # date: a from–to range
    min: float | None = None  # number bounds
    max: float | None = None
    max_length: int | None = None
    unit: Literal["percent"] | None = None  # number: "51%" is accepted, and shown with its unit
    blank_skips: bool = False  # optional question: an empty answer counts as skipped ("Leave blank if…")
    triage: TriageTag | None = None  # what staff read first: see intake/triage.py
    essential: bool = False  # asked in the first pass ("essentials first"); the rest are details
    recommended: bool = False  # optional, but what a designation needs (identifiers): offered in forms
    sensitive: list[Literal["victim", "submitter"]] = []
    notices: list[Notice] = []

    @model_validator(mode="after")
    def _check(self) -> Question:
        choice = self.type in (FieldType.SINGLE_CHOICE, FieldType.MULTI_CHOICE)
        if choice and not self.options:
            raise ValueError(f"question '{self.id}' is a choice but has no options")
        if not choice and self.options:
            raise ValueError(f"question '{self.id}' has options but is of type {self.type}")
        ids = [o.id for o in self.options]
        if len(ids) != len(set(ids)):
            raise ValueError(f"question '{self.id}' repeats an option id")
        if self.multiple and self.type != FieldType.COUNTRY:
            raise ValueError(f"question '{self.id}': 'multiple' is only for country questions")
        if self.range and self.type != FieldType.DATE:
            raise ValueError(f"question '{self.id}': 'range' is only for date questions")
        if self.unit is not None and self.type != FieldType.NUMBER:
            raise ValueError(f"question '{self.id}': 'unit' is only for number questions")
        if self.blank_skips and self.required and self.optional_when is None:
            raise ValueError(f"question '{self.id}': 'blank_skips' needs an optional question")
        if self.triage is not None and self.type not in _TRIAGE_TYPES[self.triage]:
            allowed = ", ".join(t.value for t in _TRIAGE_TYPES[self.triage])
            raise ValueError(f"question '{self.id}': triage '{self.triage.value}' needs a question of type {allowed}")
        return self

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)

    def short(self, lang: str) -> str:
        return (self.label or self.text).get(lang)


class Group(BaseModel):
    """A repeatable group: each instance holds answers to `items`; `min`/`max` instances."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["group"] = "group"
    id: str
    text: Text  # names one instance, e.g. "Alleged perpetrator"
    add_prompt: Text | None = None  # "Add another alleged perpetrator?"
    help: Text | None = None
    min: int = 0
    max: int = 20
    when: Condition | None = None
    essential: bool = False  # its first instance's essential questions are asked in the first pass
    recommended: bool = False  # offered (marked optional) in forms even with no instance yet
    items: list[Item]

    @model_validator(mode="after")
    def _check(self) -> Group:
        if self.min < 0 or self.max < max(1, self.min):
            raise ValueError(f"group '{self.id}': need 0 <= min <= max and max >= 1")
        if not self.items:
            raise ValueError(f"group '{self.id}' has no items")
        return self


Item = Annotated[Union[Question, Group], Field(discriminator="kind")]
Group.model_rebuild()


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    title: Text
    intro: Text | None = None
    items: list[Item]


class Questionnaire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    version: int
    languages: list[str] = ["en"]
    title: Text
    sections: list[Section]
    # lookups worked out once per questionnaire; valid while `sections` is the list they came from
    _lookups: dict[str, tuple[list[Section], dict[str, Any]]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_ids(self) -> Questionnaire:
        seen: set[str] = set()
        order: dict[str, int] = {}

        def visit(items: list[Question | Group]) -> None:
            for item in items:
                if item.id in seen:
                    raise ValueError(f"id '{item.id}' is used twice")
                seen.add(item.id)
                conds = [item.when] + ([item.optional_when] if isinstance(item, Question) else [])
                for cond in conds:
                    for ref in cond.referenced() if cond else []:
                        if ref not in order:
                            raise ValueError(
                                f"'{item.id}' has a condition on '{ref}', which is not an earlier question"
                            )
                order[item.id] = len(order)
                if isinstance(item, Group):
                    visit(item.items)

        section_ids: set[str] = set()
        for section in self.sections:
            if section.id in section_ids:
                raise ValueError(f"section id '{section.id}' is used twice")
            section_ids.add(section.id)
            visit(section.items)
        tagged: dict[TriageTag, str] = {}
        for question in _walk_questions(s.items for s in self.sections):
            tag = question.triage
            if tag in _TRIAGE_ONCE and tag in tagged:
                raise ValueError(f"triage '{tag.value}' is on both '{tagged[tag]}' and '{question.id}'; it belongs on one question")
            if tag is not None:
                tagged[tag] = question.id
        return self

    def questions(self) -> dict[str, Question]:
        """Every question by id, groups flattened (worked out once; do not change the dict)."""
        cached = self._lookups.get("questions")
        if cached is None or cached[0] is not self.sections:
            cached = (self.sections, {q.id: q for q in _walk_questions(s.items for s in self.sections)})
            self._lookups["questions"] = cached
        return cached[1]

    def items_by_id(self) -> dict[str, Question | Group]:
        """Every question and group by id (worked out once; do not change the dict)."""
        cached = self._lookups.get("items")
        if cached is None or cached[0] is not self.sections:
            cached = (self.sections, self._items_by_id())
            self._lookups["items"] = cached
        return cached[1]

    def _items_by_id(self) -> dict[str, Question | Group]:
        out: dict[str, Question | Group] = {}

        def visit(items: list[Question | Group]) -> None:
            for item in items:
                out[item.id] = item
                if isinstance(item, Group):
                    visit(item.items)

        for section in self.sections:
            visit(section.items)
        return out

    def section_of(self, item_id: str) -> Section:
        for section in self.sections:
            if item_id in {i.id for i in walk_all(section.items)}:
                return section
        raise KeyError(item_id)


def walk_all(items: list[Question | Group]) -> list[Question | Group]:
    """Every item of `items`, groups and their contents, depth first."""
    out: list[Question | Group] = []
    for item in items:
        out.append(item)
        if isinstance(item, Group):
            out.extend(walk_all(item.items))
    return out


def _walk_questions(groups_of_items: Any) -> list[Question]:
    out: list[Question] = []
    for items in groups_of_items:
        out.extend(i for i in walk_all(items) if isinstance(i, Question))
    return out


def _format_loc(loc: tuple[int | str, ...], data: Any) -> str:
    """Turn a pydantic error location into a readable path, naming items by their ids."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
            ident = node.get("id") if isinstance(node, dict) else None
            parts[-1:] = [f"{parts[-1] if parts else ''}[{step}{'=' + ident if ident else ''}]"]
        elif isinstance(node, dict) and isinstance(step, str) and step in node:
            node = node[step]
            parts.append(step)
        elif isinstance(step, str) and step in ("question", "group"):
            continue  # the discriminator tag pydantic inserts
        else:
            parts.append(str(step))
    return ".".join(p for p in parts if p)


def load(path: Path | str) -> Questionnaire:
    """Load and validate a questionnaire YAML file; raise QuestionnaireError naming the problem."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise QuestionnaireError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise QuestionnaireError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return Questionnaire.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = _format_loc(tuple(err["loc"]), data) or "(top level)"
            lines.append(f"{path}: at {where}: {err['msg']}")
        raise QuestionnaireError("\n".join(lines)) from exc


@lru_cache(maxsize=8)
def load_default(path: str | None = None) -> Questionnaire:
    """The questionnaire with the translations that sit beside it (`default.<lang>.yaml`)."""
    from intake.questionnaire_i18n import load_translated  # imports this module: loaded here, not at the top

    return load_translated(path or DEFAULT_PATH)
