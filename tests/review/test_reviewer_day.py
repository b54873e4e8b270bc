"""The reviewer's day in headless Chromium at 1366×768 (Debian's /usr/bin/chromium, a real uvicorn):
a seeded email case with three perpetrators, three evidence items with files, a danger answer and a
quoted email reply. The actions and the danger flag sit in the first viewport; the reply's new
words show and its quote folds; the picker reopens perpetrator 2's date of birth and the request
reaches the case's channel; the queue puts this case first; a missing case is an HTML page.
Screenshots of the queue and of the case's first screen go to tests/artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import BACKENDS
from tests.review.conftest import make_case
from tests.review.test_browser import LiveConsole, browser, log_in, serve  # noqa: F401 - fixtures

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
NOTES = Path("/work/notes/screens")
VIEWPORT = {"width": 1366, "height": 768}
REPLY = """The agency is called Gulf Staffing Ltd. They kept our passports in the office safe.

On Mon, 2 Nov 2026 at 10:00, Magnitsky Intake <intake@example.org> wrote:
> Dear sender, thank you for your report.
> Please answer the questions below and send this message back.
> 1. What is their full name?
> 2. What is their date of birth?
"""
PERPS = [
    {"perp_kind": "person", "perp_name": "Rashid Al-Mansour", "perp_dob": {"date": "1971-03-02"}, "perp_nationality": ["AE"],
     "perp_role": ["ordered"], "perp_id_docs": [{"id_doc_type": "passport", "id_doc_number": "P1234567", "id_doc_country": "AE"}]},
    {"perp_kind": "person", "perp_name": "Omar Haddad", "perp_dob": {"date": "1980"}, "perp_role": ["direct"]},
    {"perp_kind": "company", "perp_name": "Gulf Staffing Ltd", "ent_reg_number": "CN-2204117", "perp_role": ["recruited_transported"]},
]
EVIDENCE = [
    {"ev_type": "contract", "ev_description": "Employment contract with the agency's stamp", "ev_date": {"date": "2022-05"},
     "ev_origin": "a former worker", "ev_url": "https://example.org/contract", "ev_shareable": "yes"},
    {"ev_type": "image", "ev_description": "Photos of the dormitory", "ev_origin": "a former worker", "ev_shareable": "yes"},
    {"ev_type": "messages", "ev_description": "WhatsApp messages from the supervisor", "ev_origin": "a survivor", "ev_shareable": "no"},
]


class TravelClock:
    """The wall clock shifted into the past by `behind` (seeding happens "days ago"; 0: now)."""

    def __init__(self) -> None:
        self.behind = timedelta(days=3, hours=4)

    def __call__(self) -> datetime:
        return datetime.now(UTC) - self.behind


@pytest.fixture(scope="module", params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConsole]:
    """The console with a clock that the seeding moves from three days ago to now."""
    yield from serve(request.param, tmp_path_factory, TravelClock())


async def seed(console: LiveConsole) -> str:
    """An email case with three perpetrators, three evidence items (two files on item 1, one on
    item 3), immediate danger, and a quoted email reply after our follow-up."""
    app = console.app
    clock = app.clock
    assert isinstance(clock, TravelClock)
    clock.behind = timedelta(days=2, hours=6)
    ref = await make_case(app, "email", who="witness@example.org", answers={"case_title": "Passports kept by a recruitment agency"})
    async with app.store.write() as uow:
        case = await uow.cases.by_reference(ref, lock=True)
        assert case is not None
        answers: dict[str, Any] = dict(case.draft["answers"])
        answers.update(immediate_danger=True, perpetrators=PERPS, evidence=EVIDENCE,
                       case_summary="Forty domestic workers recruited in Kenya had their passports taken on arrival.")
        case.draft = {**case.draft, "answers": answers}
        await uow.cases.save(case, now=app.clock())
        for path, name in [("evidence.0.ev_file", "contract.pdf"), ("evidence.0.ev_file", "contract-page2.pdf"), ("evidence.2.ev_file", "chat.txt")]:
            await uow.attachments.add(case_id=case.id, filename=name, data=f"file {name}".encode(), now=app.clock(), source="email",
                                      content_type="application/pdf" if name.endswith(".pdf") else "text/plain", question_path=path)
        clock.behind = timedelta(days=1, hours=2)
        await uow.messages.add(case_id=case.id, direction="out", channel="email", kind="followup", now=app.clock(),
                               body="Please answer the questions below and send this message back.")
        clock.behind = timedelta(hours=3, minutes=20)
        await uow.messages.add(case_id=case.id, direction="in", channel="email", kind="reply", body=REPLY, now=app.clock())
    clock.behind = timedelta(hours=1)
    console.refs["later"] = await make_case(app, "terminal", who="later", answers={"case_title": "A later, calmer case"})
    clock.behind = timedelta(0)
    return ref


@pytest.fixture(scope="module")
def day(live: LiveConsole) -> str:
    return live.call(seed(live))


@pytest.fixture
def big(browser: Browser, live: LiveConsole) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(base_url=live.url, viewport=VIEWPORT)  # type: ignore[arg-type]
    p = context.new_page()
    p.set_default_timeout(10_000)
    yield p
    context.close()


def shot(page: Page, name: str, backend: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"{name}-{backend}.png"
    page.screenshot(path=str(target))  # the viewport only: the first screen
    assert target.stat().st_size > 10_000
    if NOTES.parent.is_dir():
        NOTES.mkdir(exist_ok=True)
        shutil.copy(target, NOTES / f"{name}.png")


def in_first_screen(page: Page, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    assert box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT["height"], (selector, box)
    assert box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORT["width"], (selector, box)


def backend_of(live: LiveConsole) -> str:
    return "sqlite" if "sqlite" in live.settings.database_url else "postgresql"


def test_first_screen_holds_the_triage_and_the_actions(big: Page, live: LiveConsole, day: str) -> None:
    log_in(big)
    big.goto(f"/cases/{day}")
    expect(big.locator("#danger-flag")).to_have_text("Immediate danger")
    for selector in ("#danger-flag", ".case-head .ref", ".case-head .facts", ".case-title", "#abuse-line", "#perp-1", "#perp-3",
                     "form[action$='/claim'] button", "#ask-back > summary", "#more-actions > summary"):
        in_first_screen(big, selector)
    expect(big.locator("#perp-3")).to_contain_text("Gulf Staffing Ltd")
    expect(big.locator("#perp-3")).to_contain_text("CN-2204117")
    expect(big.locator("#perp-2")).to_contain_text("Omar Haddad")
    expect(big.locator("#perp-1")).to_contain_text("P1234567")
    expect(big.locator(".case-head .facts")).to_contain_text("assigned to nobody")
    expect(big.locator("#abuse-line")).to_contain_text("minors")
    shot(big, "case-first-screen", backend_of(live))
    # evidence together: descriptions, 1-based files beside their item, links that open only on click
    big.locator("#evidence > summary").click()
    item1 = big.locator("#evidence-1")
    expect(item1).to_contain_text("Employment contract with the agency's stamp")
    expect(item1.get_by_role("link", name="Evidence item 1 · file 2")).to_be_visible()
    link = item1.locator("a.ext")
    assert link.get_attribute("rel") == "noopener noreferrer" and link.get_attribute("target") == "_blank"
    expect(big.locator("#evidence-3").get_by_role("link", name="Evidence item 3 · file 1")).to_be_visible()
    expect(big.locator("#evidence-2")).to_contain_text("No file.")


def test_the_reply_shows_new_words_and_folds_the_quote(big: Page, live: LiveConsole, day: str) -> None:
    log_in(big)
    big.goto(f"/cases/{day}")
    reply = big.locator("#thread article.msg.in").first
    expect(reply.locator(".new-words")).to_have_text("The agency is called Gulf Staffing Ltd. They kept our passports in the office safe.")
    quoted = reply.locator("details.quoted")
    expect(quoted.locator("div.text")).to_be_hidden()
    quoted.locator("summary").click()
    expect(quoted.locator("div.text")).to_contain_text("What is their date of birth?")


def test_queue_puts_danger_and_new_replies_first(big: Page, live: LiveConsole, day: str) -> None:
    log_in(big)
    rows = big.locator("table.queue tbody tr")
    expect(rows.first.locator("a.ref")).to_have_text(day)
    expect(rows.first).to_contain_text("new reply")
    expect(rows.first.locator(".danger-flag")).to_be_visible()
    expect(big.locator("details.filters-fold")).not_to_have_attribute("open", "")
    shot(big, "queue", backend_of(live))
    big.goto("/?order=newest")  # by submission time the later case leads: the default order is not that
    expect(big.locator("table.queue tbody tr").first.locator("a.ref")).to_have_text(live.refs["later"])


def test_picker_reopens_perpetrator_2_date_of_birth(big: Page, live: LiveConsole, day: str) -> None:
    log_in(big)
    big.goto(f"/cases/{day}")
    big.get_by_role("button", name="Claim").click()
    expect(big.locator(".flash")).to_contain_text("You claimed the case.")
    for selector in ("#danger-flag", "#ask-back > summary", "#decide > summary", "#more-actions > summary"):
        in_first_screen(big, selector)
    big.locator("#ask-back > summary").click()
    big.get_by_label("Your question").fill("What is the second perpetrator's date of birth?")
    section = big.locator("details.pick-section", has=big.locator("summary", has_text="Alleged perpetrators"))
    section.locator("summary").click()
    box = section.locator("input[value='perpetrators.1.perp_dob']")
    expect(box).to_be_visible()
    box.check()
    big.get_by_role("button", name="Send request for information").click()
    expect(big.locator(".flash")).to_contain_text("queued for the submitter")
    rows = live.call(live.outbox_rows(day))
    followups = [r for r in rows if r[1] == "followup"]
    assert followups and followups[-1][0] == "email" and followups[-1][2]["reopen"] == ["perpetrators.1.perp_dob"]
    expect(big.locator(".side")).to_contain_text("perpetrators.1.perp_dob")


def test_audit_collapses_answering_and_filters_by_kind(big: Page, live: LiveConsole, day: str) -> None:
    log_in(big)
    big.goto(f"/cases/{day}?audit=staff")
    audit = big.locator("#audit")
    expect(audit).to_have_attribute("open", "")
    expect(audit.locator("li").first).not_to_contain_text("answers by")
    big.goto(f"/cases/{day}?audit=submitter")
    lines = big.locator("#audit li")
    texts = lines.all_inner_texts()
    answering = [t for t in texts if " by Email, " in t]
    assert answering and len(answering) < 5, texts  # one line per session, not one per answer


def test_a_missing_case_is_an_html_page(big: Page, live: LiveConsole) -> None:
    log_in(big)
    response = big.goto("/cases/HT-0000-0000")
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(big.locator("main h1")).to_be_visible()
