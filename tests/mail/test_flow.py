"""The guided flow by email, through the real SMTP server and the capturing relay."""

from __future__ import annotations

import hashlib

import pytest

from intake import lifecycle
from intake.app import App
from mail.form import parse_form
from tests.mail.conftest import ADDRESS, SENDER, Harness
from tests.mail.support import complete_answers, flat_text, form_text, message, text_of


async def case_of(app: App, reference: str) -> object:
    async with app.store.read() as uow:
        return await uow.cases.by_reference(reference)


def reference_in(subject: str) -> str:
    start = subject.index("[HT-")
    return subject[start + 1 : start + 13]


async def first_contact(mail: Harness, **kwargs: object) -> tuple[str, str]:
    """Send a first message; return the case reference and the Message-ID of our reply."""
    raw, _ = message("We document forced labour on fishing vessels. Details follow.", **kwargs)  # type: ignore[arg-type]
    replies = await mail.exchange(raw)
    assert len(replies) == 1
    return reference_in(str(replies[0]["Subject"])), str(replies[0]["Message-ID"])


async def test_first_message_gets_the_form(mail: Harness) -> None:
    pdf = b"%PDF-1.4 report " * 100
    raw, mid = message("Our narrative of the case.", attachments=[("../../etc/report.pdf", "application/pdf", pdf)])
    replies = await mail.exchange(raw)
    assert len(replies) == 1
    reply = replies[0]
    assert reply["To"] == SENDER and reply["From"] == ADDRESS
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["In-Reply-To"] == mid
    ref = reference_in(str(reply["Subject"]))
    body = text_of(reply)
    assert ref in body and "not end-to-end encrypted" in " ".join(body.split())
    assert "\nOrganisation name:\n" in body
    assert "Alleged perpetrator 1 — Date of birth (optional):" in body  # a recommended identifier, asked at once
    assert "Secure channel (optional):" not in body  # the first form asks the essentials (and the identifiers) only
    assert "Alleged perpetrator 1 — Name:" in body
    case = await case_of(mail.app, ref)
    assert case is not None and case.status == lifecycle.DRAFT  # type: ignore[attr-defined]
    async with mail.app.store.read() as uow:
        thread = await uow.messages.for_case(case.id)  # type: ignore[attr-defined]
        files = await uow.attachments.for_case(case.id)  # type: ignore[attr-defined]
    assert [m.kind for m in thread] == ["first_message"] and "Our narrative" in thread[0].body
    assert len(files) == 1
    assert files[0].sha256 == hashlib.sha256(pdf).hexdigest() and files[0].size == len(pdf)
    assert files[0].filename == "report.pdf" and files[0].sniffed_type == "application/pdf" and not files[0].executable


@pytest.mark.parametrize("variant", ["plain", "html", "quoted", "crlf", "utf8", "latin1", "nextline", "sloppy"])
async def test_filled_reply_completes_the_case(mail: Harness, variant: str) -> None:
    ref, our_mid = await first_contact(mail)
    raw_answers, expected = complete_answers(mail.app.questionnaire)
    style = {"nextline": "nextline", "sloppy": "sloppy"}.get(variant, "inline")
    text = form_text(mail.app.questionnaire, raw_answers, style=style)
    kwargs: dict[str, object] = {"subject": f"Re: [{ref}] Your case form", "in_reply_to": our_mid}
    if variant == "html":
        # as webmail writes it: a <div> per line, <div><br></div> for an empty one
        html = '<html><body><div dir="ltr">' + "".join(f"<div>{line or '<br>'}</div>" for line in text.split("\n")) + "</div></body></html>"
        raw, _ = message("", html=html, **kwargs)  # type: ignore[arg-type]
    elif variant == "quoted":
        quoted = "\n".join("> " + line for line in form_text(mail.app.questionnaire, {k: "" for k in raw_answers}).split("\n"))
        body = text + "\n\nOn Mon, 2 Nov 2026 at 12:00, Cases <cases@intake.example> wrote:\n" + quoted + "\n"
        raw, _ = message(body, **kwargs)  # type: ignore[arg-type]
    elif variant == "latin1":
        # a Latin-1 client has no em dash: it writes "Alleged perpetrator 1 - Name:"
        raw, _ = message(text.replace(" — ", " - "), charset="iso-8859-1", **kwargs)  # type: ignore[arg-type]
        assert b"iso-8859-1" in raw.lower()
    elif variant == "crlf":
        raw, _ = message(text.replace("\n", "\r\n"), **kwargs)  # type: ignore[arg-type]
    else:
        raw, _ = message(text, **kwargs)  # type: ignore[arg-type]
    replies = await mail.exchange(raw)
    assert len(replies) == 1
    body = text_of(replies[0])
    assert "reply SUBMIT" in " ".join(body.split()), body[:2000]
    assert "Not accepted" not in body
    case = await case_of(mail.app, ref)
    assert case is not None
    assert case.draft["answers"] == expected.answers  # type: ignore[attr-defined]
    assert case.draft["answers"]["org_name"] == "Asociación Niñez Libre"  # type: ignore[attr-defined]


async def test_partial_and_invalid_answers_get_the_right_follow_up(mail: Harness) -> None:
    ref, our_mid = await first_contact(mail)
    body = "Organisation name: Small NGO\nOrganisation country: Atlantis\nContact email: not-an-email\nSafe to contact here: yes\n"
    raw, _ = message(body, subject=f"Re: [{ref}] form", in_reply_to=our_mid)
    reply = text_of((await mail.exchange(raw))[0])
    accepted, _, rest = reply.partition("Not accepted")
    assert "- Organisation name: Small NGO" in accepted and "- Safe to contact here: Yes" in accepted
    invalid, _, still = rest.partition("Still needed")
    assert "- Organisation country:" in invalid and "- Contact email:" in invalid
    assert "\nOrganisation country:\n" in still and "\nContact email:\n" in still and "\nImmediate danger:\n" in still
    assert "Organisation name:" not in still and "Safe to contact here:" not in still
    assert "Secure channel" not in still  # optional questions are not asked again
    case = await case_of(mail.app, ref)
    answers = case.draft["answers"]  # type: ignore[attr-defined]
    assert answers["org_name"] == "Small NGO" and "org_country" not in answers and "contact_email" not in answers


async def test_submit_after_complete_and_submit_in_one_step(mail: Harness) -> None:
    raw_answers, _ = complete_answers(mail.app.questionnaire)
    # two steps: complete, then SUBMIT
    ref, our_mid = await first_contact(mail)
    raw, _ = message(form_text(mail.app.questionnaire, raw_answers), subject=f"Re: [{ref}]", in_reply_to=our_mid)
    ready = (await mail.exchange(raw))[0]
    raw, _ = message("SUBMIT\n\n> reply SUBMIT to send it", subject=str(ready["Subject"]), in_reply_to=str(ready["Message-ID"]))
    done = (await mail.exchange(raw))[0]
    assert "has been sent to our staff" in flat_text(done)
    assert (await case_of(mail.app, ref)).status == lifecycle.SUBMITTED  # type: ignore[union-attr]
    # one step: the form and SUBMIT in the same mail, from another organisation
    other = "second@example.net"
    ref2, mid2 = await first_contact(mail, sender=other)
    raw, _ = message(form_text(mail.app.questionnaire, raw_answers) + "\nSUBMIT\n", sender=other, subject=f"Re: [{ref2}]", in_reply_to=mid2)
    done = (await mail.exchange(raw, mail_from=other))[0]
    assert "has been sent to our staff" in flat_text(done) and "Organisation name: Asociación Niñez Libre" in text_of(done)
    assert (await case_of(mail.app, ref2)).status == lifecycle.SUBMITTED  # type: ignore[union-attr]


async def test_submit_too_early_lists_what_is_missing(mail: Harness) -> None:
    ref, our_mid = await first_contact(mail)
    raw, _ = message("SUBMIT", subject=f"Re: [{ref}]", in_reply_to=our_mid)
    body = text_of((await mail.exchange(raw))[0])
    assert "cannot be submitted yet" in body and "\nOrganisation name:\n" in body
    assert (await case_of(mail.app, ref)).status == lifecycle.DRAFT  # type: ignore[union-attr]


async def test_second_perpetrator_by_numbered_labels(mail: Harness) -> None:
    ref, our_mid = await first_contact(mail)
    body = (
        "Alleged perpetrator 1 — Perpetrator type: 2\nAlleged perpetrator 1 — Name: Acme Fishing Ltd\n\n"
        "Perpetrator 2 - Perpetrator type: 1\nPerpetrator 2 - Name: John Doe\nPerpetrator 2 — Date of birth: 1970\n"
    )
    raw, _ = message(body, subject=f"Re: [{ref}]", in_reply_to=our_mid)
    reply = text_of((await mail.exchange(raw))[0])
    perps = (await case_of(mail.app, ref)).draft["answers"]["perpetrators"]  # type: ignore[union-attr]
    assert [p.get("perp_name") for p in perps] == ["Acme Fishing Ltd", "John Doe"]
    assert perps[1]["perp_kind"] == "person" and perps[1]["perp_dob"] == {"date": "1970", "approx": False}
    assert "Alleged perpetrator 2 — Public official:" in reply  # newly required for a person


async def test_reply_to_our_mail_threads_without_reference(mail: Harness) -> None:
    ref, our_mid = await first_contact(mail)
    raw, _ = message("Organisation name: Threaded NGO", subject="Re: your mail", in_reply_to=our_mid)
    await mail.exchange(raw)
    assert (await case_of(mail.app, ref)).draft["answers"]["org_name"] == "Threaded NGO"  # type: ignore[union-attr]


def test_form_parser_tolerance() -> None:
    from intake.questionnaire import load_default

    q = load_default()
    text = (
        ">> ORGANISATION   NAME:  Quoted NGO\n"
        "  3) contact name :\n"
        "   Jane Roe\n"
        "* Case summary: first line\n"
        "second line\n"
        "\n"
        "alleged perpetrator 1 · name: X\n"
        "Organisation name: ignored second value\n"
        "Case title:\n"
        "\n"
        "-- \n"
        "Contact email: sig@example.org\n"
    )
    assert parse_form(q, "en", text) == {
        "org_name": "Quoted NGO",
        "contact_name": "Jane Roe",
        "case_summary": "first line\nsecond line",
        "perpetrators.0.perp_name": "X",
        "contact_email": "sig@example.org",
    }


def test_long_answers_keep_their_paragraphs() -> None:
    from intake.questionnaire import load_default

    q = load_default()
    text = (
        "Case summary:\n"
        "\n"
        "First paragraph about the fleet.\n"
        "It continues here.\n"
        "\n"
        "Second paragraph, after a blank line.\n"
        "\n"
        "\n"
        "Case title: Fleet case\n"
        "Organisation name: Org\n"
        "\n"
        "Thanks\n"
    )
    assert parse_form(q, "en", text) == {
        "case_summary": "First paragraph about the fleet.\nIt continues here.\n\nSecond paragraph, after a blank line.",
        "case_title": "Fleet case",
        "org_name": "Org",
    }
