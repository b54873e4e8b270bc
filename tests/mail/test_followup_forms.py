"""Issue 9: questions put to the submitter after SUBMIT, through the real SMTP server and the
capturing relay — staff reopen a question (`request-info --reopen perp_dob`) and the submitter
gets it as a form; the details form that follows SUBMIT; answers land on the submitted case with
their history; attachments named on an evidence item's file line belong to that item."""

from __future__ import annotations

from email.message import EmailMessage

from intake import lifecycle
from intake.fields.registry import parse
from intake.questionnaire import Question
from review.auth import AuthService
from review.model import Actor
from review.service import ReviewService
from tests.mail.conftest import Harness
from tests.mail.support import complete_answers, flat_text, form_text, message, text_of
from tests.mail.test_clients import inline, quote
from tests.review.conftest import cheap_hasher

DOB = "1975-06-14"


async def submitted(mail: Harness, *, attachments: list[tuple[str, str, bytes]] | None = None,
                    extra: dict[str, str] | None = None, drop: tuple[str, ...] = ()) -> tuple[str, EmailMessage]:
    """A case taken to submitted by email (every question answered but `drop`); the confirmation."""
    q = mail.app.questionnaire
    raw, _ = message("first")
    (form,) = await mail.exchange(raw)
    ref = str(form["Subject"])[1:13]
    answers, _ = complete_answers(q)
    for key in drop:
        answers.pop(key)
    answers.update(extra or {})
    raw, _ = message(form_text(q, answers), subject="Re: " + str(form["Subject"]), in_reply_to=str(form["Message-ID"]),
                     attachments=attachments)
    (ready,) = await mail.exchange(raw)
    assert "reply SUBMIT" in flat_text(ready), text_of(ready)[:2000]
    raw, _ = message("SUBMIT", subject="Re: " + str(ready["Subject"]), in_reply_to=str(ready["Message-ID"]))
    (confirmation,) = await mail.exchange(raw)
    assert "has been sent to our staff" in flat_text(confirmation)
    return ref, confirmation


async def case_of(mail: Harness, ref: str):  # type: ignore[no-untyped-def]
    async with mail.app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        return case, await uow.messages.for_case(case.id), await uow.audit.for_case(case.id)


def gmail(ours: EmailMessage, pairs: list[tuple[str, str]]) -> tuple[bytes, str]:
    """A reply the way Gmail writes it: our mail quoted (re-wrapped at 76), each answer typed under its label."""
    body = inline(text_of(ours), pairs, width=76) + "\n-- \nField Office\n"
    return message(body, subject="Re: " + str(ours["Subject"]), in_reply_to=str(ours["Message-ID"]))


async def test_staff_reopen_puts_the_question_and_the_answer_lands_with_history(mail: Harness) -> None:
    q = mail.app.questionnaire
    ref, _ = await submitted(mail, drop=("perpetrators.0.perp_dob",))
    auth = AuthService(mail.app.store, clock=mail.app.clock, hasher=cheap_hasher())
    staff = await auth.add_staff("alice@ngo.example", "correct horse battery staple", "reviewer")
    review = ReviewService(mail.app.store, q, clock=mail.app.clock)
    alice = Actor(staff.id, staff.email, staff.role, "127.0.0.1")
    await review.request_info(alice, ref, "Could you tell us the date of birth?", reopen=["perp_dob"])
    before = len(mail.relay.messages)
    await mail.pump()
    (follow,) = mail.relay.messages[before:]
    body = text_of(follow)
    assert "Could you tell us the date of birth?" in body
    assert "Alleged perpetrator 1 — Date of birth (optional):" in body and "What is their date of birth?" in body
    assert "Organisation name:" not in body  # only what staff reopened
    assert max(len(line) for line in body.split("\n")) <= 78
    raw, _ = gmail(follow, [("Alleged perpetrator 1 — Date of birth", DOB)])
    (ack,) = await mail.exchange(raw)
    assert "Added to the case:" in text_of(ack) and "Date of birth" in text_of(ack), text_of(ack)
    case, thread, audit = await case_of(mail, ref)
    question = q.items_by_id()["perp_dob"]
    assert isinstance(question, Question)
    expected = parse(question, DOB)
    assert case.draft["answers"]["perpetrators"][0]["perp_dob"] == expected
    assert case.status == lifecycle.SUBMITTED  # the answer returned the case to the queue
    (history,) = [m for m in thread if m.kind == "answers"]
    assert "Date of birth" in history.body and "1975" in history.body and history.verified
    (event,) = [a for a in audit if a.action == "case.answers_added"]
    assert event.detail["paths"] == ["perpetrators.0.perp_dob"]


async def test_reopened_answer_replaces_the_old_one_and_keeps_it_in_history(mail: Harness) -> None:
    q = mail.app.questionnaire
    ref, _ = await submitted(mail)
    auth = AuthService(mail.app.store, clock=mail.app.clock, hasher=cheap_hasher())
    staff = await auth.add_staff("bob@ngo.example", "correct horse battery staple", "reviewer")
    review = ReviewService(mail.app.store, q, clock=mail.app.clock)
    await review.request_info(Actor(staff.id, staff.email, staff.role, "127.0.0.1"), ref, "Please check.", reopen=["perp_dob"])
    before = len(mail.relay.messages)
    await mail.pump()
    (follow,) = mail.relay.messages[before:]
    # Outlook: top-posted, our mail unquoted under its header block
    body = f"Alleged perpetrator 1 — Date of birth: {DOB}\n\nRegards\n\n________________________________\nFrom: Cases\n" + text_of(follow)
    raw, _ = message(body, subject="Re: " + str(follow["Subject"]), in_reply_to=str(follow["Message-ID"]))
    await mail.exchange(raw)
    case, thread, _ = await case_of(mail, ref)
    assert case.draft["answers"]["perpetrators"][0]["perp_dob"]["date"].startswith("1975")
    (history,) = [m for m in thread if m.kind == "answers"]
    assert "before: 2021" in " ".join(history.body.split())  # the earlier answer is kept in the history


async def test_free_text_on_a_waiting_case_lands_on_the_thread_and_requeues(mail: Harness) -> None:
    q = mail.app.questionnaire
    ref, _ = await submitted(mail)
    auth = AuthService(mail.app.store, clock=mail.app.clock, hasher=cheap_hasher())
    staff = await auth.add_staff("carol@ngo.example", "correct horse battery staple", "reviewer")
    review = ReviewService(mail.app.store, q, clock=mail.app.clock)
    await review.request_info(Actor(staff.id, staff.email, staff.role, "127.0.0.1"), ref, "Which port?", reopen=["perp_dob"])
    before = len(mail.relay.messages)
    await mail.pump()
    (follow,) = mail.relay.messages[before:]
    raw, _ = message("Lagos, mostly. We do not know the date of birth.\n\n" + quote(text_of(follow)),
                     subject="Re: " + str(follow["Subject"]), in_reply_to=str(follow["Message-ID"]))
    await mail.exchange(raw)
    case, thread, _ = await case_of(mail, ref)
    assert case.status == lifecycle.SUBMITTED and not [m for m in thread if m.kind == "answers"]
    assert [m.verified for m in thread if m.body.startswith("Lagos")] == [True]


async def test_details_form_after_submit_adds_identifiers_to_the_case(mail: Harness) -> None:
    ref, confirmation = await submitted(mail)
    body = text_of(confirmation)
    assert "Alleged perpetrator 1 — ID document 1 — ID document number (optional):" in body, body
    assert "copy the lines of “Alleged perpetrator 1 — ID" in body
    assert max(len(line) for line in body.split("\n")) <= 78
    raw, _ = gmail(confirmation, [("Alleged perpetrator 1 — ID document 1 — ID document type", "1"),
                                  ("Alleged perpetrator 1 — ID document 1 — ID document number", "P1234567")])
    (ack,) = await mail.exchange(raw)
    assert "Not accepted" not in text_of(ack), text_of(ack)
    case, thread, _ = await case_of(mail, ref)
    assert case.draft["answers"]["perpetrators"][0]["perp_id_docs"] == [{"id_doc_type": "passport", "id_doc_number": "P1234567"}]
    assert case.status == lifecycle.SUBMITTED
    (history,) = [m for m in thread if m.kind == "answers"]
    assert "P1234567" in history.body


async def test_an_answer_already_given_is_not_overwritten_without_a_reopen(mail: Harness) -> None:
    ref, confirmation = await submitted(mail)
    raw, _ = message("Alleged perpetrator 1 — Name: Someone Else\n", subject="Re: " + str(confirmation["Subject"]),
                     in_reply_to=str(confirmation["Message-ID"]))
    (ack,) = await mail.exchange(raw)
    assert "Not accepted" in text_of(ack)
    case, _, _ = await case_of(mail, ref)
    assert case.draft["answers"]["perpetrators"][0]["perp_name"] != "Someone Else"


async def test_a_file_named_on_an_evidence_line_belongs_to_that_item(mail: Harness) -> None:
    files = [("contract.pdf", "application/pdf", b"%PDF-1.4 contract " * 50), ("photo.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 jpeg" * 50)]
    ref, _ = await submitted(mail, attachments=files, extra={"evidence.0.ev_file": "Contract.pdf"})
    case, _, _ = await case_of(mail, ref)
    async with mail.app.store.read() as uow:
        kept = {a.filename: a.id for a in await uow.attachments.for_case(case.id)}
    assert set(kept) == {"contract.pdf", "photo.jpg"}  # the other file is kept too, as unassigned evidence
    assert case.draft["answers"]["evidence"][0]["ev_file"] == [kept["contract.pdf"]]
