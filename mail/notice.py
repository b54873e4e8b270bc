"""The text of a staff notice to a submitter (pure): the staff's words and, for a follow-up that
reopened questions, those questions as a form to fill in. The sender builds the mail from it,
and the decoder builds it again to read a reply against what we sent."""

from __future__ import annotations

from typing import Any

from intake.engine import Draft
from intake.forms import select
from intake.i18n import translator
from intake.questionnaire import Questionnaire
from mail.formtext import render_form


def notice_body(q: Questionnaire, kind: str, payload: dict[str, Any], reference: str, lang: str, draft: Draft | None) -> str:
    """The body of a staff notice (`followup`, `decision`, …) about case `reference`."""
    t = translator(lang)
    text = str(payload.get("text") or "")
    body = t("A message from our staff about your case {ref}:", ref=reference) + "\n\n" + text.strip() + "\n\n"
    reopen = [str(r) for r in payload.get("reopen") or []]
    entries = select(q, draft, "reopened", reopened=reopen) if kind == "followup" and reopen and draft is not None else []
    if entries:
        body += t("Please answer these questions by replying to this email: write each answer after its colon (or on "
                  "the next line). You can also write to us in your own words.") + "\n\n"
        body += render_form(q, entries, draft.lang if draft else lang) + "\n"
    return body + t("Reply to this email to answer; keep the reference in the subject.") + "\n"
