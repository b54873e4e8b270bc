"""Dossier exports of one case: pure functions from a `CaseView` to Markdown, JSON or
FollowTheMoney entities (JSON lines). No I/O and no auditing here: the caller loads the case
through `ReviewService.show` and records the export with `ReviewService.record_export`.

PDF is not produced: no PDF library is a dependency of the project yet (`PdfUnavailable`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from intake.questionnaire import Question, Questionnaire
from review.service import CaseView, ReviewError

FORMATS = ("md", "json", "ftm", "pdf")
FORMAT_VERSION = 1
# media type and file suffix of each format that can be produced
MEDIA = {
    "md": ("text/markdown; charset=utf-8", "md"),
    "json": ("application/json", "json"),
    "ftm": ("application/x-ndjson", "ftm.jsonl"),
}


class ExportUnavailable(ReviewError):
    """The requested export format cannot be produced by this installation."""


PDF_UNAVAILABLE = (
    "PDF export needs a PDF library that is not yet a dependency of the project; "
    "export --format md (and print or convert it) instead."
)


@dataclass(frozen=True)
class Envelope:
    """Who exported, and when (carried by the md and json dossiers)."""

    exported_at: datetime
    exported_by: str


def check_format(fmt: str) -> str:
    """The format name if it can be produced; `ExportUnavailable` otherwise."""
    if fmt == "pdf":
        raise ExportUnavailable(PDF_UNAVAILABLE)
    if fmt not in MEDIA:
        raise ExportUnavailable(f"unknown export format '{fmt}': use one of {', '.join(MEDIA)}")
    return fmt


def render(fmt: str, view: CaseView, questionnaire: Questionnaire, envelope: Envelope) -> str:
    """The dossier of `view` in `fmt` (md, json or ftm)."""
    match check_format(fmt):
        case "md":
            return to_markdown(view, questionnaire, envelope)
        case "json":
            return to_json(view, envelope)
        case _:
            return to_ftm(view)


def filename(view: CaseView, fmt: str) -> str:
    """A download name for the dossier: `<reference>.<suffix>`."""
    return f"{re.sub(r'[^A-Za-z0-9_-]', '_', view.reference)}.{MEDIA[check_format(fmt)][1]}"


# ---- JSON ------------------------------------------------------------------------------------


def to_json(view: CaseView, envelope: Envelope) -> str:
    """The case view as JSON inside an export envelope (format, version, exported_at/by)."""
    doc = {
        "format": "magnitsky-intake/dossier",
        "version": FORMAT_VERSION,
        "exported_at": envelope.exported_at.isoformat(),
        "exported_by": envelope.exported_by,
        "case": view.to_dict(),
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


# ---- Markdown --------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}<>#|!~])")
_MD_BULLET = re.compile(r"^(\s*)([-+=])", re.MULTILINE)
_MD_ORDERED = re.compile(r"^(\s*\d+)([.)])", re.MULTILINE)


def md_escape(text: str) -> str:
    """Submitted text as literal Markdown: no emphasis, links, raw HTML or list markers."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_ORDERED.sub(r"\1\\\2", _MD_BULLET.sub(r"\1\\\2", text))


def _cell(text: Any) -> str:
    """Text on one line inside a table row or after a list marker (no block markers to escape)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text if text is not None else "").split()))


def _value_lines(value: str, indent: str) -> str:
    """A (possibly multi-line) value; line breaks kept as Markdown hard breaks under the item."""
    lines = [md_escape(line) for line in value.splitlines()] or [""]
    return ("\\\n" + indent).join(lines)


def _answer_items(answers: Iterable[dict[str, Any]]) -> list[str]:
    out = []
    for line in answers:
        pad = "  " * int(line.get("depth", 0))
        label = md_escape(str(line["label"]))
        value = str(line.get("value") or "")
        if value:
            out.append(f"{pad}- **{label}:** {_value_lines(value, pad + '  ')}")
        else:
            out.append(f"{pad}- **{label}**")
    return out


def _missing_label(questionnaire: Questionnaire, path: str) -> str:
    parts = [p for p in path.split(".") if not p.isdigit()]
    item = questionnaire.items_by_id().get(parts[-1]) if parts else None
    if item is None:
        return path
    label = item.short("en") if isinstance(item, Question) else item.text.get("en")
    return f"{label} ({path})"


def to_markdown(view: CaseView, questionnaire: Questionnaire, envelope: Envelope) -> str:
    """A readable dossier: header, warnings, triage, answers by section, missing answers,
    attachments with sha256, thread, internal notes and the audit trail."""
    out: list[str] = [f"# Case dossier {md_escape(view.reference)}", ""]
    rows = [
        ("Reference", view.reference),
        ("Status", view.status),
        ("Channel", view.channel),
        ("Language", view.lang),
        ("Questionnaire", view.questionnaire),
        ("Created", view.created_at),
        ("Submitted", view.submitted_at or "-"),
        ("Assigned to", view.assigned_to or "-"),
    ]
    if view.decision:
        rows.append(("Decision", view.decision))
        rows.append(("Reason", view.decision_reason or ""))
    rows.append(("Exported", f"{envelope.exported_at.isoformat()} by {envelope.exported_by}"))
    out += ["| | |", "| --- | --- |"] + [f"| {k} | {_cell(v)} |" for k, v in rows] + [""]
    out.append("Confidential: this dossier may identify victims, witnesses and the people who submitted it.")
    out.append("")
    for warning in view.warnings:
        out += [f"> **Warning:** {md_escape(warning)}", ""]

    if view.triage:
        out += ["## Triage", ""]
        for block in view.triage:
            out += [f"### {md_escape(block['title'])}", ""] + _answer_items(block["answers"]) + [""]

    out += ["## Answers", ""]
    for section in view.sections:
        if not section["answers"]:
            continue
        out += [f"### {section['index']}. {md_escape(section['title'])}", ""] + _answer_items(section["answers"]) + [""]

    if view.missing:
        out += ["## Missing required answers", ""] + [f"- {md_escape(_missing_label(questionnaire, p))}" for p in view.missing] + [""]

    out += ["## Attachments", ""]
    if view.attachments:
        out += ["| File | Question | Size (bytes) | Type | Received | sha256 |", "| --- | --- | --- | --- | --- | --- |"]
        for a in view.attachments:
            kind = a.get("sniffed_type") or a.get("content_type") or ""
            if a.get("executable"):
                kind += " (executable)"
            out.append(f"| {_cell(a['filename'])} | {_cell(a['question'])} | {a['size']} | {_cell(kind)} | {_cell(a['created_at'])} | `{a['sha256']}` |")
    else:
        out.append("None.")
    out.append("")

    out += ["## Thread", ""]
    if view.thread:
        for m in view.thread:
            who = f" by {_cell(m['author'])}" if m.get("author") else ""
            delivery = f" ({_cell(m['delivery'])})" if m.get("delivery") else ""
            out.append(f"- **{_cell(m['created_at'])}** {_cell(m['direction'])} {_cell(m['kind'])} via {_cell(m['channel'])}{who}{delivery}:")
            out.append("  " + _value_lines(str(m["body"] or ""), "  "))
    else:
        out.append("No messages.")
    out.append("")

    if view.notes:
        out += ["## Internal notes (staff only)", ""]
        for n in view.notes:
            out.append(f"- **{_cell(n['created_at'])}** {_cell(n.get('author') or '')}:")
            out.append("  " + _value_lines(str(n["body"] or ""), "  "))
        out.append("")

    out += ["## Audit trail", "", "| At | Action | Actor | From | Detail |", "| --- | --- | --- | --- | --- |"]
    for e in view.audit:
        actor = f"{e['actor_kind']} {e.get('actor') or ''}".strip()
        detail = json.dumps(e.get("detail") or {}, ensure_ascii=False, sort_keys=True) if e.get("detail") else ""
        out.append(f"| {_cell(e['at'])} | {_cell(e['action'])} | {_cell(actor)} | {_cell(e.get('remote') or '')} | {_cell(detail)} |")
    out.append("")
    return "\n".join(out)


# ---- FollowTheMoney --------------------------------------------------------------------------

SCHEMA_OF_KIND = {
    "person": "Person",
    "company": "Company",
    "organisation": "Organization",
    "state_body": "PublicBody",
    "vessel": "Vessel",
}
_DIRECTOR_WORDS = re.compile(r"\b(director|manager|managing|ceo|chief|head|officer|president|chair\w*|board|secretary)\b", re.I)
_OWNER_WORDS = re.compile(r"\b(own\w*|share\w*|stake\w*|partner|beneficial|founder)\b", re.I)


@dataclass
class Entity:
    """One FollowTheMoney entity: every property is a list of strings."""

    id: str
    schema: str
    properties: dict[str, list[str]] = field(default_factory=dict)

    def add(self, prop: str, *values: Any) -> None:
        for value in values:
            text = _text(value)
            if text and text not in self.properties.setdefault(prop, []):
                self.properties[prop].append(text)
        if not self.properties.get(prop):
            self.properties.pop(prop, None)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "schema": self.schema, "properties": self.properties}


def _text(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def entity_id(reference: str, path: str) -> str:
    """A deterministic entity id: sha1 hex of the case reference and the answer path."""
    return hashlib.sha1(f"{reference}/{path}".encode(), usedforsecurity=False).hexdigest()


def _date(value: Any) -> str:
    """An FtM date (ISO prefix, `1970-03`) from a stored partial date; ranges give their start."""
    if isinstance(value, dict):
        if "start" in value:
            return _date(value["start"])
        return _text(value.get("date"))
    return ""


def _approx(value: Any) -> bool:
    return isinstance(value, dict) and bool(value.get("approx"))


def _countries(value: Any) -> list[str]:
    codes = value if isinstance(value, list) else [value]
    return [c.strip().lower() for c in codes if isinstance(c, str) and c.strip()]


def _names(text: Any) -> list[str]:
    """Names listed one a line (or separated by semicolons) in a free-text answer."""
    if not isinstance(text, str):
        return []
    return [n for n in (_text(p) for p in re.split(r"[\n;]+", text)) if n]


def _imo(text: Any) -> str:
    raw = _text(text)
    m = re.fullmatch(r"(?i)(?:imo)?\s*:?\s*(\d{7})", raw)
    return f"IMO{m.group(1)}" if m else raw


class _Builder:
    def __init__(self, view: CaseView) -> None:
        self.ref = view.reference
        self.entities: list[Entity] = []
        self.by_name: dict[str, Entity] = {}

    def new(self, schema: str, path: str) -> Entity:
        entity = Entity(entity_id(self.ref, path), schema)
        self.entities.append(entity)
        return entity

    def party(self, name: str, path: str, schema: str = "LegalEntity") -> Entity:
        """The case's perpetrator (or party already named) of that name if it is a legal entity,
        else a new entity."""
        known = self.by_name.get(name.casefold())
        if known is not None and known.schema != "Vessel":
            return known
        entity = self.new(schema, path)
        entity.add("name", name)
        self.by_name.setdefault(name.casefold(), entity)
        return entity


def ftm_entities(view: CaseView) -> list[dict[str, Any]]:
    """The case's alleged perpetrators as FollowTheMoney entities, with their ID documents,
    positions (Position + Occupancy), owners and managers (Ownership / Directorship) and
    relatives (Family). Ids are sha1 of the case reference and the answer path, so a second
    export of the same case gives the same ids."""
    b = _Builder(view)
    perps = [p for p in view.answers.get("perpetrators") or [] if isinstance(p, dict)]
    mains: list[tuple[int, dict[str, Any], Entity]] = []
    for i, perp in enumerate(perps):
        kind = perp.get("perp_kind")
        entity = b.new(SCHEMA_OF_KIND.get(str(kind), "LegalEntity"), f"perpetrators.{i}")
        entity.add("name", perp.get("perp_name"))
        entity.add("alias", perp.get("perp_name_native"))
        for alias in _names(perp.get("perp_aliases")):
            entity.add("weakAlias" if len(alias.split()) == 1 else "alias", alias)
        entity.add("address", *_names(perp.get("perp_addresses")))
        entity.add("notes", f"Alleged perpetrator in case {view.reference} (Magnitsky Intake); allegations not verified.")
        name = _text(perp.get("perp_name"))
        if name:
            b.by_name.setdefault(name.casefold(), entity)
        mains.append((i, perp, entity))

    for i, perp, entity in mains:
        base = f"perpetrators.{i}"
        kind = perp.get("perp_kind")
        if kind == "person":
            entity.add("birthDate", _date(perp.get("perp_dob")))
            if _approx(perp.get("perp_dob")):
                entity.add("notes", "The date of birth is approximate.")
            entity.add("birthPlace", perp.get("perp_birthplace"))
            entity.add("birthCountry", *_countries(perp.get("perp_birth_country")))
            entity.add("nationality", *_countries(perp.get("perp_nationality")))
            if perp.get("perp_gender") in ("male", "female", "other"):
                entity.add("gender", perp.get("perp_gender"))
            for j, doc in enumerate(perp.get("perp_id_docs") or []):
                passport = doc.get("id_doc_type") == "passport"
                ident = b.new("Passport" if passport else "Identification", f"{base}.perp_id_docs.{j}")
                ident.add("holder", entity.id)
                ident.add("number", doc.get("id_doc_number"))
                ident.add("type", {"passport": "passport", "national_id": "national ID card"}.get(str(doc.get("id_doc_type")), "other"))
                ident.add("country", *_countries(doc.get("id_doc_country")))
                ident.add("startDate", _date(doc.get("id_doc_issued")))
                ident.add("endDate", _date(doc.get("id_doc_expires")))
                entity.add("passportNumber" if passport else "idNumber", doc.get("id_doc_number"))
            for j, pos in enumerate(perp.get("perp_positions") or []):
                path = f"{base}.perp_positions.{j}"
                title, employer = _text(pos.get("pos_title")), _text(pos.get("pos_employer"))
                post = b.new("Position", path)
                post.add("name", f"{title}, {employer}" if title and employer else title or employer)
                post.add("country", *_countries(pos.get("pos_country")))
                if employer:
                    org = b.party(employer, f"{path}.pos_employer", "Organization")
                    if org.schema in ("Organization", "Company", "PublicBody"):
                        post.add("organization", org.id)
                occupancy = b.new("Occupancy", f"{path}.occupancy")
                occupancy.add("holder", entity.id)
                occupancy.add("post", post.id)
                occupancy.add("startDate", _date(pos.get("pos_from")))
                occupancy.add("endDate", _date(pos.get("pos_to")))
                if pos.get("pos_current") is not None:
                    occupancy.add("status", "current" if pos.get("pos_current") else "ended")
                entity.add("position", post.properties.get("name", [""])[0])
            for j, rel in enumerate(perp.get("perp_family") or []):
                path = f"{base}.perp_family.{j}"
                relative_name = _text(rel.get("fam_name"))
                if not relative_name:
                    continue
                relative = b.party(relative_name, f"{path}.fam_name", "Person")
                if relative.schema != "Person" or relative is entity:
                    continue
                relative.add("notes", rel.get("fam_details"))
                family = b.new("Family", path)
                family.add("person", entity.id)
                family.add("relative", relative.id)
                family.add("relationship", rel.get("fam_relation"))
        elif kind in ("company", "organisation"):
            entity.add("registrationNumber", perp.get("ent_reg_number"))
            entity.add("jurisdiction", *_countries(perp.get("ent_jurisdiction")))
            entity.add("taxNumber", perp.get("ent_tax_id"))
            entity.add("incorporationDate", _date(perp.get("ent_incorporated")))
            entity.add("sector", perp.get("ent_sector"))
            for j, owner in enumerate(perp.get("ent_owners") or []):
                path = f"{base}.ent_owners.{j}"
                owner_name = _text(owner.get("owner_name"))
                if not owner_name:
                    continue
                party = b.party(owner_name, f"{path}.owner_name")
                if party is entity:
                    continue
                role, share = _text(owner.get("owner_role")), _text(owner.get("owner_share"))
                directs = bool(_DIRECTOR_WORDS.search(role))
                owns = entity.schema == "Company" and (bool(share) or bool(_OWNER_WORDS.search(role)) or not directs)
                if owns:  # only a Company is an Asset in FtM
                    link = b.new("Ownership", path)
                    link.add("owner", party.id)
                    link.add("asset", entity.id)
                    link.add("percentage", share)
                    link.add("role", role)
                if directs or not owns:
                    link = b.new("Directorship", f"{path}.directorship")
                    link.add("director", party.id)
                    link.add("organization", entity.id)
                    link.add("role", role)
        elif kind == "vessel":
            entity.add("imoNumber", _imo(perp.get("vessel_imo")))
            entity.add("flag", *_countries(perp.get("vessel_flag")))
            entity.add("callSign", perp.get("vessel_callsign"))
            entity.add("mmsi", perp.get("vessel_mmsi"))
            operator = _text(perp.get("vessel_owner_operator"))
            if operator:
                # the question does not say whether they own or operate it: name them as operator
                entity.add("operator", b.party(operator, f"{base}.vessel_owner_operator").id)
    return [e.to_dict() for e in b.entities]


def to_ftm(view: CaseView) -> str:
    """FollowTheMoney entities as JSON lines (one entity a line)."""
    return "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in ftm_entities(view))
