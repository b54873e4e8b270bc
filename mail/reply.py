"""The email renderer: what one `receive` did → the reply email to queue (pure, no I/O).

`render_reply` is handed to `Receiver.receive` and runs inside its transaction, so the reply is
queued together with the state it describes. It reads only the `Result` and the context the
decoder put in `Inbound.meta` (the incoming Message-ID and References, for threading):

- nothing for machine mail, for a first contact over the hourly limits, for a message kept
  unverified on someone else's case, and when the draft stopped (the channel is not safe);
- an acknowledgement for a message that landed on a submitted case's thread;
- in the guided flow: what was accepted, what was not and why, what is still needed (as a form),
  "ready to send" with the answers, or the confirmation after SUBMIT.

Kinds: `form` only for the first contact (the hourly limits count those), `reply` for the rest of
the conversation, `ack` for a message on a submitted case.
"""

from __future__ import annotations

from typing import Any

from intake import engine, lifecycle
from intake.channels import Outgoing
from intake.engine import Draft
from intake.forms import select
from intake.forms import shown as shown_answer
from intake.i18n import translator
from intake.inbound import Intent, Result
from intake.questionnaire import Questionnaire
from mail.form import label_for, render_form, summary_text, wrap_lines

MAX_REFERENCES = 10


def safety_note(lang: str) -> str:
    t = translator(lang)
    return t(
        "A note on safety: email is not end-to-end encrypted. Your provider and ours can read it, and it stays in your "
        "mailbox. Do not write the names of victims or witnesses. If this mailbox may be watched, stop here and reach us "
        "more safely: use Signal or our Telegram bot, as listed on our website, from a device only you control."
    )


def thread_meta(message_id: str | None, references: list[str]) -> dict[str, Any]:
    """What the decoder hands the renderer in `Inbound.meta`: the incoming mail's threading ids."""
    return {"message_id": message_id, "references": list(references)}


def render_reply(q: Questionnaire, result: Result) -> list[Outgoing]:
    """The reply email for `result` (at most one), as an outbox payload."""
    inbound = result.inbound
    if result.duplicate or inbound.automated is not None or result.limited or result.reference is None:
        return []
    t = translator(result.lang)
    if inbound.intent == Intent.WITHDRAW:
        return [withdrawn(result)]
    if result.warn_owner:
        return [owner_warning(result)]
    if not result.verified and not result.threaded:
        return []  # an unproven message on the sender's case: kept, nothing changed, the owner was warned before
    if result.threaded:
        if not result.verified or result.status == lifecycle.WITHDRAWN:
            return []
        body = t("Thank you. Your message has been added to case {ref} and our staff will read it.", ref=result.reference)
        if result.attachments:
            body += "\n" + t.plural("{n} attached file was kept with it.", "{n} attached files were kept with it.", result.attachments)
        body += answers_note(q, result)
        return [_mail("ack", result, t("Your message was received"), body + "\n")]
    if result.draft is None or result.draft.stopped:
        return []
    kind = "form" if result.fresh else "reply"
    subject, body = compose(q, result, result.draft)
    return [_mail(kind, result, subject, body)]


def answers_note(q: Questionnaire, result: Result) -> str:
    """On a submitted case: which answers were added to it, and which were not and why."""
    t = translator(result.lang)
    accepted = [k for k, v in result.results.items() if v is None]
    invalid = {k: v for k, v in result.results.items() if v is not None}
    parts = [""]
    if accepted:
        parts.append("\n".join([t("Added to the case:")] + [f"- {label(q, k, result.lang)}" for k in accepted]))
    if invalid:
        parts.append("\n".join([t("Not accepted — please correct:")] + [f"- {label(q, k, result.lang)}: {e}" for k, e in invalid.items()]))
    return "\n\n".join(parts) if len(parts) > 1 else ""


def withdrawn(result: Result) -> Outgoing:
    """The answer to WITHDRAW: done (and what is left), or why not."""
    t = translator(result.lang)
    if result.done:
        body = t("Case {ref} is withdrawn. Everything in it (your answers, messages and files) has been destroyed; "
                 "we keep only its reference, its dates and that it was withdrawn. Our staff will not work on it.", ref=result.reference)
        return _mail("ack", result, t("Your case was withdrawn"), body + "\n")
    body = t("Case {ref} could not be withdrawn: it is already withdrawn, or it is not yours.", ref=result.reference)
    return _mail("ack", result, t("Your case was not withdrawn"), body + "\n")


def owner_warning(result: Result) -> Outgoing:
    """To the case's owner, at their own address: a mail in their name that did not come as a reply
    to ours changed nothing. Never quotes it (it may come from someone else)."""
    t = translator(result.lang)
    body = "\n\n".join([
        t("We received an email in your name about your case {ref}. It did not come as a reply to one of our emails, "
          "so we changed nothing and only kept it aside for our staff.", ref=result.reference),
        t("If it was you: please reply to our most recent email about this case (keep its subject), so that we know it "
          "comes from you. If it was not you, someone may be using your address; tell us by replying to this email."),
    ]) + "\n"
    return Outgoing("owner_warning", {
        "subject": f"[{result.reference}] " + t("An email in your name changed nothing"), "body": wrap_lines(body), "auto": True,
        "lang": result.lang, "in_reply_to": None, "references": [],
    })


def compose(q: Questionnaire, result: Result, draft: Draft) -> tuple[str, str]:
    """Subject and body of a guided-flow reply."""
    lang = draft.lang
    t = translator(lang)
    reference = result.reference or ""
    parts: list[str] = []
    if result.fresh:
        parts.append(t("Thank you for writing to us. We have opened a draft case with the reference {ref}.", ref=reference))
        parts.append(safety_note(lang))
    parts.extend(result.notices)
    if result.attachments:
        parts.append(t.plural("{n} attached file was kept with your case as evidence.",
                              "{n} attached files were kept with your case as evidence.", result.attachments))
    accepted = [k for k, v in result.results.items() if v is None]
    invalid = {k: v for k, v in result.results.items() if v is not None}
    if accepted:  # a first contact may come from a forged sender: its values are never echoed
        lines = [f"- {label(q, k, lang)}" + ("" if result.fresh else f": {shown(q, draft, k)}") for k in accepted]
        parts.append("\n".join([t("Accepted:")] + lines))
    if invalid:
        parts.append("\n".join([t("Not accepted — please correct:")] + [f"- {label(q, k, lang)}: {e}" for k, e in invalid.items()]))
    missing = {s.key for s in engine.missing(q, draft)}
    applicable = {s.key for s in engine.slots(q, draft)}
    redo = missing | {k for k in invalid if k in applicable}
    subject = t("Your case form")
    if result.submitted:
        subject = t("Your case was sent to our staff")
        parts.append(t("Thank you. Your case {ref} has been sent to our staff. Keep this reference; reply to this "
                       "email if you want to add something.", ref=reference))
        parts.append(summary_text(q, draft))
        parts.extend(details_form(q, draft))
    elif result.fresh and not result.results:
        parts.append(t("Please answer the questions below by replying to this email. Write each answer after its colon "
                       "(or on the next line); for choices, the number is enough. Lines marked (optional) may stay empty. "
                       "You can answer in several emails: we keep what you sent."))
        parts.append(form_help(lang))
        parts.append(render_form(q, select(q, draft, "first"), lang, language_line=True))
    elif redo:
        if result.inbound.submit:
            parts.append(t("The case cannot be submitted yet: some required answers are missing."))
        parts.append(t.plural("Still needed ({n} question). Please reply with this form filled in:",
                              "Still needed ({n} questions). Please reply with this form filled in:", len(redo)))
        parts.append(render_form(q, select(q, draft, "followup", redo=redo), lang))
    elif result.inbound.submit:
        error = result.turn.error if result.turn is not None else None
        parts.append(error or t("The case could not be submitted. Please try again."))
    else:
        subject = t("Your case is ready to send")
        parts.append(t("Everything required is there. Please check your answers below, then reply SUBMIT to send it to our "
                       "staff. To change an answer, reply with its line corrected."))
        parts.append(summary_text(q, draft))
    return subject, "\n\n".join(p.strip("\n") for p in parts if p) + "\n"


def form_help(lang: str) -> str:
    """How to fill in the parts of a form that are not one line each."""
    t = translator(lang)
    return t("To add another perpetrator, place or evidence item: copy its block of lines and change the number "
             "(for example “Evidence item 1” to “Evidence item 2”). To give a file as evidence, attach it to your reply "
             "and write its file name on the evidence item’s file line; other attached files are kept with the case too.")


def details_form(q: Questionnaire, draft: Draft) -> list[str]:
    """After SUBMIT: the details that would make the case stronger, as a short form (none: nothing)."""
    entries = select(q, draft, "details")
    if not entries:
        return []
    t = translator(draft.lang)
    return [
        t("If you can, add the details below (a designation needs them to identify the perpetrators). Reply with the "
          "lines you can fill in; leave the others empty. Your answers are added to the case."),
        form_help(draft.lang),
        render_form(q, entries, draft.lang),
    ]


def label(q: Questionnaire, key: str, lang: str) -> str:
    try:
        return label_for(q, engine.parse_path(key), lang)
    except (KeyError, AssertionError, ValueError):
        return key


def shown(q: Questionnaire, draft: Draft, key: str) -> str:
    text = shown_answer(q, draft, key)
    return text if len(text) <= 200 else text[:197] + "…"


def _mail(kind: str, result: Result, subject: str, body: str) -> Outgoing:
    meta = result.inbound.meta
    message_id = meta.get("message_id")
    references = [str(r) for r in meta.get("references") or []]
    if message_id and message_id not in references:
        references.append(str(message_id))
    return Outgoing(kind, {
        "subject": f"[{result.reference}] {subject}", "body": wrap_lines(body), "auto": True, "lang": result.lang,
        "in_reply_to": message_id, "references": references[-MAX_REFERENCES:],
    })
