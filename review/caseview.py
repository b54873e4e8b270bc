"""The pieces of a case page a reviewer triages on, built from the answers: the glance (danger,
minors, age, last activity, title, summary, the abuse in one line), perpetrators as cards,
evidence items with their own files, and the ask-back picker (questions by section and by repeat
instance, valued by answer path). Pure: no I/O; values are shown as the console shows them (English
labels, the submitter's words as written)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from intake import engine, fields
from intake.questionnaire import Group, Question, Questionnaire
from intake.triage import TriageFacts
from storage.repositories import AttachmentRecord

LANG = "en"
# the identifiers a card shows, most telling first (ID documents come right after the date of birth)
KEY_IDS = ["perp_dob", "perp_nationality", "ent_reg_number", "ent_jurisdiction", "vessel_imo", "vessel_flag", "ent_tax_id",
           "vessel_mmsi", "perp_is_official", "perp_name_native", "perp_aliases"]


def ago(delta: timedelta) -> str:
    """A short age: "45 min", "5 h", "3 d"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def _show(q: Questionnaire, qid: str, value: Any) -> str:
    question = q.questions().get(qid)
    if question is None or value is None:
        return ""
    if value == engine.SKIPPED:
        return "skipped"
    return fields.display(question, value, LANG)


def _label(q: Questionnaire, qid: str) -> str:
    question = q.questions().get(qid)
    return question.short(LANG) if question else qid


def abuse_line(q: Questionnaire, answers: dict[str, Any], facts: TriageFacts) -> list[dict[str, str]]:
    """The abuse in one line, as {what, text} parts: forms, where, when, how many, minors."""
    parts: list[dict[str, str]] = []
    question = q.questions().get("abuse_forms")
    if facts.abuse_forms and question is not None:
        parts.append({"what": "forms", "text": ", ".join((o.text.get(LANG) if (o := question.option(f)) else f) for f in facts.abuse_forms)})
    places = []
    for loc in answers.get("abuse_locations") or []:
        if isinstance(loc, dict):
            place = loc.get("loc_place")
            where = ", ".join(p for p in (place if isinstance(place, str) else "", _show(q, "loc_country", loc.get("loc_country"))) if p)
            if where:
                places.append(where)
    if places:
        parts.append({"what": "where", "text": "; ".join(places)})
    elif facts.countries:
        parts.append({"what": "where", "text": ", ".join(facts.countries)})
    when = _show(q, "abuse_dates", answers.get("abuse_dates"))
    if facts.ongoing:
        when = f"{when} (ongoing)" if when else "ongoing"
    if when:
        parts.append({"what": "when", "text": when})
    count = answers.get("victims_count") if answers.get("victims_count") not in (None, engine.SKIPPED) else answers.get("victims_count_estimate")
    if count not in (None, engine.SKIPPED, ""):
        parts.append({"what": "how many", "text": f"{_show(q, 'victims_count', count) if isinstance(count, int) else count} victims"})
    parts.append({"what": "minors", "text": {True: "minors among the victims", False: "no minors", None: "minors unknown"}[facts.minors]})
    return parts


def perpetrator_cards(q: Questionnaire, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """One card per alleged perpetrator: number, name, kind, key identifiers, role."""
    cards = []
    for i, p in enumerate(answers.get("perpetrators") or []):
        if not isinstance(p, dict):
            continue
        ids = [{"label": _label(q, k), "value": _show(q, k, p.get(k))} for k in KEY_IDS if p.get(k) not in (None, engine.SKIPPED, "", [])]
        docs = []
        for doc in p.get("perp_id_docs") or []:
            if isinstance(doc, dict) and doc.get("id_doc_number"):
                kind = _show(q, "id_doc_type", doc.get("id_doc_type")) or "ID"
                country = _show(q, "id_doc_country", doc.get("id_doc_country"))
                docs.append({"label": kind, "value": f"{doc['id_doc_number']}" + (f" ({country})" if country else "")})
        at = 1 if p.get("perp_dob") not in (None, engine.SKIPPED, "") else 0
        ids[at:at] = docs
        positions = [", ".join(x for x in (pos.get("pos_title"), pos.get("pos_employer")) if isinstance(x, str) and x)
                     for pos in p.get("perp_positions") or [] if isinstance(pos, dict)]
        cards.append({
            "number": i + 1,
            "name": p.get("perp_name") if isinstance(p.get("perp_name"), str) else "(no name given)",
            "kind": _show(q, "perp_kind", p.get("perp_kind")),
            "ids": ids,
            "positions": [x for x in positions if x],
            "role": _show(q, "perp_role", p.get("perp_role")),
        })
    return cards


def _file(a: AttachmentRecord, label: str) -> dict[str, Any]:
    return {"id": a.id, "label": label, "filename": a.filename, "type": a.sniffed_type or a.content_type or "unknown",
            "size": a.size, "sha256": a.sha256, "executable": a.executable, "question": a.question_path}


def evidence_items(q: Questionnaire, answers: dict[str, Any], attachments: list[AttachmentRecord]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each evidence item with its description, date, origin, link and its own files (named
    "Evidence item 2 · file 1", 1-based); and the files that belong to no evidence item."""
    items: list[dict[str, Any]] = []
    used: set[str] = set()
    for i, ev in enumerate(answers.get("evidence") or []):
        if not isinstance(ev, dict):
            continue
        prefix = f"evidence.{i}."
        mine = [a for a in attachments if (a.question_path or "").startswith(prefix)]
        used |= {a.id for a in mine}
        url = ev.get("ev_url")
        items.append({
            "number": i + 1,
            "type": _show(q, "ev_type", ev.get("ev_type")),
            "description": ev.get("ev_description") if isinstance(ev.get("ev_description"), str) else "",
            "date": _show(q, "ev_date", ev.get("ev_date")),
            "origin": ev.get("ev_origin") if isinstance(ev.get("ev_origin"), str) else "",
            "url": url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) else None,
            "url_text": url if isinstance(url, str) else None,
            "shareable": _show(q, "ev_shareable", ev.get("ev_shareable")),
            "files": [_file(a, f"Evidence item {i + 1} · file {n + 1}") for n, a in enumerate(mine)],
        })
    rest = [a for a in attachments if a.id not in used]
    extra = [_file(a, f"{engine.instance_label(q, engine.parse_path(a.question_path), LANG) or _label(q, a.question_path.split('.')[-1])} · file {n + 1}"
                   if a.question_path else f"Extra file {n + 1}") for n, a in enumerate(rest)]
    return items, extra


def picker(q: Questionnaire, draft: engine.Draft) -> list[dict[str, Any]]:
    """The ask-back picker: sections, each with groups of questions (one group per repeat
    instance, e.g. "Alleged perpetrator 2"), each question valued by its answer path. Only the
    questions that apply to this case's answers (the questionnaire's slots)."""
    sections: list[dict[str, Any]] = []
    for slot in engine.slots(q, draft):
        if slot.kind != "question" or not isinstance(slot.item, Question):
            continue
        while len(sections) <= slot.section:
            s = q.sections[len(sections)]
            sections.append({"id": s.id, "title": s.title.get(LANG), "groups": []})
        groups = sections[slot.section]["groups"]
        instance = engine.instance_label(q, slot.path, LANG) or ""
        if not groups or groups[-1]["instance"] != instance:
            groups.append({"instance": instance, "questions": []})
        groups[-1]["questions"].append({"path": slot.key, "label": slot.item.short(LANG), "answered": engine.answered(slot, draft)})
    return [s for s in sections if s["groups"]]


DETAILS = "details"  # `request-info --reopen details`: ask for a details round


def reopen_paths(q: Questionnaire, draft: engine.Draft) -> set[str]:
    """Every answer path the staff may reopen on this case (its question slots), and the bare
    question ids and group instance paths (`perpetrators.1`) they lie in; and `details` (a
    details round: the submitter answers the questions still wanted with /details)."""
    out: set[str] = {DETAILS}
    for slot in engine.slots(q, draft):
        if slot.kind == "question":
            out.add(slot.key)
            path = slot.path
            for n in range(1, len(path)):
                if isinstance(path[n], int) and isinstance(q.items_by_id().get(str(path[n - 1])), Group):
                    out.add(engine.path_key(path[: n + 1]))
    return out


def glance(facts: TriageFacts, *, now: datetime, since: datetime, last: datetime) -> dict[str, Any]:
    """Danger, minors, title, summary, age (since submission) and last activity."""
    return {"danger": facts.danger, "minors": facts.minors, "title": facts.title, "summary": facts.summary,
            "age": ago(now - since), "last_activity": ago(now - last), "last_activity_at": last.isoformat()}
