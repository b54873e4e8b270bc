"""Bulk answers (a filled-in form): every `path → raw text` through the engine's own validation."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from intake import engine
from intake.engine import Draft, PathT
from intake.engine.slots import open_instances, store
from intake.i18n import translator
from intake.questionnaire import Condition, FieldType, Group, Question, Questionnaire, walk_all
from storage.repositories import CaseRecord, UnitOfWork

SEPARATOR = " — "


def _natural(key: str) -> list[tuple[int, str]]:
    """Sort key for answer paths: instance numbers compare as numbers."""
    return [(int(p), "") if p.isdigit() else (-1, p) for p in key.split(".")]


def _file_key(name: str) -> str:
    """A file name as compared: case, spacing and characters a mail client may change ignored."""
    return re.sub(r"[^\w.]+", "", unicodedata.normalize("NFKC", name).casefold())


def _set_files(q: Questionnaire, draft: Draft, key: str, raw: str, files: list[tuple[str, str]]) -> engine.Outcome:
    """A file question answered with the names of attached files: those files' ids, in order."""
    t = translator(draft.lang)
    by_name: dict[str, str] = {}
    for filename, attachment_id in files:
        by_name.setdefault(_file_key(filename), attachment_id)
    names = [n.strip() for n in re.split(r"[,;\n]", raw) if n.strip()]
    unknown = [n for n in names if _file_key(n) not in by_name]
    if unknown or not names:
        return engine.Outcome(draft=draft, ok=False, error=t("No file with this name is attached: {names}", names=", ".join(unknown) or raw))
    path = engine.parse_path(key)
    opened = open_instances(q, draft, path) or draft
    if key not in {s.key for s in engine.slots(q, opened)}:
        return engine.Outcome(draft=draft, ok=False, applies=False)
    ids = list(dict.fromkeys(by_name[_file_key(n)] for n in names))
    return engine.Outcome(draft=engine.prune(q, store(opened, path, ids)), ok=True, changed=True)


def apply_form(
    q: Questionnaire, draft: Draft, raw: dict[str, str], *, files: list[tuple[str, str]] | None = None,
) -> tuple[Draft, dict[str, str | None], list[str]]:
    """Apply form answers to a draft (pure). Returns the new draft, per path None (accepted) or the
    error text, and the notices the answers raised. Paths are applied in questionnaire order so
    conditions see earlier answers first; answers that open a later question (a condition, a new
    numbered group instance) are tried again on a later pass. A draft that stops (the channel is
    not safe) is returned at once with `stopped` set. A file question takes the names of attached
    files (`files`: file name → attachment id, this message's first): those files become its answer."""
    results: dict[str, str | None] = {}
    notices: list[str] = []
    pending = dict(raw)
    questions = q.questions()
    for _ in range(8):
        progressed = False
        order = {s.key: i for i, s in enumerate(engine.slots(q, draft))}
        for key in sorted(pending, key=lambda k: (order.get(k, len(order)), _natural(k))):
            question = questions.get(key.rsplit(".", 1)[-1])
            if question is not None and question.type == FieldType.FILES:
                outcome = _set_files(q, draft, key, pending[key], files or [])
            else:
                outcome = engine.set_answer(q, draft, engine.parse_path(key), pending[key])
            if not outcome.applies:
                continue
            pending.pop(key)
            results[key] = outcome.error
            if outcome.ok:
                draft = outcome.draft
                notices.extend(outcome.notices)
                progressed = True
                if draft.stopped:
                    return draft, results, notices
        if not pending or not progressed:
            break
    for key in pending:
        results[key] = translator(draft.lang)("That question does not apply to this case.")
    return draft, results, notices


def append_text(q: Questionnaire, draft: Draft, path: str, more: str) -> engine.Outcome:
    """The text answer at `path` with `more` appended (a long answer that arrived in parts),
    validated again; the position in the questionnaire does not move."""
    present, value = engine.get_value(draft.answers, engine.parse_path(path))
    joined = f"{value}\n{more}" if present and isinstance(value, str) else more
    return engine.set_answer(q, draft, engine.parse_path(path), joined)


# ---- which questions a form puts to the submitter --------------------------------------------


@dataclass(frozen=True)
class FormEntry:
    """One question a form may carry. `pending`: a condition that cannot be decided yet (the
    question it tests is unanswered), shown to the person as "only if …"; `virtual`: the question
    sits in a group instance that does not exist yet (a block to fill in or copy)."""

    key: str
    path: PathT
    question: Question
    section: int
    groups: tuple[Group, ...]
    required: bool
    answered: bool
    pending: tuple[Condition, ...] = ()
    virtual: bool = False


def _decided(cond: Condition, scopes: tuple[dict[str, Any], ...]) -> bool:
    """Whether every question `cond` tests has an answer in these scopes."""
    return all(any(ref in scope for scope in scopes) for ref in cond.referenced())


def form_entries(q: Questionnaire, draft: Draft) -> list[FormEntry]:
    """Every question that applies to these answers or may apply once an earlier answer is given,
    in questionnaire order: the instances that exist, and the first instance of a group that has
    none (`virtual`). Questions whose condition is decided false are left out."""
    out: list[FormEntry] = []

    def walk(items: list[Question | Group], scopes: tuple[dict[str, Any], ...], prefix: PathT, si: int,
             groups: tuple[Group, ...], pending: tuple[Condition, ...], virtual: bool) -> None:
        for item in items:
            here = pending
            if item.when is not None:
                if _decided(item.when, scopes):
                    if not engine.holds(item.when, scopes):
                        continue
                else:
                    here = pending + (item.when,)
            if isinstance(item, Question):
                present = item.id in scopes[0] and scopes[0][item.id] not in (None, [], "")
                out.append(FormEntry(
                    engine.path_key(prefix + (item.id,)), prefix + (item.id,), item, si, groups,
                    engine.is_required(item, scopes), present, here, virtual,
                ))
                continue
            instances = scopes[0].get(item.id) or []
            for i, instance in enumerate(instances):
                walk(item.items, (instance,) + scopes, prefix + (item.id, i), si, groups + (item,), here, virtual)
            if not instances:
                walk(item.items, ({},) + scopes, prefix + (item.id, 0), si, groups + (item,), here, True)

    for si, section in enumerate(q.sections):
        walk(section.items, (draft.answers,), (), si, (), (), False)
    return out


def _tagged(q: Questionnaire) -> bool:
    return any(i.essential for s in q.sections for i in walk_all(s.items))


def is_essential(entry: FormEntry) -> bool:
    """Asked in the first pass: the question is tagged essential, and so is every group it sits in."""
    return entry.question.essential and all(g.essential for g in entry.groups)


def is_recommended(entry: FormEntry) -> bool:
    """Optional but what a designation needs: tagged recommended (a group's items count when the
    group is recommended too)."""
    return entry.question.recommended and all(g.essential or g.recommended for g in entry.groups)


def _reopened(entry: FormEntry, reopened: list[str]) -> bool:
    """Whether staff reopened this question: by bare question or group id, by its path, or by the
    path of a group instance it sits in (`evidence.0`)."""
    ids = {entry.question.id} | {g.id for g in entry.groups}
    return any(r in ids or entry.key == r or entry.key.startswith(r + ".") for r in reopened)


FormKind = Literal["first", "followup", "details", "reopened"]


def select(q: Questionnaire, draft: Draft, kind: FormKind, *, reopened: list[str] | None = None,
           redo: set[str] | None = None) -> list[FormEntry]:
    """The questions a form of `kind` puts to the submitter — the one place that decides it:

    - `first` (first contact): the essential questions, and the recommended identifiers (optional);
    - `followup` (a draft in progress): what is still needed to submit (`engine.essential_missing`,
      the same rule as the chat's first pass, plus `redo`: answers refused), and the recommended
      identifiers not yet given;
    - `details` (after SUBMIT): every required question still unanswered (the engine's details),
      and the recommended ones;
    - `reopened` (a staff follow-up): the questions staff reopened, answered or not.

    A questionnaire without `essential` tags asks everything in the first form."""
    entries = form_entries(q, draft)
    if kind == "reopened":
        return [e for e in entries if _reopened(e, reopened or [])]
    if kind == "first":
        if not _tagged(q):
            return [e for e in entries if not e.answered and not e.pending]
        return [e for e in entries if not e.answered and (is_essential(e) or is_recommended(e))]
    if kind == "followup":
        needed = {s.key for s in engine.essential_missing(q, draft)} | set(redo or ())
        return [e for e in entries if e.key in needed or (not e.answered and is_recommended(e))]
    return [e for e in entries if not e.answered and ((e.required and not e.pending and not e.virtual) or is_recommended(e))]


def may_change(q: Questionnaire, draft: Draft, reopened: list[str], key: str) -> bool:
    """On a submitted case, an answer the submitter may give: to a question staff reopened, or to
    one not answered yet (a detail)."""
    for entry in form_entries(q, draft):
        if entry.key == key:
            return not entry.answered or _reopened(entry, reopened)
    return True  # a new group instance (e.g. a second ID document): nothing there to overwrite


def label_for(q: Questionnaire, path: PathT, lang: str) -> str:
    """The label of a question at `path`, e.g. `Alleged perpetrator 1 — Name` (forms, history)."""
    items = q.items_by_id()
    parts: list[str] = []
    for i in range(0, len(path) - 1):
        name, index = path[i], path[i + 1]
        item = items.get(name) if isinstance(name, str) else None
        if isinstance(item, Group) and isinstance(index, int):
            parts.append(f"{item.text.get(lang)} {index + 1}")
    question = items[str(path[-1])]
    assert isinstance(question, Question)
    parts.append(question.short(lang))
    return SEPARATOR.join(parts)


def shown(q: Questionnaire, draft: Draft, key: str) -> str:
    """The answer at `key` as the submitter reads it; "" when there is none."""
    path = engine.parse_path(key)
    present, value = engine.get_value(draft.answers, path)
    question = q.items_by_id().get(str(path[-1]))
    if not present or not isinstance(question, Question):
        return ""
    return engine.display(question, value, draft.lang)


async def land_on_case(
    uow: UnitOfWork, q: Questionnaire, *, now: datetime, submitter_id: str, case: CaseRecord, raw: dict[str, str],
    files: list[tuple[str, str]] | None = None,
) -> tuple[CaseRecord, dict[str, str | None], list[str]]:
    """Form answers from the submitter on their submitted case (a staff follow-up's reopened
    questions, the details asked after SUBMIT), in the caller's transaction. Only a question staff
    reopened, or one not answered yet, takes an answer. Each change is kept with its history: a
    thread message `answers` (encrypted like every message) saying what each answer is now and was
    before, and an audit event naming the paths (never the values)."""
    t = translator(case.lang)
    before = Draft.model_validate(case.draft)
    allowed = {k: v for k, v in raw.items() if may_change(q, before, list(case.reopened), k)}
    results: dict[str, str | None] = {
        k: t("This answer is already on the case. To change it, write to us what is wrong.") for k in raw if k not in allowed
    }
    after, applied, notices = apply_form(q, before, allowed, files=files)
    if after.stopped:  # a submitted case is not discarded by a form: the answer is refused
        return case, {**results, **{k: t("That question does not apply to this case.") for k in allowed}}, []
    results.update(applied)
    changed = [k for k, v in applied.items() if v is None]
    if not changed:
        return case, results, notices
    lines = []
    for key in changed:
        label, old, new = label_for(q, engine.parse_path(key), case.lang), shown(q, before, key), shown(q, after, key)
        lines.append(f"{label}: {new}" + (f"\n    ({t('before: {value}', value=old)})" if old else ""))
    message = await uow.messages.add(case_id=case.id, direction="in", channel=case.channel, kind="answers",
                                     body="\n".join(lines), now=now)
    case.draft = after.model_dump(mode="json")
    case = await uow.cases.save(case, now=now)
    await uow.audit.record(action="case.answers_added", now=now, actor_kind="submitter", actor_id=submitter_id,
                           case_id=case.id, detail={"paths": changed, "message": message})
    return case, results, notices
