"""Answer dicts (as the engine stores them) for the casework tests: a strong case, a thin one."""

from __future__ import annotations

from typing import Any

STRONG: dict[str, Any] = {
    "consent_status": "written", "immediate_danger": False, "anonymised_ack": True, "risks": ["survivors"],
    "mitigation_needs": "Delay publication until the survivors have left the country.",
    "abuse_forms": ["forced_labour", "debt_bondage"], "violence_or_detention": True,
    "means_used": ["threats", "force"], "ilo_indicators": ["retention_of_documents", "withholding_wages", "violence"],
    "victims_minors": "no",
    "perpetrators": [
        {"perp_kind": "person", "perp_name": "Ivan Petrov", "perp_name_native": "Иван Петров", "perp_dob": {"date": "1970-03-02", "approx": False},
         "perp_nationality": ["RU"], "perp_gender": "male",
         "perp_id_docs": [{"id_doc_type": "passport", "id_doc_number": "AB1234567", "id_doc_country": "RU"}],
         "perp_role": ["ordered", "profited"],
         "perp_role_detail": "Seen giving orders to the guards on the boats, and signed the crew contracts himself."},
        {"perp_kind": "vessel", "perp_name": "Sea Star", "vessel_imo": "9074729", "vessel_flag": "TH", "perp_role": ["direct"]},
    ],
    "evidence": [
        {"ev_type": "survivor_testimony", "ev_description": "Interview", "ev_origin": "a former deckhand", "ev_shareable": "yes",
         "ev_file": ["att1"], "ev_identifies_people": False},
        {"ev_type": "contract", "ev_description": "Crew contract", "ev_origin": "a partner NGO", "ev_shareable": "redacted",
         "ev_url": "https://example.org/contract.pdf", "ev_identifies_people": False},
    ],
    "corroboration": "The deckhand's account matches the contract's wage terms and dates.",
    "abuse_dates": {"start": {"date": "2019-01", "approx": False}, "end": {"date": "2021-06", "approx": False}, "ongoing": False},
    "abuse_locations": [{"loc_country": "TH", "loc_place": "Songkhla", "loc_type": "vessel"}],
    "domestic_proceedings": "A police complaint in 2021 was closed without investigation.",
    "why_impunity": "The owner is protected by the provincial police chief.",
    "target_jurisdictions": ["us", "uk"], "nexus_assets": ["uk"], "nexus_business": "Exports tuna to a UK importer.",
}

THIN: dict[str, Any] = {
    "consent_status": "partial", "immediate_danger": True, "anonymised_ack": False,
    "abuse_forms": ["other"], "violence_or_detention": False, "means_used": ["none_known"], "ilo_indicators": [],
    "victims_minors": "unknown",
    "perpetrators": [{"perp_kind": "person", "perp_name": "not known", "perp_role": ["direct"], "perp_role_detail": "boss"}],
    "evidence": [{"ev_type": "survivor_testimony", "ev_description": "notes", "ev_origin": "us", "ev_shareable": "no"}],
    "corroboration": "none",
    "abuse_dates": {"start": {"date": "2022", "approx": True}, "end": None, "ongoing": True},
    "domestic_proceedings": "",
    "target_jurisdictions": ["dont_know"],
}
