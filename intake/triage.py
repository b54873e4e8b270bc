"""Triage facts: what staff read first about a case, computed in one place from tagged questions.

Questions carry a `triage:` tag in the questionnaire (see `TriageTag`); `triage_facts` walks the
answers (group instances included) and reads every tagged answer. The staff alert, the review
queue and the case page use these facts instead of reading question ids themselves. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from intake.fields import sea_country
from intake.questionnaire import FieldType, Group, Question, Questionnaire, TriageTag


@dataclass(frozen=True)
class TriageFacts:
    """The facts staff triage on. A yes/no fact is None when unanswered, skipped or "don't know"."""

    abuse_forms: list[str] = field(default_factory=list)  # option ids, in questionnaire order
    countries: list[str] = field(default_factory=list)  # ISO 3166-1 alpha-2, in answer order, no repeats
    minors: bool | None = None  # children among the victims
    danger: bool | None = None  # someone is in immediate danger
    ongoing: bool | None = None  # the abuse is still going on
    title: str | None = None
    summary: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for an outbox payload or an API)."""
        return asdict(self)


def _flag(question: Question, value: Any) -> bool | None:
    """A yes/no answer, or a single choice whose option id is "yes"/"no"; anything else: None."""
    if question.type == FieldType.YES_NO and isinstance(value, bool):
        return value
    if value == "yes":
        return True
    if value == "no":
        return False
    return None


def _either(old: bool | None, new: bool | None) -> bool | None:
    """Several answers for one flag: any yes wins, then any no, else unknown."""
    if old is True or new is True:
        return True
    if old is False or new is False:
        return False
    return None


def _countries(question: Question, value: Any) -> list[str]:
    if question.type == FieldType.SEA_AREA:
        code = sea_country(value)
        return [code] if code else []
    codes = value if isinstance(value, list) else [value]
    return [c for c in codes if isinstance(c, str)]


def _tagged(items: list[Question | Group], scope: dict[str, Any], out: list[tuple[Question, Any]]) -> None:
    for item in items:
        if isinstance(item, Group):
            for instance in scope.get(item.id) or []:
                if isinstance(instance, dict):
                    _tagged(item.items, instance, out)
        elif item.triage is not None and scope.get(item.id) is not None:
            out.append((item, scope[item.id]))


def tagged_answers(q: Questionnaire, answers: dict[str, Any]) -> list[tuple[Question, Any]]:
    """Every answered, tagged question with its value, in questionnaire order (instances in turn)."""
    out: list[tuple[Question, Any]] = []
    for section in q.sections:
        _tagged(section.items, answers, out)
    return out


def triage_questions(q: Questionnaire) -> dict[TriageTag, list[str]]:
    """Which question ids carry each tag (for views that group answers by triage fact)."""
    out: dict[TriageTag, list[str]] = {}
    for question in q.questions().values():
        if question.triage is not None:
            out.setdefault(question.triage, []).append(question.id)
    return out


def triage_facts(q: Questionnaire, answers: dict[str, Any]) -> TriageFacts:
    """The triage facts of a draft's answers, read from the questions tagged in `q`."""
    forms: list[str] = []
    countries: list[str] = []
    flags: dict[TriageTag, bool | None] = {TriageTag.MINORS: None, TriageTag.DANGER: None, TriageTag.ONGOING: None}
    texts: dict[TriageTag, str] = {}
    for question, value in tagged_answers(q, answers):
        tag = question.triage
        if tag == TriageTag.ABUSE_FORMS and isinstance(value, list):
            order = [o.id for o in question.options]
            chosen = set(forms) | {v for v in value if isinstance(v, str)}
            forms = [o for o in order if o in chosen] + sorted(chosen - set(order))
        elif tag == TriageTag.COUNTRIES:
            countries += [c for c in _countries(question, value) if c not in countries]
        elif tag in flags:
            assert tag is not None
            flags[tag] = _either(flags[tag], _flag(question, value))
        elif tag in (TriageTag.TITLE, TriageTag.SUMMARY) and isinstance(value, str) and value.strip():
            texts.setdefault(tag, value)
    return TriageFacts(
        abuse_forms=forms,
        countries=countries,
        minors=flags[TriageTag.MINORS],
        danger=flags[TriageTag.DANGER],
        ongoing=flags[TriageTag.ONGOING],
        title=texts.get(TriageTag.TITLE),
        summary=texts.get(TriageTag.SUMMARY),
    )
