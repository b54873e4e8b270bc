"""The designation checklist on two contrasting cases and on the edges of each element."""

from __future__ import annotations

import copy

from casework.checklist import checklist, labels
from intake.questionnaire import load_default
from tests.casework.answers import STRONG, THIN

Q = load_default()


def statuses(answers: dict) -> dict[str, str]:
    return {e.id: e.status for e in checklist(Q, answers).elements}


def test_strong_case_meets_every_element() -> None:
    result = checklist(Q, STRONG)
    assert statuses(STRONG) == {e.id: "met" for e in result.elements}
    assert result.ready and result.score == 20 and result.to_reopen() == []
    ident = next(e for e in result.elements if e.id == "identifiable_perpetrator")
    assert ident.answers == ["perpetrators.0.perp_name", "perpetrators.0.perp_dob", "perpetrators.0.perp_id_docs.0.id_doc_number",
                             "perpetrators.1.perp_name", "perpetrators.1.vessel_imo"]
    assert labels(Q, ident.answers[:2]) == ["Name (alleged perpetrator 1)", "Date of birth (alleged perpetrator 1)"]


def test_thin_case_is_missing_or_weak_with_reasons() -> None:
    result = checklist(Q, THIN)
    assert statuses(THIN) == {
        "serious_abuse": "missing", "coercion": "missing", "identifiable_perpetrator": "missing", "perpetrator_link": "weak",
        "shareable_evidence": "missing", "corroboration": "missing", "dates_and_places": "weak", "accountability_gap": "missing",
        "nexus": "missing", "consent_and_risk": "weak",
    }
    consent = next(e for e in result.elements if e.id == "consent_and_risk")
    assert consent.reason == "consent from some only; someone is in immediate danger; attachments not confirmed anonymised"
    assert not result.ready and result.score == 3
    reopen = result.to_reopen()
    assert reopen[:2] == ["abuse_forms", "violence_or_detention"] and "perp_dob" in reopen and len(reopen) == len(set(reopen))
    assert set(reopen) <= set(Q.items_by_id())


def test_each_element_moves_with_its_answers() -> None:
    a = copy.deepcopy(STRONG)
    a["perpetrators"][0]["perp_dob"]["approx"] = True
    a["perpetrators"][0]["perp_id_docs"] = []
    a["perpetrators"].pop(1)
    assert statuses(a)["identifiable_perpetrator"] == "weak"
    a["victims_minors"], a["means_used"], a["ilo_indicators"] = "yes", [], []
    assert statuses(a)["coercion"] == "met"
    a["consent_status"] = "no"
    assert statuses(a)["consent_and_risk"] == "missing"
    a["evidence"] = a["evidence"][:1]
    assert statuses(a)["corroboration"] == "weak"
    a["perpetrators"][0]["perp_role_detail"] = "not known"
    assert statuses(a)["perpetrator_link"] == "weak"
    assert checklist(Q, {}).score == 0
