"""Each government's submission form: its title, the names of its sections and their order.

The content of a section is the same whatever the form (built in `casework.dossier.layout`);
only what it is called and where it comes differ, as on the forms NGOs fill in: the Global
Magnitsky submission template Human Rights First publishes (US), the UK Global Human Rights
sanctions regime, Canada's Sergei Magnitsky Law and SEMA, Australia's thematic Magnitsky-style
sanctions, and the EU Global Human Rights Sanctions Regime."""

from __future__ import annotations

from dataclasses import dataclass

JURISDICTIONS = ("us", "uk", "ca", "au", "eu")
SECTION_KEYS = ("submitter", "organisation", "targets", "summary", "abuse", "responsibility", "evidence", "exculpatory",
                "accountability", "nexus", "confidentiality")


@dataclass(frozen=True)
class Form:
    code: str
    title: str
    authority: str
    country: str  # for "links to …" wording
    order: tuple[str, ...]
    names: dict[str, str]


_BASE = {
    "submitter": "Submitter and point of contact",
    "organisation": "Submitting organisation and its link to the information",
    "targets": "Recommended persons and entities",
    "summary": "Summary",
    "abuse": "The abuse in detail",
    "responsibility": "Responsibility of each recommended person or entity",
    "evidence": "Evidence and corroboration",
    "exculpatory": "Exculpatory information",
    "accountability": "Other accountability tried",
    "nexus": "Links to the sanctioning jurisdiction and expected impact",
    "confidentiality": "Confidentiality and risk",
}

FORMS = {
    "us": Form("us", "Global Magnitsky sanctions submission", "U.S. Department of the Treasury (OFAC) and Department of State — "
               "Global Magnitsky Human Rights Accountability Act, Executive Order 13818", "the United States",
               SECTION_KEYS, {**_BASE, "submitter": "Point of contact", "organisation": "Submitting organization",
                              "targets": "Recommended individual(s) and entity(ies)", "summary": "Summary of the case",
                              "abuse": "Description of the serious human rights abuse", "responsibility": "Role of each recommended person",
                              "nexus": "U.S. nexus and expected impact of designation", "accountability": "Other accountability efforts"}),
    "uk": Form("uk", "UK Global Human Rights sanctions: proposed designation", "Foreign, Commonwealth & Development Office — "
               "Global Human Rights Sanctions Regulations 2020", "the United Kingdom",
               ("submitter", "organisation", "summary", "targets", "abuse", "responsibility", "evidence", "exculpatory", "accountability",
                "nexus", "confidentiality"),
               {**_BASE, "targets": "Proposed designated persons", "abuse": "The serious human rights violation",
                "responsibility": "Involvement of each proposed designated person", "evidence": "Supporting evidence",
                "nexus": "UK nexus and purpose of designation"}),
    "ca": Form("ca", "Magnitsky sanctions submission to Canada", "Global Affairs Canada — Justice for Victims of Corrupt Foreign "
               "Officials Act (Sergei Magnitsky Law) and Special Economic Measures Act", "Canada",
               ("submitter", "organisation", "targets", "summary", "abuse", "responsibility", "evidence", "exculpatory", "accountability",
                "nexus", "confidentiality"),
               {**_BASE, "targets": "Foreign nationals recommended for listing", "abuse": "Gross violations of internationally recognized human rights",
                "nexus": "Links to Canada and expected impact"}),
    "au": Form("au", "Thematic sanctions submission to Australia", "Department of Foreign Affairs and Trade — Autonomous Sanctions "
               "Regulations 2011 (serious violations or serious abuses of human rights)", "Australia",
               ("submitter", "organisation", "summary", "targets", "abuse", "responsibility", "evidence", "accountability", "exculpatory",
                "nexus", "confidentiality"),
               {**_BASE, "targets": "Persons and entities proposed for designation", "abuse": "The serious human rights abuse",
                "nexus": "Links to Australia and expected impact"}),
    "eu": Form("eu", "EU Global Human Rights Sanctions Regime: listing proposal", "Council of the European Union — Council Decision "
               "(CFSP) 2020/1999 and Regulation (EU) 2020/1998", "the European Union",
               ("submitter", "organisation", "targets", "summary", "abuse", "responsibility", "evidence", "exculpatory", "accountability",
                "nexus", "confidentiality"),
               {**_BASE, "targets": "Identifying information of the persons proposed for listing", "summary": "Statement of reasons",
                "abuse": "Serious human rights violations and abuses", "nexus": "Links to the EU and expected impact"}),
}
