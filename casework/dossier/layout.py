"""Laying a case out as a recommendation dossier (`Document`) in a government's form.

Answers are shown as the review screens show them (labels and display values from the case's
answer summary); junk answers ("not known") are left out. Evidence becomes a numbered exhibit list
(E1, E2, …) with its files' sha256 and custody trail, cited by number from the responsibility
section. Internal notes, the thread, cross-case links and the audit trail come only with
`internal`."""

from __future__ import annotations

import json
from typing import Any

from casework import values as v
from casework.checklist import checklist, labels
from casework.dossier.forms import FORMS
from casework.dossier.model import Block, Document, DossierCase, Envelope, Section, bullets, facts, p, table
from intake.questionnaire import Questionnaire

SUBMITTER = ("contact_name", "contact_email", "contact_secure_channel", "org_attribution")
ORGANISATION = ("org_name", "org_country", "org_description", "partner_orgs", "source_basis")
SUMMARY = ("case_title", "case_summary", "abuse_ongoing")
ABUSE = ("abuse_forms", "victims_minors", "act_elements", "means_used", "ilo_indicators", "violence_or_detention", "abuse_dates",
         "abuse_locations", "victims_count", "victims_count_estimate", "count_basis", "victims_profile", "victims_hrd",
         "diplomatic_household", "dh_mission", "dh_visa", "state_involvement")
ACCOUNTABILITY = ("domestic_proceedings", "why_impunity", "other_mechanisms", "other_mech_detail", "existing_sanctions",
                  "existing_sanctions_detail", "prior_submission", "prior_submission_detail")
NEXUS = ("target_jurisdictions", "nexus_assets", "nexus_assets_detail", "nexus_travel", "nexus_family", "nexus_business",
         "nexus_diplomatic", "impact_argument")
CONFIDENTIALITY = ("consent_status", "consent_limits", "identities_held", "interview_possible", "anonymised_ack", "perp_aware", "risks",
                   "risks_detail", "past_reprisals", "mitigation_needs", "publicity", "immediate_danger")
ROLE = ("perp_role", "perp_role_detail")
NOT_IDENTIFYING = {"perp_role", "perp_role_detail", "perp_photo"}


class Answers:
    """The case's answer lines by path, for picking what each section shows."""

    def __init__(self, case: DossierCase) -> None:
        self.lines = [line for s in case.sections for line in s.get("answers", [])]

    def under(self, prefix: str, skip: set[str] | None = None) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for line in self.lines:
            path = str(line["path"])
            if (path == prefix or path.startswith(prefix + ".")) and line.get("value") and not v.is_junk(line["value"]):
                if skip and path.split(".")[-1] in skip:
                    continue
                kept = "\n".join(part for part in str(line["value"]).splitlines() if not v.is_junk(part))
                if kept:
                    out.append((str(line["label"]), kept))
        return out

    def block(self, qids: tuple[str, ...], title: str = "") -> Block:
        rows: list[tuple[str, str]] = []
        for qid in qids:
            rows += self.under(qid)
        return facts(rows, title)


def exhibits(case: DossierCase) -> list[dict[str, Any]]:
    """Evidence items and files that belong to no item, numbered E1, E2, … with their files."""
    files = list(case.attachments)
    out: list[dict[str, Any]] = []
    for i, ev in enumerate(v.instances(case.answers, "evidence")):
        own = [a for a in files if str(a.get("question") or "").startswith(f"evidence.{i}.")]
        out.append({"number": f"E{len(out) + 1}", "type": v.text(ev.get("ev_type")).replace("_", " "),
                    "description": v.known(ev.get("ev_description")), "origin": v.known(ev.get("ev_origin")), "date": v.date(ev.get("ev_date")),
                    "url": v.known(ev.get("ev_url")), "shareable": v.text(ev.get("ev_shareable")), "files": own})
    for a in files:
        if not str(a.get("question") or "").startswith("evidence.") and not str(a.get("question") or "").startswith("perpetrators."):
            out.append({"number": f"E{len(out) + 1}", "type": "file", "description": str(a.get("filename") or ""), "origin": "sent by the submitter",
                        "date": "", "url": "", "shareable": "", "files": [a]})
    return out


def custody(a: dict[str, Any]) -> str:
    return f"received via {a.get('source')} on {str(a.get('created_at'))[:19]}; stored encrypted; sha256 verified at export"


def _exhibit_rows(items: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for e in items:
        sums = "; ".join(f"{f.get('filename')}: {f.get('sha256')}" for f in e["files"]) or (e["url"] or "described, not attached")
        trail = "; ".join(custody(f) for f in e["files"]) or ("online source" if e["url"] else "held by the submitter")
        rows.append([e["number"], e["type"], e["description"], e["origin"], e["date"], sums, trail])
    return rows


def _perp_title(i: int, perp: dict[str, Any]) -> str:
    kind = v.text(perp.get("perp_kind")).replace("_", " ")
    return f"{i}. {v.known(perp.get('perp_name')) or 'unnamed'}" + (f" ({kind})" if kind else "")


def build(case: DossierCase, q: Questionnaire, envelope: Envelope, *, jurisdiction: str = "us", internal: bool = False,
          screening: dict[str, Any] | None = None, links: dict[str, Any] | None = None) -> Document:
    """The dossier of `case` in `jurisdiction`'s form (see the module docstring)."""
    form = FORMS[jurisdiction]
    ans = Answers(case)
    perps = v.instances(case.answers, "perpetrators")
    items = exhibits(case)
    cites = ", ".join(e["number"] for e in items) or "none"
    content: dict[str, list[Block]] = {
        "submitter": [ans.block(SUBMITTER)],
        "organisation": [ans.block(ORGANISATION)],
        "targets": [facts(ans.under(f"perpetrators.{i - 1}", NOT_IDENTIFYING), _perp_title(i, perp)) for i, perp in enumerate(perps, 1)],
        "summary": [ans.block(SUMMARY)],
        "abuse": [ans.block(ABUSE)],
        "responsibility": [
            Block("facts", facts=[*ans.under(f"perpetrators.{i - 1}.perp_role"), *ans.under(f"perpetrators.{i - 1}.perp_role_detail"),
                                  ("Exhibits", cites)], title=_perp_title(i, perp))
            for i, perp in enumerate(perps, 1)
        ],
        "evidence": [table(["No.", "Type", "Description", "Origin", "Date", "Files (sha256) or link", "Custody"], _exhibit_rows(items)),
                     ans.block(("corroboration",), "Corroboration")],
        "exculpatory": [ans.block(("exculpatory",))],
        "accountability": [ans.block(ACCOUNTABILITY)],
        "nexus": [ans.block(NEXUS)],
        "confidentiality": [ans.block(CONFIDENTIALITY)],
    }
    sections = [Section(key, form.names[key], content[key]) for key in form.order]

    result = checklist(q, case.answers)
    sections.append(Section("checklist", "Designation checklist", [
        p(f"{result.score} of {2 * len(result.elements)} points; " + ("every element met." if result.ready else "not every element is met.")),
        table(["Element", "Status", "Reason", "Decided by"], [[e.title, e.status, e.reason, ", ".join(labels(q, e.answers))] for e in result.elements]),
    ]))
    if screening is not None:
        rows = [[str(perp["index"]), perp["name"], c["caption"], c["entity_id"], f"{c['score']:.2f}", "yes" if c["match"] else "no",
                 ", ".join(c["datasets"]), c["explanation"].get("decision") or ""]
                for perp in screening["perpetrators"] for c in perp["candidates"]]
        sections.append(Section("screening", "Screening against sanctions lists",
                                [table(["#", "Perpetrator", "Listed as", "Entity", "Score", "Match", "Lists", "Staff decision"], rows)
                                 if rows else p("No candidate on the lists screened.")]))
    if internal:
        extra: list[Block] = []
        if links is not None and links["links"]:
            extra.append(table(["#", "Other case", "Their #", "Score", "Match"], [[str(x["perpetrator"]), x["other_reference"], str(x["other_perpetrator"]),
                                                                             f"{x['score']:.2f}", "yes" if x["match"] else "no"] for x in links["links"]],
                               "Same perpetrator in other cases"))
        extra.append(bullets([f"{n['created_at'][:19]} {n.get('author') or ''}: {n['body']}" for n in case.notes] or ["None."], "Internal notes"))
        extra.append(bullets([f"{m['created_at'][:19]} {m['direction']} {m['kind']} via {m['channel']}: {m['body']}" for m in case.thread]
                             or ["No messages."], "Thread"))
        extra.append(table(["At", "Action", "Actor", "From", "Detail"], [
            [str(e["at"])[:19], str(e["action"]), f"{e['actor_kind']} {e.get('actor') or ''}".strip(), str(e.get("remote") or ""),
             json.dumps(e.get("detail") or {}, ensure_ascii=False, sort_keys=True) if e.get("detail") else ""] for e in case.audit
        ], "Audit trail"))
        sections.append(Section("internal", "Internal (staff only)", extra))

    return Document(
        title=form.title,
        subtitle=form.authority,
        facts=[("Case reference", case.reference), ("Status", case.status), ("Questionnaire", case.questionnaire),
               ("Submitted", case.submitted_at or "-"), ("Prepared", f"{envelope.exported_at.isoformat()} by {envelope.exported_by}"),
               ("Form", f"{form.code.upper()}: {form.country}")],
        notice="Confidential: this dossier may identify victims, witnesses and the people who submitted it. Allegations are the "
               "submitter's and have not been verified" + ("." if not internal else "; internal sections are for staff only."),
        sections=sections,
    )
