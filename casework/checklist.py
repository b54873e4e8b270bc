"""The designation checklist: a pure function of a case's answers.

Each element a designation package needs is `met`, `weak` or `missing`, with the reason and the
answer paths that decided it, and the question ids a follow-up request would reopen. No I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from casework import values as v
from intake.questionnaire import Question, Questionnaire

Status = Literal["met", "weak", "missing"]
POINTS = {"met": 2, "weak": 1, "missing": 0}
REAL_FORMS = {"forced_labour", "sex_trafficking", "child_sex_trafficking", "domestic_servitude", "debt_bondage",
              "forced_child_labour", "child_soldiers", "forced_marriage", "organ_removal", "forced_criminality"}
MIN_DETAIL = 40  # characters of "what links them to the abuse" that count as a detail, not a word


@dataclass
class Element:
    id: str
    title: str
    status: Status
    reason: str
    answers: list[str] = field(default_factory=list)  # answer paths that decided it
    reopen: list[str] = field(default_factory=list)  # question ids a follow-up would reopen


@dataclass
class Checklist:
    elements: list[Element]

    @property
    def score(self) -> int:
        """Points towards a complete package (met 2, weak 1): the queue's "closest to ready" sort key."""
        return sum(POINTS[e.status] for e in self.elements)

    @property
    def ready(self) -> bool:
        return all(e.status == "met" for e in self.elements)

    def to_reopen(self) -> list[str]:
        """Question ids to reopen for every weak or missing element, in checklist order."""
        out: list[str] = []
        for e in self.elements:
            if e.status != "met":
                out += [q for q in e.reopen if q not in out]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "max_score": 2 * len(self.elements), "ready": self.ready,
                "elements": [asdict(e) for e in self.elements]}


def serious_abuse(a: dict[str, Any]) -> Element:
    forms = v.choices(a.get("abuse_forms"))
    real = [f for f in forms if f in REAL_FORMS]
    harmed = a.get("violence_or_detention")
    paths = [p for p, ok in (("abuse_forms", bool(forms)), ("violence_or_detention", harmed is not None)) if ok]
    if real and harmed is True:
        return Element("serious_abuse", "Serious abuse", "met", f"{len(real)} form(s) of trafficking with violence or detention", paths)
    if real:
        return Element("serious_abuse", "Serious abuse", "weak", "forms of trafficking named, but no violence or detention reported",
                       paths, ["violence_or_detention", "case_summary"])
    return Element("serious_abuse", "Serious abuse", "missing", "no recognised form of trafficking named", paths,
                   ["abuse_forms", "violence_or_detention"])


def coercion(a: dict[str, Any]) -> Element:
    means = [m for m in v.choices(a.get("means_used")) if m != "none_known"]
    ilo = v.choices(a.get("ilo_indicators"))
    minors = a.get("victims_minors") == "yes"
    paths = [q for q, ok in (("means_used", bool(means)), ("ilo_indicators", bool(ilo)), ("victims_minors", minors)) if ok]
    if minors:
        return Element("coercion", "Coercion shown", "met", "victims include minors (no means needed)", paths)
    if means and len(ilo) >= 2:
        return Element("coercion", "Coercion shown", "met", f"{len(means)} means of control and {len(ilo)} ILO indicators", paths)
    if means or ilo:
        return Element("coercion", "Coercion shown", "weak", "means of control or ILO indicators only partly shown", paths,
                       ["means_used", "ilo_indicators"])
    return Element("coercion", "Coercion shown", "missing", "no means of control, ILO indicator or child victims", paths,
                   ["means_used", "ilo_indicators", "victims_minors"])


def strong_identifiers(perp: dict[str, Any], base: str) -> list[str]:
    """Paths of a perpetrator's strong identifiers: exact date of birth, ID document number,
    registration or tax number, IMO or MMSI."""
    found = []
    dob = v.date(perp.get("perp_dob"))
    if dob and not v.approx(perp.get("perp_dob")):
        found.append(f"{base}.perp_dob")
    for j, doc in enumerate(perp.get("perp_id_docs") or []):
        if isinstance(doc, dict) and v.known(doc.get("id_doc_number")):
            found.append(f"{base}.perp_id_docs.{j}.id_doc_number")
    for qid in ("ent_reg_number", "ent_tax_id", "vessel_imo", "vessel_mmsi"):
        if v.known(perp.get(qid)):
            found.append(f"{base}.{qid}")
    return found


def identifiable_perpetrator(a: dict[str, Any]) -> Element:
    named, strong = [], []
    for i, perp in enumerate(v.instances(a, "perpetrators")):
        base = f"perpetrators.{i}"
        if not v.known(perp.get("perp_name")):
            continue
        named.append(f"{base}.perp_name")
        ids = strong_identifiers(perp, base)
        if ids:
            strong += [f"{base}.perp_name", *ids]
    reopen = ["perp_dob", "perp_id_docs", "ent_reg_number", "vessel_imo", "perp_id_sources"]
    if strong:
        n = len({p.split(".")[1] for p in strong})
        return Element("identifiable_perpetrator", "Identifiable perpetrator", "met", f"{n} named perpetrator(s) with a strong identifier", strong)
    if named:
        return Element("identifiable_perpetrator", "Identifiable perpetrator", "weak",
                       "named, but no date of birth, ID document, registration number or IMO", named, reopen)
    return Element("identifiable_perpetrator", "Identifiable perpetrator", "missing", "no perpetrator with a usable name", [],
                   ["perp_name", *reopen])


def perpetrator_link(a: dict[str, Any]) -> Element:
    full, partial = [], []
    for i, perp in enumerate(v.instances(a, "perpetrators")):
        base = f"perpetrators.{i}"
        role = v.choices(perp.get("perp_role"))
        detail = v.long_text(perp.get("perp_role_detail"))
        if role and len(detail) >= MIN_DETAIL:
            full += [f"{base}.perp_role", f"{base}.perp_role_detail"]
        elif role or detail:
            partial += [f"{base}.perp_role"] if role else [f"{base}.perp_role_detail"]
    if full:
        return Element("perpetrator_link", "Link between perpetrator and abuse", "met", "role and a detailed account of the link", full)
    if partial:
        return Element("perpetrator_link", "Link between perpetrator and abuse", "weak", "role given without a detailed account",
                       partial, ["perp_role_detail"])
    return Element("perpetrator_link", "Link between perpetrator and abuse", "missing", "no role or link described", [],
                   ["perp_role", "perp_role_detail"])


def shareable_evidence(a: dict[str, Any]) -> Element:
    full, redacted, described = [], [], []
    for i, ev in enumerate(v.instances(a, "evidence")):
        path = f"evidence.{i}.ev_shareable"
        held = bool(ev.get("ev_file")) or bool(v.known(ev.get("ev_url")))
        if ev.get("ev_shareable") == "yes" and held:
            full.append(path)
        elif ev.get("ev_shareable") in ("yes", "redacted"):
            redacted.append(path)
        elif ev:
            described.append(path)
    if full:
        return Element("shareable_evidence", "Shareable evidence", "met", f"{len(full)} item(s) attached or online and shareable", full)
    if redacted:
        return Element("shareable_evidence", "Shareable evidence", "weak", "shareable only redacted, or not yet attached", redacted,
                       ["ev_file", "ev_url", "ev_shareable"])
    return Element("shareable_evidence", "Shareable evidence", "missing", "no evidence that can be shared with governments", described,
                   ["evidence", "ev_shareable"])


def corroboration(a: dict[str, Any]) -> Element:
    items = v.instances(a, "evidence")
    kinds = {str(ev.get("ev_type")) for ev in items if ev.get("ev_type")}
    text = v.long_text(a.get("corroboration"), min_chars=20)
    paths = [f"evidence.{i}.ev_type" for i, ev in enumerate(items) if ev.get("ev_type")] + (["corroboration"] if text else [])
    if len(items) >= 2 and len(kinds) >= 2 and text:
        return Element("corroboration", "Corroboration", "met", f"{len(items)} items of {len(kinds)} kinds, and how they agree", paths)
    if len(items) >= 2 or text:
        return Element("corroboration", "Corroboration", "weak", "a single kind of source, or no account of how sources agree", paths,
                       ["evidence", "corroboration"])
    return Element("corroboration", "Corroboration", "missing", "one source and no corroboration", paths, ["evidence", "corroboration"])


def dates_and_places(a: dict[str, Any]) -> Element:
    start = v.date(a.get("abuse_dates"))
    places = [f"abuse_locations.{i}.loc_country" for i, loc in enumerate(v.instances(a, "abuse_locations")) if v.countries(loc.get("loc_country"))]
    paths = (["abuse_dates"] if start else []) + places
    if start and places:
        return Element("dates_and_places", "Dates and places", "met", f"from {start}, {len(places)} place(s)", paths)
    if start or places:
        return Element("dates_and_places", "Dates and places", "weak", "dates or places missing", paths, ["abuse_dates", "abuse_locations"])
    return Element("dates_and_places", "Dates and places", "missing", "no dates and no places", [], ["abuse_dates", "abuse_locations"])


def accountability_gap(a: dict[str, Any]) -> Element:
    # "none" is a meaningful answer here (no proceedings took place), so only emptiness is missing
    proceedings = v.text(a.get("domestic_proceedings"))
    why = v.long_text(a.get("why_impunity"))
    paths = [q for q, ok in (("domestic_proceedings", bool(proceedings)), ("why_impunity", bool(why))) if ok]
    if proceedings and why:
        return Element("accountability_gap", "Accountability gap", "met", "domestic action described and why it failed", paths)
    if proceedings:
        return Element("accountability_gap", "Accountability gap", "weak", "no reason given for impunity", paths, ["why_impunity"])
    return Element("accountability_gap", "Accountability gap", "missing", "nothing said about domestic accountability", paths,
                   ["domestic_proceedings", "why_impunity"])


NEXUS = ("nexus_assets", "nexus_assets_detail", "nexus_travel", "nexus_family", "nexus_business", "nexus_diplomatic")


def nexus(a: dict[str, Any]) -> Element:
    targets = [t for t in v.choices(a.get("target_jurisdictions")) if t != "dont_know"]
    links = [q for q in NEXUS if (v.choices(a.get(q)) if q == "nexus_assets" else v.long_text(a.get(q)))]
    paths = (["target_jurisdictions"] if targets else []) + links
    if targets and links:
        return Element("nexus", "Nexus with a sanctioning jurisdiction", "met", f"{len(targets)} target government(s), {len(links)} link(s)", paths)
    if targets or links:
        return Element("nexus", "Nexus with a sanctioning jurisdiction", "weak", "targets named without assets, travel or business there",
                       paths, ["nexus_assets", "nexus_travel", "nexus_business"])
    return Element("nexus", "Nexus with a sanctioning jurisdiction", "missing", "no target government and no link", [],
                   ["target_jurisdictions", *NEXUS])


def consent_and_risk(a: dict[str, Any]) -> Element:
    consent = a.get("consent_status")
    danger = a.get("immediate_danger")
    anonymised = a.get("anonymised_ack")
    paths = [q for q in ("consent_status", "immediate_danger", "anonymised_ack", "risks") if a.get(q) is not None]
    if consent in (None, "no"):
        return Element("consent_and_risk", "Consent and risk cleared", "missing", "no consent from the people concerned", paths,
                       ["consent_status", "consent_limits"])
    problems = []
    if consent == "partial":
        problems.append("consent from some only")
    if danger is True:
        problems.append("someone is in immediate danger")
    if anonymised is not True:
        problems.append("attachments not confirmed anonymised")
    if "none_known" not in v.choices(a.get("risks")) and v.choices(a.get("risks")) and not v.long_text(a.get("mitigation_needs")):
        problems.append("people at risk without safety measures")
    if problems:
        return Element("consent_and_risk", "Consent and risk cleared", "weak", "; ".join(problems), paths,
                       ["consent_status", "anonymised_ack", "risks_detail", "mitigation_needs"])
    return Element("consent_and_risk", "Consent and risk cleared", "met", "consent given, risks known and handled", paths)


ELEMENTS: list[Callable[[dict[str, Any]], Element]] = [
    serious_abuse, coercion, identifiable_perpetrator, perpetrator_link, shareable_evidence, corroboration,
    dates_and_places, accountability_gap, nexus, consent_and_risk,
]


def checklist(q: Questionnaire, answers: dict[str, Any]) -> Checklist:
    """Every designation element of the case, from its answers only (no I/O, no clock).
    Reopen lists are kept to question ids that exist in `q`."""
    known_ids = set(q.items_by_id())
    elements = []
    for rule in ELEMENTS:
        element = rule(answers)
        element.reopen = [qid for qid in element.reopen if qid in known_ids]
        elements.append(element)
    return Checklist(elements)


def labels(q: Questionnaire, paths: list[str]) -> list[str]:
    """Short English labels of answer paths (`perpetrators.0.perp_dob` → `Date of birth (alleged perpetrator 1)`)."""
    out = []
    for path in paths:
        parts = path.split(".")
        item = q.items_by_id().get(next((p for p in reversed(parts) if not p.isdigit()), ""))
        label = item.short("en") if isinstance(item, Question) else (item.text.get("en") if item else path)
        nums = [int(p) + 1 for p in parts if p.isdigit()]
        group = q.items_by_id().get(parts[0])
        where = group.text.get("en").lower() if group is not None and not isinstance(group, Question) else parts[0]
        out.append(f"{label} ({where} {nums[0]})" if nums else label)
    return out
