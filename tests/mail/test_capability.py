"""Issue 9: a draft continues only by its owner. Our mails carry the case's capability (reply
address `cases+REF.token@…` and `{token}` in the subject); a mail that matches a draft only by
`From:` changes nothing, is kept unverified, and the owner is warned once, at their address."""

from __future__ import annotations

from intake import lifecycle
from mail import capability
from tests.conftest import TEST_KEY
from tests.mail.conftest import ADDRESS, SENDER, Harness
from tests.mail.support import complete_answers, flat_text, form_text, message, text_of

ATTACKER = "attacker@evil.example"


async def draft_of(mail: Harness) -> tuple[str, str, str]:
    """A victim's open draft with one answer; returns (reference, our last Message-ID, Reply-To)."""
    raw, _ = message("We document forced labour.")
    (form,) = await mail.exchange(raw)
    ref = str(form["Subject"])[1:13]
    raw, _ = message("Organisation name: Real NGO", subject="Re: " + str(form["Subject"]), in_reply_to=str(form["Message-ID"]))
    (reply,) = await mail.exchange(raw)
    return ref, str(reply["Message-ID"]), str(reply["Reply-To"])


async def snapshot(mail: Harness, ref: str) -> tuple[str, dict[str, object], list[tuple[str, bool]], int]:
    async with mail.app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        thread = await uow.messages.for_case(case.id)
        files = await uow.attachments.for_case(case.id)
    return case.status, case.draft["answers"], [(m.body[:30], m.verified) for m in thread], len(files)


def test_tokens_are_per_case_and_survive_key_rotation() -> None:
    import base64

    key = base64.b64decode(TEST_KEY)
    other = b"o" * 32
    tok = capability.token(key, "HT-2345-6789")
    assert len(tok) == 10 and tok != capability.token(key, "HT-2345-678A") and tok != capability.token(other, "HT-2345-6789")
    assert capability.valid([other, key], "ht-2345-6789", tok)  # the old key still listed after a rotation
    address = capability.reply_address(ADDRESS, "HT-2345-6789", tok)
    assert address == f"cases+HT-2345-6789.{tok}@intake.example"
    assert capability.proven_reference([key], "Re: whatever", [address.lower()]) == "HT-2345-6789"
    assert capability.proven_reference([key], f"Re: [HT-2345-6789] form {{{tok}}}", [ADDRESS]) == "HT-2345-6789"
    assert capability.proven_reference([key], "Re: [HT-2345-6789] form {aaaaaaaaaa}", [ADDRESS]) is None


async def test_every_mail_about_a_case_carries_its_capability(mail: Harness) -> None:
    ref, _, reply_to = await draft_of(mail)
    last = mail.relay.messages[-1]
    tok = reply_to.split(".", 1)[1].split("@", 1)[0]
    assert reply_to == f"cases+{ref}.{tok}@intake.example" and str(last["From"]) == ADDRESS
    assert str(last["Subject"]).startswith(f"[{ref}] ") and str(last["Subject"]).endswith(f"{{{tok}}}")


async def test_a_forged_from_against_an_open_draft_changes_nothing_and_warns_the_owner_once(mail: Harness) -> None:
    ref, _, _ = await draft_of(mail)
    before = await snapshot(mail, ref)
    sent = len(mail.relay.messages)
    for n in range(2):  # the envelope is the attacker's; From: is the victim's; the subject names the case
        forged, _ = message(f"Organisation name: Evil Corp {n}\n\nSUBMIT\n", subject=f"Re: [{ref}] Your case form",
                            attachments=[("x.pdf", "application/pdf", b"%PDF-1.4 evil")])
        assert (await mail.send(forged, mail_from=ATTACKER)).data == 250
        await mail.pump()
    status, answers, thread, files = await snapshot(mail, ref)
    assert (status, answers, files) == before[:2] + (before[3],)  # no answer, no file, not submitted
    assert status == lifecycle.DRAFT and answers == {"org_name": "Real NGO"}
    assert [v for body, v in thread if body.startswith("Organisation name: Evil")] == [False, False]  # kept, unverified
    warnings = mail.relay.messages[sent:]
    assert len(warnings) == 1  # warned once, at the owner's address, never echoing the forged text
    warning = warnings[0]
    assert str(warning["To"]) == SENDER and mail.relay.envelopes[-1][1] == [SENDER]
    assert "changed nothing" in flat_text(warning) and "Evil" not in text_of(warning) and "Evil" not in str(warning["Subject"])


async def test_the_owner_continues_through_the_reply_address_or_the_subject_token(mail: Harness) -> None:
    ref, _, reply_to = await draft_of(mail)
    tok = reply_to.split(".", 1)[1].split("@", 1)[0]
    # a fresh mail (no In-Reply-To) to the reply address: the capability is in the recipient
    raw, _ = message("Case title: By the reply address", subject="more")
    assert len(await mail.exchange(raw, rcpt=[reply_to])) == 1
    # a client that replied to From: keeps the subject, and with it the token
    raw, _ = message("Contact email: owner@example.org", subject=f"Re: [{ref}] Your case form {{{tok}}}")
    assert len(await mail.exchange(raw)) == 1
    _, answers, _, _ = await snapshot(mail, ref)
    assert answers["case_title"] == "By the reply address" and answers["contact_email"] == "owner@example.org"


async def test_a_forged_submit_on_a_complete_draft_does_not_submit(mail: Harness) -> None:
    raw, _ = message("first")
    (form,) = await mail.exchange(raw)
    ref = str(form["Subject"])[1:13]
    answers, _ = complete_answers(mail.app.questionnaire)
    raw, _ = message(form_text(mail.app.questionnaire, answers), subject="Re: form", in_reply_to=str(form["Message-ID"]))
    (ready,) = await mail.exchange(raw)
    assert "reply SUBMIT" in flat_text(ready)
    forged, _ = message("SUBMIT", subject=f"Re: [{ref}]")
    assert (await mail.send(forged, mail_from=ATTACKER)).data == 250
    await mail.pump()
    status, _, _, _ = await snapshot(mail, ref)
    assert status == lifecycle.DRAFT
    raw, _ = message("SUBMIT", subject="Re: " + str(ready["Subject"]), in_reply_to=str(ready["Message-ID"]))
    done = [m for m in await mail.exchange(raw) if str(m["To"]) == SENDER]
    assert len(done) == 1 and "has been sent to our staff" in flat_text(done[0])
