"""Texts of rows the channel did not render itself: staff alerts for the staff chat, and staff
messages (follow-up questions, decisions, notices) for a submitter. Pure functions."""

from __future__ import annotations

from typing import Any

from bot import render
from intake.fields import country_name
from intake.i18n import translator
from intake.questionnaire import Question, Questionnaire


def alert_text(kind: str, payload: dict[str, Any], *, questionnaire: Questionnaire, public_url: str) -> str:
    """A staff alert: reference, abuse forms, countries and the console link. No names, no narrative."""
    t = translator("en")
    reference = str(payload.get("reference", "?"))
    link = f"{public_url}/cases/{reference}"
    if kind == "staff_alert":
        question = questionnaire.items_by_id().get("abuse_forms")
        forms = []
        for form in payload.get("abuse_forms") or []:
            option = question.option(form) if isinstance(question, Question) else None
            forms.append(option.text.get("en") if option else str(form))
        countries = [f"{country_name(c)} ({c})" for c in payload.get("countries") or []]
        lines = [
            t("New case {ref}", ref=reference),
            t("Abuse: {forms}", forms=", ".join(forms) or t("not given")),
            t("Countries: {countries}", countries=", ".join(countries) or t("not given")),
        ]
        if payload.get("victims_minors") == "yes":
            lines.append(t("Minors among the victims: yes"))
        lines.append(link)
        return "\n".join(lines)
    if kind == "reply_alert":
        return "\n".join([t("The submitter replied on case {ref}", ref=reference), link])
    return "\n".join([t("Case {ref}: {kind}", ref=reference, kind=kind), link])


def submitter_text(kind: str, payload: dict[str, Any], lang: str) -> str | None:
    """A staff message to a submitter, framed with its case reference; None without text."""
    text = str(payload.get("text") or "")
    if not text:
        return None
    reference = payload.get("reference")
    if reference is None:
        return text
    if kind == "followup":
        return render.followup(str(reference), text, lang)
    return render.staff_notice(str(reference), text, lang)
