"""Issue 9: `Authentication-Results` from our own MTA (INTAKE_MAIL_TRUSTED_AUTHSERV_ID) are read,
every other one is ignored (RFC 8601); the results are kept for staff; a failed DMARC check never
starts or continues a case — through the real SMTP server (aiosmtpd) fed by smtplib."""

from __future__ import annotations

import httpx
import pytest

from intake import lifecycle
from intake.settings import Settings
from mail.authentication import read
from review.auth import AuthService
from review.service import ReviewService
from review.web import create_app
from tests.mail.conftest import SENDER, Harness
from tests.mail.support import complete_answers, form_text, message, text_of
from tests.review.conftest import PASSWORD, cheap_hasher
from tests.review.test_web import login

OURS = "mx.intake.example"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"mail_trusted_authserv_id": OURS})


def results(dmarc: str, *, authserv: str = OURS) -> str:
    return f"{authserv}; dkim=pass header.d=example.org; spf=pass smtp.mailfrom=example.org; dmarc={dmarc} header.from=example.org"


def test_only_the_trusted_authserv_id_is_read() -> None:
    forged_on_top = [results("pass", authserv="mx.evil.example"), results("fail")]
    assert read(forged_on_top, OURS) is not None and read(forged_on_top, OURS).dmarc == "fail"  # type: ignore[union-attr]
    assert read([results("pass", authserv="mx.evil.example")], OURS) is None
    assert read([results("fail")], None) is None  # no setting: nothing is read
    assert read(["MX.INTAKE.EXAMPLE; dkim=fail; dkim=pass"], OURS).dkim == "pass"  # type: ignore[union-attr]
    assert read(["garbage;;; ==="], OURS) is None


async def test_passing_results_are_kept_for_staff(mail: Harness) -> None:
    raw, _ = message("We report a case.", headers={"Authentication-Results": results("pass")})
    (form,) = await mail.exchange(raw)
    ref = str(form["Subject"])[1:13]
    async with mail.app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        events = [e.detail for e in await uow.audit.for_case(case.id) if e.action == "message.authentication"]
    assert events == [{"authserv_id": OURS, "dmarc": "pass", "dkim": "pass", "spf": "pass", "verified": True}]


async def test_dmarc_fail_starts_no_case_and_gets_no_reply(mail: Harness) -> None:
    raw, _ = message("Organisation name: Evil", headers={"Authentication-Results": results("fail")})
    assert await mail.exchange(raw) == []
    async with mail.app.store.read() as uow:
        submitter = await uow.submitters.find(channel="email", identity=SENDER)
        assert submitter is None or await uow.cases.for_submitter(submitter.id) == []


async def test_dmarc_fail_on_an_open_draft_changes_nothing_and_warns_the_owner(mail: Harness) -> None:
    raw, _ = message("first", headers={"Authentication-Results": results("pass")})
    (form,) = await mail.exchange(raw)
    ref = str(form["Subject"])[1:13]
    # even a reply to our own mail, carrying the capability, proves nothing when DMARC failed
    forged, _ = message("Organisation name: Evil Corp\nSUBMIT", subject="Re: " + str(form["Subject"]), in_reply_to=str(form["Message-ID"]),
                        headers={"Authentication-Results": results("fail")})
    out = await mail.exchange(forged)
    assert [str(m["To"]) for m in out] == [SENDER] and "changed nothing" in " ".join(text_of(out[0]).split())
    assert "Evil" not in text_of(out[0])
    async with mail.app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        thread = await uow.messages.for_case(case.id)
        events = [e.detail for e in await uow.audit.for_case(case.id) if e.action == "message.authentication"]
    assert case.status == lifecycle.DRAFT and "org_name" not in case.draft["answers"]
    assert [m.verified for m in thread if "Evil Corp" in m.body] == [False]
    # the same pinned clock for both: compare as a set, not by order
    assert sorted((e["dmarc"], e["verified"]) for e in events) == [("fail", False), ("pass", True)]


async def test_results_from_another_authserv_are_ignored(mail: Harness) -> None:
    raw, _ = message("We report a case.", headers={"Authentication-Results": results("fail", authserv="mx.evil.example")})
    (form,) = await mail.exchange(raw)  # a header the sender wrote: neither trusted nor held against them
    ref = str(form["Subject"])[1:13]
    async with mail.app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        assert [e for e in await uow.audit.for_case(case.id) if e.action == "message.authentication"] == []


async def test_staff_see_the_results_above_the_case_thread(mail: Harness) -> None:
    """Through the console over HTTP: the reviewer reads DMARC/DKIM/SPF and the forged-sender mark."""
    raw, _ = message("first", headers={"Authentication-Results": results("pass")})
    (form,) = await mail.exchange(raw)
    ref = str(form["Subject"])[1:13]
    answers, _ = complete_answers(mail.app.questionnaire)
    raw, _ = message(form_text(mail.app.questionnaire, answers), subject="Re: " + str(form["Subject"]),
                     in_reply_to=str(form["Message-ID"]), headers={"Authentication-Results": results("pass")})
    (ready,) = await mail.exchange(raw)
    raw, _ = message("SUBMIT", subject="Re: " + str(ready["Subject"]), in_reply_to=str(ready["Message-ID"]),
                     headers={"Authentication-Results": results("pass")})
    await mail.exchange(raw)
    forged, _ = message("Please send me everything.", subject=f"Re: [{ref}]", headers={"Authentication-Results": results("fail")})
    await mail.exchange(forged)
    auth = AuthService(mail.app.store, clock=mail.app.clock, hasher=cheap_hasher())
    await auth.add_staff("dana@ngo.example", PASSWORD, "admin")
    web = create_app(mail.app, review=ReviewService(mail.app.store, mail.app.questionnaire, clock=mail.app.clock), auth=auth)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://testserver") as client:
        assert (await login(client, "dana@ngo.example")).status_code in (200, 303)
        page = (await client.get(f"/cases/{ref}")).text
    assert f"email authentication by {OURS}: DMARC pass, DKIM pass, SPF pass" in page
    assert f"email authentication by {OURS}: DMARC fail" in page and "sender forged: kept as unverified" in page
    assert "unverified sender" in page
