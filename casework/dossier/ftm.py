"""The dossier as FollowTheMoney entities (JSON lines) that `followthemoney` validates.

Perpetrators with their ID documents, positions (Position + Occupancy), owners and managers
(Ownership / Directorship), relatives (Family) and vessels' operators; each perpetrator tagged
with the topic `crime.traffick`; evidence as Document entities tied to the perpetrators by
Documentation, with `sourceUrl` where a link was given; aliases one per value, junk answers
("not known") left out. Ids are sha1 of the case reference and the answer path, so a second
export of the same case gives the same ids."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from followthemoney import model
from followthemoney.exc import InvalidData

from casework import values as v
from casework.dossier.model import DossierCase

TOPIC = "crime.traffick"
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
            text = v.known(value)
            if text and text not in self.properties.setdefault(prop, []):
                self.properties[prop].append(text)
        if not self.properties.get(prop):
            self.properties.pop(prop, None)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "schema": self.schema, "properties": self.properties}


def entity_id(reference: str, path: str) -> str:
    """A deterministic entity id: sha1 hex of the case reference and the answer path."""
    return hashlib.sha1(f"{reference}/{path}".encode(), usedforsecurity=False).hexdigest()


class _Builder:
    def __init__(self, view: DossierCase) -> None:
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


def ftm_entities(view: DossierCase) -> list[dict[str, Any]]:
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
        for alias in v.lines(perp.get("perp_aliases")):
            entity.add("weakAlias" if len(alias.split()) == 1 else "alias", alias)
        entity.add("address", *v.lines(perp.get("perp_addresses")))
        entity.add("notes", f"Alleged perpetrator in case {view.reference} (Magnitsky Intake); allegations not verified.")
        entity.add("topics", TOPIC)
        name = v.known(perp.get("perp_name"))
        if name:
            b.by_name.setdefault(name.casefold(), entity)
        mains.append((i, perp, entity))

    for i, perp, entity in mains:
        base = f"perpetrators.{i}"
        kind = perp.get("perp_kind")
        if kind == "person":
            entity.add("birthDate", v.date(perp.get("perp_dob")))
            if v.approx(perp.get("perp_dob")):
                entity.add("notes", "The date of birth is approximate.")
            entity.add("birthPlace", perp.get("perp_birthplace"))
            entity.add("birthCountry", *v.countries(perp.get("perp_birth_country")))
            entity.add("nationality", *v.countries(perp.get("perp_nationality")))
            if perp.get("perp_gender") in ("male", "female", "other"):
                entity.add("gender", perp.get("perp_gender"))
            for j, doc in enumerate(perp.get("perp_id_docs") or []):
                passport = doc.get("id_doc_type") == "passport"
                ident = b.new("Passport" if passport else "Identification", f"{base}.perp_id_docs.{j}")
                ident.add("holder", entity.id)
                ident.add("number", doc.get("id_doc_number"))
                ident.add("type", {"passport": "passport", "national_id": "national ID card"}.get(str(doc.get("id_doc_type")), "other"))
                ident.add("country", *v.countries(doc.get("id_doc_country")))
                ident.add("startDate", v.date(doc.get("id_doc_issued")))
                ident.add("endDate", v.date(doc.get("id_doc_expires")))
                entity.add("passportNumber" if passport else "idNumber", doc.get("id_doc_number"))
            for j, pos in enumerate(perp.get("perp_positions") or []):
                path = f"{base}.perp_positions.{j}"
                title, employer = v.known(pos.get("pos_title")), v.known(pos.get("pos_employer"))
                post = b.new("Position", path)
                post.add("name", f"{title}, {employer}" if title and employer else title or employer)
                post.add("country", *v.countries(pos.get("pos_country")))
                if employer:
                    org = b.party(employer, f"{path}.pos_employer", "Organization")
                    if org.schema in ("Organization", "Company", "PublicBody"):
                        post.add("organization", org.id)
                occupancy = b.new("Occupancy", f"{path}.occupancy")
                occupancy.add("holder", entity.id)
                occupancy.add("post", post.id)
                occupancy.add("startDate", v.date(pos.get("pos_from")))
                occupancy.add("endDate", v.date(pos.get("pos_to")))
                if pos.get("pos_current") is not None:
                    occupancy.add("status", "current" if pos.get("pos_current") else "ended")
                entity.add("position", post.properties.get("name", [""])[0])
            for j, rel in enumerate(perp.get("perp_family") or []):
                path = f"{base}.perp_family.{j}"
                relative_name = v.known(rel.get("fam_name"))
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
            entity.add("jurisdiction", *v.countries(perp.get("ent_jurisdiction")))
            entity.add("taxNumber", perp.get("ent_tax_id"))
            entity.add("incorporationDate", v.date(perp.get("ent_incorporated")))
            entity.add("sector", perp.get("ent_sector"))
            for j, owner in enumerate(perp.get("ent_owners") or []):
                path = f"{base}.ent_owners.{j}"
                owner_name = v.known(owner.get("owner_name"))
                if not owner_name:
                    continue
                party = b.party(owner_name, f"{path}.owner_name")
                if party is entity:
                    continue
                role, share = v.known(owner.get("owner_role")), v.known(owner.get("owner_share"))
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
            entity.add("imoNumber", v.imo(perp.get("vessel_imo")))
            entity.add("flag", *v.countries(perp.get("vessel_flag")))
            entity.add("callSign", perp.get("vessel_callsign"))
            entity.add("mmsi", perp.get("vessel_mmsi"))
            operator = v.known(perp.get("vessel_owner_operator"))
            if operator:
                # the question does not say whether they own or operate it: name them as operator
                entity.add("operator", b.party(operator, f"{base}.vessel_owner_operator").id)
    _evidence(b, view, [e for _, _, e in mains])
    return [e.to_dict() for e in b.entities]


def _evidence(b: _Builder, view: DossierCase, perpetrators: list[Entity]) -> None:
    """Each evidence item as a Document (title, date, sourceUrl, file hashes), tied to every
    perpetrator by a Documentation entity; evidence links also become the perpetrators' sourceUrl."""
    for i, ev in enumerate(v.instances(view.answers, "evidence")):
        path = f"evidence.{i}"
        doc = b.new("Document", path)
        kind = v.known(ev.get("ev_type")).replace("_", " ")
        doc.add("title", f"Exhibit E{i + 1}" + (f": {kind}" if kind else ""))
        doc.add("summary", v.long_text(ev.get("ev_description")))
        doc.add("date", v.date(ev.get("ev_date")))
        url = v.known(ev.get("ev_url"))
        doc.add("sourceUrl", url)
        for a in view.attachments:
            if str(a.get("question") or "").startswith(f"{path}."):
                doc.add("fileName", a.get("filename"))
                doc.add("contentHash", a.get("sha256"))
                doc.add("mimeType", a.get("sniffed_type") or a.get("content_type"))
        if "fileName" not in doc.properties:  # required by FtM's Document: the exhibit's label when nothing was attached
            doc.add("fileName", f"exhibit-E{i + 1}")
        for perp in perpetrators:
            perp.add("sourceUrl", url)
            link = b.new("Documentation", f"{path}.documentation.{perp.id}")
            link.add("document", doc.id)
            link.add("entity", perp.id)
            link.add("role", "evidence")


def validate(lines: list[str]) -> list[str]:
    """Problems `followthemoney` finds in FtM JSON lines (unknown schema or property, invalid or
    uncleaned values, missing required properties, dangling references); empty when valid."""
    problems: list[str] = []
    entities = [json.loads(line) for line in lines if line.strip()]
    ids = {e.get("id") for e in entities}
    for e in entities:
        try:
            schema = model.get(e.get("schema") or "")
            if schema is None:
                raise InvalidData(f"unknown schema {e.get('schema')}")
            schema.validate(e)
            proxy = model.get_proxy(e, cleaned=False)
        except InvalidData as exc:
            problems.append(f"{e.get('id')}: {exc}")
            continue
        for name, values in e.get("properties", {}).items():
            prop = schema.get(name)
            if prop is None:
                problems.append(f"{e['id']}: {schema.name} has no property {name}")
                continue
            for value in values:
                if prop.type.clean(value, proxy=proxy) != value:
                    problems.append(f"{e['id']}: {name} value not clean")
                if prop.type.name == "entity" and value not in ids:
                    problems.append(f"{e['id']}: {name} points outside the export")
        missing = [r for r in schema.required if not e.get("properties", {}).get(r)]
        if missing:
            problems.append(f"{e['id']}: {schema.name} lacks {', '.join(sorted(missing))}")
    return problems


def to_ftm(view: DossierCase) -> str:
    """FollowTheMoney entities as JSON lines (one entity a line)."""
    return "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in ftm_entities(view))
