"""Issue 11: WITHDRAW in an email reply that carries the case's capability withdraws the case and
destroys its content; the same word in a mail that only claims the owner's address changes nothing."""

from __future__ import annotations

from intake import lifecycle
from tests.mail.conftest import SENDER, Harness
from tests.mail.support import complete_answers, flat_text, form_text, message


async def submitted(mail: Harness) -> tuple[str, object]:
    raw, _ = message("first")
    (form,) = await mail.exchange(raw)
    ref = str(form["Subject"])[1:13]
    answers, _ = complete_answers(mail.app.questionnaire)
    raw, _ = message(form_text(mail.app.questionnaire, answers), subject="Re: form", in_reply_to=str(form["Message-ID"]))
    (ready,) = await mail.exchange(raw)
    raw, _ = message("SUBMIT", subject="Re: " + str(ready["Subject"]), in_reply_to=str(ready["Message-ID"]))
    (confirmation,) = [m for m in await mail.exchange(raw) if str(m["To"]) == SENDER]
    return ref, confirmation


async def status_of(mail: Harness, ref: str) -> tuple[str, bool]:
    async with mail.app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
    assert case is not None
    return case.status, case.shredded_at is not None


async def test_withdraw_by_reply_destroys_the_case(mail: Harness) -> None:
    ref, confirmation = await submitted(mail)
    forged, _ = message("WITHDRAW", subject=f"Re: [{ref}]")  # the owner's address, but no capability
    assert (await mail.send(forged)).data == 250
    await mail.pump()
    assert await status_of(mail, ref) == (lifecycle.SUBMITTED, False)
    raw, _ = message("WITHDRAW\n\n> quoted text of our mail", subject="Re: " + str(confirmation["Subject"]),  # type: ignore[index]
                     in_reply_to=str(confirmation["Message-ID"]))  # type: ignore[index]
    (answer,) = [m for m in await mail.exchange(raw) if str(m["To"]) == SENDER]
    assert await status_of(mail, ref) == (lifecycle.WITHDRAWN, True)
    assert "is withdrawn" in flat_text(answer) and "destroyed" in flat_text(answer)
