"""The console in headless Chromium (Debian's /usr/bin/chromium) against a real uvicorn on
127.0.0.1: log in with the keyboard, filter, open a case, ask the submitter, decide; hostile
answers render as text and run nothing. One browser and one server per module (and backend)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright

from intake import app as core
from intake.clock import Clock
from intake.settings import Settings, async_url
from review.auth import AuthService
from review.runtime import _Server
from review.service import ReviewService
from review.web import create_app
from tests.conftest import BACKENDS, PG_URL, TEST_KEY, reset_postgres
from tests.review.conftest import PASSWORD, cheap_hasher, make_case
from tests.review.test_web import XSS

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
T = TypeVar("T")


class LiveConsole:
    """uvicorn serving the console in its own thread and event loop, with seeded cases."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.refs: dict[str, str] = {}
        self.url = ""
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="live-console", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to the test thread
            self.error = exc
            self.ready.set()
        finally:
            self.loop.close()

    async def _serve(self) -> None:
        self.app = core.build(self.settings, clock=self.clock) if self.clock else core.build(self.settings)
        await self.app.store.prepare(now=self.app.clock())
        try:
            auth = AuthService(self.app.store, clock=self.app.clock, hasher=cheap_hasher())
            await auth.add_staff("alice@example.org", PASSWORD, "reviewer")
            self.refs["telegram"] = await make_case(self.app, "telegram", who="31337", answers={"case_title": "Fishing fleet off Zanzibar", "abuse_forms": "Forced labour"})
            self.refs["email"] = await make_case(self.app, "email", who="ngo@example.org", answers={"case_title": "Maids in Dubai", "abuse_forms": "Domestic servitude"})
            self.refs["xss"] = await make_case(self.app, "terminal", who="mallory", answers=XSS)
            self.refs["rtl"] = await make_case(self.app, "terminal", who="rtl", answers={"case_title": "عمل قسري في مزارع النخيل"})
            review = ReviewService(self.app.store, self.app.questionnaire, clock=self.app.clock)
            web = create_app(self.app, review=review, auth=auth)
            self.server = _Server(uvicorn.Config(web, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="off"))
            task = asyncio.create_task(self.server.serve())
            while not self.server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
            port = self.server.servers[0].sockets[0].getsockname()[1]
            self.url = f"http://127.0.0.1:{port}"
            self.ready.set()
            await task
        finally:
            await self.app.store.close()

    def start(self) -> None:
        self.thread.start()
        assert self.ready.wait(60), "console did not start"
        if self.error:
            raise self.error

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop (its database connections live there)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    async def outbox(self, ref: str) -> list[tuple[str, str, str | None]]:
        async with self.app.store.read() as uow:
            case = await uow.cases.by_reference(ref)
            assert case is not None
            return [(r.channel, r.kind, r.submitter_id) for r in await uow.outbox.list(case_id=case.id)]

    async def outbox_rows(self, ref: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(channel, kind, payload) of the case's outbox rows."""
        async with self.app.store.read() as uow:
            case = await uow.cases.by_reference(ref)
            assert case is not None
            return [(r.channel, r.kind, r.payload) for r in await uow.outbox.list(case_id=case.id)]


@pytest.fixture(scope="module", params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConsole]:
    yield from serve(request.param, tmp_path_factory)


def serve(backend: str, tmp_path_factory: pytest.TempPathFactory, clock: Clock | None = None) -> Iterator[LiveConsole]:
    """A live console on `backend` (sqlite | postgresql) with a fresh database and seeded cases."""
    tmp: Path = tmp_path_factory.mktemp("live")
    if backend == "sqlite":
        url = async_url(f"sqlite:///{tmp / 'intake.db'}")
    else:
        assert PG_URL
        url = async_url(PG_URL)
        reset_postgres(url)
    # in a thread: Playwright's sync API keeps an event loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(core.migrate, url).result()
    settings = Settings(env="test", data_dir=tmp / "data", database_url=url, secret_keys=TEST_KEY, _env_file=None)  # type: ignore[call-arg]
    console = LiveConsole(settings, clock)
    console.start()
    yield console
    console.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, live: LiveConsole) -> Iterator[Page]:
    context = browser.new_context(base_url=live.url, java_script_enabled=True)
    p = context.new_page()
    p.set_default_timeout(10_000)
    yield p
    context.close()


def log_in(page: Page) -> None:
    """With the keyboard only: the email field has focus, Tab to the password, Enter submits."""
    page.goto("/login")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type("alice@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Case queue")).to_be_visible()


def test_filter_open_request_info_and_decide(page: Page, live: LiveConsole) -> None:
    log_in(page)
    ref = live.refs["email"]
    page.locator("details.filters-fold > summary").click()
    page.get_by_label("Channel").select_option("email")
    page.get_by_role("button", name="Apply").click()
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Maids in Dubai")
    page.get_by_role("link", name=ref).click()
    expect(page.locator("#actions")).to_be_visible()
    page.get_by_role("button", name="Claim").click()
    expect(page.get_by_role("status").first).to_contain_text("You claimed the case.")
    page.locator("#ask-back > summary").click()
    page.get_by_label("Your question").fill("Which agency placed the workers?")
    page.locator("details.pick-section > summary", has_text="Alleged perpetrators").click()
    page.locator("input[name=reopen][value='perpetrators.0.perp_name']").check()
    page.get_by_role("button", name="Send request for information").click()
    expect(page.locator(".flash")).to_contain_text("queued for the submitter")
    expect(page.locator("#thread")).to_contain_text("Which agency placed the workers?")
    expect(page.locator("#thread")).to_contain_text("delivery: pending")
    assert [c for c in live.call(live.outbox(ref)) if c[1] == "followup"][0][0] == "email"
    page.get_by_role("button", name="Start review").click()
    page.locator("#decide > summary").click()
    page.get_by_label("accepted").check()
    page.get_by_label("Reason (internal)").fill("Strong, corroborated")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".case-head")).to_contain_text("accepted")
    timeline = page.locator("#audit")
    for action in ("case.viewed", "case.claimed", "case.info_requested", "case.status_changed", "case.decided"):
        expect(timeline).to_contain_text(action)


def test_request_info_on_a_telegram_case(page: Page, live: LiveConsole) -> None:
    log_in(page)
    page.locator("details.filters-fold > summary").click()
    page.get_by_label("Search the cases").fill("zanzibar")
    page.get_by_label("Search the cases").press("Enter")
    page.get_by_role("link", name=live.refs["telegram"]).click()
    page.locator("#ask-back > summary").click()
    page.get_by_label("Your question").fill("How many boats?")
    page.get_by_role("button", name="Send request for information").click()
    expect(page.locator(".case-head")).to_contain_text("needs info")
    assert [c[0] for c in live.call(live.outbox(live.refs["telegram"])) if c[1] == "followup"] == ["telegram"]


def test_hostile_answers_render_as_text_and_run_nothing(page: Page, live: LiveConsole) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    log_in(page)
    page.goto(f"/cases/{live.refs['xss']}")
    triage = page.locator("#answers")
    expect(triage).to_contain_text("<script>window.__pwned=1</script> title")
    expect(triage).to_contain_text('<img src=x onerror="window.__pwned=2">')
    expect(triage).to_contain_text("javascript:alert(1)")
    assert page.evaluate("() => window.__pwned === undefined")
    assert page.locator("#answers script, #answers img, #answers a[href^='javascript:']").count() == 0
    assert page.locator("script").count() == 0  # the console ships no scripts at all
    page.goto("/?q=pwned")
    expect(page.locator("table.queue")).to_contain_text("<script>")
    assert page.evaluate("() => window.__pwned === undefined") and dialogs == []


def test_rtl_text_is_isolated(page: Page, live: LiveConsole) -> None:
    log_in(page)
    page.goto(f"/cases/{live.refs['rtl']}")
    page.locator("#answers > summary").click()
    cell = page.locator("dd[dir=auto]", has_text="عمل قسري").first
    expect(cell).to_be_visible()
    assert cell.evaluate("el => getComputedStyle(el).direction") == "rtl"
