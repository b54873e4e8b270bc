"""Matching perpetrators against list entities and against each other.

Entities are FollowTheMoney proxies; scoring is nomenklatura's `LogicV2` (the algorithm yente
uses: names compared across scripts and word orders with legal forms set aside, then raised by
identifiers — ID numbers, registration numbers, IMO — and lowered by disagreeing dates of birth,
countries and gender). Before scoring, every name is also added in Latin letters (ICU
transliteration through `normality`), so names written in Chinese or Arabic script meet their
romanised spellings. Blocking keys (name tokens, their phonetic and consonant forms, identifiers)
find candidates in an index without holding every entity in memory."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from followthemoney import EntityProxy, model
from nomenklatura.matching import LogicV2, ScoringConfig
from normality import ascii_text
from rigour.names import remove_org_types, tokenize_name
from rigour.text.phonetics import metaphone

from casework import values as v

THRESHOLD = 0.7  # yente's default cut-off for a match
SCHEMA_OF_KIND = {"person": "Person", "company": "Company", "organisation": "Organization", "state_body": "PublicBody", "vessel": "Vessel"}
NAME_PROPS = ("name", "alias", "weakAlias", "previousName")
ID_PROPS = ("idNumber", "passportNumber", "registrationNumber", "taxNumber", "imoNumber", "mmsi", "innCode", "ogrnCode", "leiCode")
_STOP = {"al", "el", "bin", "ibn", "abu", "de", "van", "von", "der", "la", "le", "the", "and", "of", "co", "company", "group", "limited",
         "ltd", "inc", "llc", "ooo", "oao", "zao", "pao", "jsc", "plc", "gmbh", "sa", "srl", "bv", "corp", "corporation"}


@dataclass
class Verdict:
    score: float
    match: bool
    explanation: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _config() -> ScoringConfig:
    return LogicV2.default_config()


def perpetrator_entity(perp: dict[str, Any], entity_id: str) -> EntityProxy:
    """A FollowTheMoney entity for one perpetrator answer group (junk values left out)."""
    entity = model.make_entity(SCHEMA_OF_KIND.get(str(perp.get("perp_kind")), "LegalEntity"))
    entity.id = entity_id

    def add(prop: str, *values: Any) -> None:
        for value in values:
            text = v.known(value)
            if text and entity.schema.get(prop) is not None:
                entity.add(prop, text, quiet=True)

    add("name", perp.get("perp_name"))
    add("alias", perp.get("perp_name_native"), *v.lines(perp.get("perp_aliases")))
    if entity.schema.is_a("Person"):
        add("birthDate", v.date(perp.get("perp_dob")))
        add("nationality", *v.countries(perp.get("perp_nationality")))
        add("birthCountry", *v.countries(perp.get("perp_birth_country")))
        if perp.get("perp_gender") in ("male", "female", "other"):
            add("gender", perp.get("perp_gender"))
        for doc in perp.get("perp_id_docs") or []:
            if isinstance(doc, dict):
                add("passportNumber" if doc.get("id_doc_type") == "passport" else "idNumber", doc.get("id_doc_number"))
    add("registrationNumber", perp.get("ent_reg_number"))
    add("taxNumber", perp.get("ent_tax_id"))
    add("jurisdiction", *v.countries(perp.get("ent_jurisdiction")))
    add("imoNumber", v.imo(perp.get("vessel_imo")))
    add("mmsi", perp.get("vessel_mmsi"))
    add("flag", *v.countries(perp.get("vessel_flag")))
    return entity


def names(entity: EntityProxy) -> list[str]:
    out: list[str] = []
    for prop in NAME_PROPS:
        if entity.schema.get(prop) is not None:
            out += [n for n in entity.get(prop, quiet=True) if n not in out]
    return out


def latin(text: str) -> str:
    """The name in Latin letters (ICU transliteration), lower case, legal forms removed."""
    return " ".join(remove_org_types((ascii_text(text) or "").lower()).split())


def with_latin_names(entity: EntityProxy) -> EntityProxy:
    """A copy of `entity` whose names are also given in Latin letters (as aliases)."""
    out = entity.clone()
    for name in names(entity):
        romanised = ascii_text(name) or ""
        if romanised and romanised.casefold() != name.casefold() and out.schema.get("alias") is not None:
            out.add("alias", romanised, quiet=True)
    return out


def skeleton(token: str) -> str:
    """Consonant skeleton of a romanised token (`qadhafi`, `gaddafi` → `kdf`), for blocking only."""
    t = re.sub(r"^(al|el)(?=\w{4})", "", token)
    t = re.sub("[qgck]", "k", t)
    t = re.sub("[zs]", "s", t.replace("v", "f").replace("ph", "f"))
    t = re.sub("[aeiouyhw]", "", t)
    return re.sub(r"(.)\1+", r"\1", t)


def identifier_keys(entity: EntityProxy) -> set[str]:
    keys = set()
    for prop in ID_PROPS:
        if entity.schema.get(prop) is not None:
            for value in entity.get(prop, quiet=True):
                norm = v.identifier(value).removeprefix("IMO")
                if len(norm) >= 5:
                    keys.add(f"id:{norm}")
    return keys


def blocking_keys(entity: EntityProxy) -> set[str]:
    """Keys under which an index files the entity: romanised name tokens (`n:`), their
    metaphone (`p:`) and consonant skeleton (`k:`), and normalised identifiers (`id:`)."""
    keys = identifier_keys(entity)
    for name in names(entity):
        for token in tokenize_name(latin(name)):
            if len(token) < 2 or token in _STOP or token.isdigit() and len(token) < 4:
                continue
            keys.add(f"n:{token}")
            if not token.isdigit():
                keys.add(f"p:{metaphone(token)}")
                if len(sk := skeleton(token)) >= 2:
                    keys.add(f"k:{sk}")
    return {k[:64] for k in keys}


STRONG_IDS = ("imoNumber", "passportNumber", "registrationNumber", "mmsi")
ID_MISMATCH = 0.3


def identifier_mismatch(query: EntityProxy, candidate: EntityProxy) -> str | None:
    """The strong identifier both entities give with no value in common (two ships with
    different IMO numbers are two ships, whatever their names), or None."""
    for prop in STRONG_IDS:
        if query.schema.get(prop) is None or candidate.schema.get(prop) is None:
            continue
        mine = {v.identifier(x).removeprefix("IMO") for x in query.get(prop, quiet=True)} - {""}
        theirs = {v.identifier(x).removeprefix("IMO") for x in candidate.get(prop, quiet=True)} - {""}
        if mine and theirs and not mine & theirs:
            return prop
    return None


SKELETON_SCORE = 0.75  # a cross-script name whose romanised consonant skeleton is identical


def name_skeleton(name: str) -> str:
    """The consonant skeleton of a romanised name, word breaks ignored (`عبد الله الراشد`,
    `Abdullah Al-Rashid` → `bdlrsd`)."""
    tokens = [t for t in tokenize_name(re.sub(r"[^a-z0-9 ]", " ", latin(name))) if t]
    return re.sub(r"(.)\1+", r"\1", "".join(skeleton(t) for t in tokens))


def cross_script_skeleton(query: EntityProxy, candidate: EntityProxy) -> str | None:
    """A pair of names, one in a non-Latin script, that agree letter-skeleton for letter-skeleton
    once romanised (vowels are where transliterations of Arabic or Persian differ most), or None."""
    def split(entity: EntityProxy) -> tuple[set[str], set[str]]:
        native = {name_skeleton(n) for n in names(entity) if not n.isascii()}
        romanised = {name_skeleton(n) for n in names(entity) if n.isascii()}
        return native, romanised

    qn, ql = split(query)
    cn, cl = split(candidate)
    for sk in (qn & cl) | (cn & ql):
        if len(sk) >= 5:
            return sk
    return None


def _qualifier_penalty(explanations: dict[str, Any]) -> float:
    weights = {f.name: f.weight for f in LogicV2.features if f.qualifier}
    return float(sum(weights[k] * f.score for k, f in explanations.items() if k in weights))


def compare(query: EntityProxy, candidate: EntityProxy, threshold: float = THRESHOLD) -> Verdict:
    """Score `candidate` against `query` (0–1) with the features that decided it: nomenklatura's
    logic-v2, lowered by `ID_MISMATCH` when a strong identifier disagrees."""
    if not query.schema.can_match(candidate.schema) and not candidate.schema.can_match(query.schema):
        return Verdict(0.0, False, {"schema": {"score": 0.0, "detail": f"{query.schema.name} cannot match {candidate.schema.name}"}})
    result = LogicV2.compare(with_latin_names(query), with_latin_names(candidate), _config())
    explanation = {name: {"score": round(f.score, 4), "detail": f.detail} for name, f in result.explanations.items()}
    raw = result.score
    if raw < SKELETON_SCORE and cross_script_skeleton(query, candidate) is not None:
        boosted = SKELETON_SCORE + _qualifier_penalty(result.explanations)
        if boosted > raw:
            raw = boosted
            explanation["romanised_skeleton_match"] = {"score": 1.0, "detail": "names agree once romanised"}
    if raw > 0 and (prop := identifier_mismatch(query, candidate)) is not None:
        raw -= ID_MISMATCH
        explanation["identifier_mismatch"] = {"score": 1.0, "detail": f"different {prop}"}
    score = round(max(0.0, min(1.0, raw)), 4)
    return Verdict(score, score >= threshold, explanation)


def entity_from_dict(data: dict[str, Any]) -> EntityProxy:
    """An entity from its FtM JSON form (unknown properties dropped)."""
    return model.get_proxy({"id": data.get("id"), "schema": data.get("schema"), "properties": data.get("properties") or {}}, cleaned=False)
