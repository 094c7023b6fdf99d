"""The public pages in a real browser: Debian's Chromium driven by Playwright, checked by axe-core.

The app runs under uvicorn in a background thread on a free loopback port,
against a fresh SQLite database with the demo office and the tests' fixed
clock (tests/live.py's `demo_site`, which every browser story uses).
With SAFESLOT_TEST_SCREENSHOTS=1 (`make screenshots`) each step's screenshot goes to
test-artifacts/screenshots/ (ignored by git); by default none is taken (0.3 s each, never asserted).
Without /usr/bin/chromium-headless-shell (scripts/test-deps installs it) these tests are
skipped with the reason printed, and fail under CI=true.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browsing import SCREENSHOTS, give_back, open_context, run_axe
from tests.conftest import NOW
from tests.live import demo_site

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CODE = re.compile(r"^[0-9A-Z]{5}-[0-9A-Z]{5}$")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_site(tmp_path_factory, "browser") as site, site.serve(site.settings(), lambda: NOW, host="127.0.0.1"):
        yield site.url


class Walk:
    """One person's visit: a page, axe-core on each page, and screenshots of each step when asked."""

    def __init__(self, browser: object, base_url: str, name: str, *, javascript: bool = True) -> None:
        # a context of its own, or one an earlier visit gave back, cleared (tests/browsing.py)
        self.context, self.page = open_context(browser, base_url, javascript=javascript)
        self.browser = browser
        self.base_url = base_url
        self.reusable = True  # False: close() closes the context (a change the clearing would not undo)
        self.name = name
        self.javascript = javascript
        self.step = 0
        if SCREENSHOTS:
            SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(self, label: str) -> None:
        self.step += 1
        if SCREENSHOTS:
            self.page.screenshot(path=str(SHOTS / f"{self.name}-{self.step:02d}-{label}.png"), full_page=True)

    def check(self, label: str) -> None:
        """Screenshot (when asked), then axe-core: 0 violations (it needs JavaScript, so only in JS-on walks)."""
        self.shot(label)
        if not self.javascript:
            return
        results = run_axe(self.page)
        assert results.violations_count == 0, f"{label}: {results.generate_report()}"

    def close(self) -> None:
        if self.reusable:
            give_back(self.browser, self.base_url, self.javascript, self.context, self.page)
        else:
            self.context.close()


def _book(walk: Walk, *, interpreter: str | None, name: str, find: str, proceed: str, submit: str) -> str:
    page = walk.page
    page.click("label[for=central-service-apply]")
    if interpreter:
        page.select_option("#central-language", interpreter)
    walk.check("home-filled")
    page.click(f"button:has-text('{find}')")
    page.wait_for_url(re.compile(r"/book/slots"))
    walk.check("slots")
    page.locator(".times label").first.click()
    page.click(f"button:has-text('{proceed}')")
    page.wait_for_url(re.compile(r"/book/details"))
    walk.check("details")
    page.fill("#name", name)
    page.click(f"button:has-text('{submit}')")
    page.wait_for_url(re.compile(r"/booked/"))
    code = page.inner_text("#code").strip()
    assert CODE.match(code)
    return code


def test_booking_in_spanish_with_an_interpreter(browser: object, base_url: str) -> None:
    walk = Walk(browser, base_url, "spanish-booking")
    page = walk.page
    page.goto("/?lang=es")
    assert page.get_attribute("html", "lang") == "es"
    # the first Tab reaches the skip link, which is then visible
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className").startswith("usa-skipnav")
    assert page.locator(".skip-link").is_visible()
    walk.check("home")
    code = _book(walk, interpreter="es", name="M. E.", find="Buscar una hora", proceed="Continuar",
                 submit="Reservar esta hora")
    assert page.get_attribute("html", "lang") == "es"
    assert "Su cita está reservada" in page.inner_text("h1")
    body = page.inner_text("main")
    assert "español" in body and "marzo de 2027" in body
    walk.check("confirmation")
    with page.expect_download() as download:
        page.click("text=Agréguela a su calendario")
    ics = Path(download.value.path()).read_text(encoding="utf-8")
    assert "METHOD:REQUEST" in ics and "BEGIN:VTIMEZONE" in ics and "M. E." not in ics
    page.click(f"a[href='/manage/{code}']")
    page.wait_for_url(re.compile(f"/manage/{code}$"))
    walk.check("manage")
    # the switcher is a plain link on every page; the choice sticks for the next pages
    page.click("a.lang-switch[hreflang=en]")
    page.wait_for_url(re.compile(r"lang=en"))
    assert page.get_attribute("html", "lang") == "en" and "Your appointment" in page.inner_text("h1")
    page.goto("/manage")
    assert page.get_attribute("html", "lang") == "en"
    walk.close()


def test_cancel_by_code(browser: object, base_url: str) -> None:
    walk = Walk(browser, base_url, "cancel")
    page = walk.page
    page.goto("/")
    walk.check("home")
    code = _book(walk, interpreter=None, name="J", find="Find a time", proceed="Continue", submit="Book this time")
    walk.check("confirmation")
    page.goto("/manage")
    walk.check("lookup")
    page.fill("#code", "ZZZZZ-ZZZZZ")
    page.click("button:has-text('Find my appointment')")
    assert "We could not find an appointment" in page.inner_text("#code-error")
    walk.check("lookup-error")
    page.fill("#code", code.lower().replace("-", " "))
    page.click("button:has-text('Find my appointment')")
    page.wait_for_url(re.compile(f"/manage/{code}$"))
    walk.check("manage")
    page.click("text=Choose a new time")
    page.wait_for_url(re.compile(r"/reschedule$"))
    walk.check("reschedule")
    page.goto(f"/manage/{code}")
    page.click("text=Cancel this appointment")
    page.wait_for_url(re.compile(r"/cancel$"))
    walk.check("cancel-confirm")
    page.click("button:has-text('Yes, cancel it')")
    page.wait_for_url(re.compile(r"done=cancelled"))
    assert "Your appointment is cancelled." in page.inner_text("#done")
    assert page.inner_text("#status") == "Cancelled"
    walk.check("cancelled")
    page.goto("/manage/ZZZZZ-ZZZZZ")
    walk.check("not-found")
    walk.close()


def test_booking_with_javascript_off(browser: object, base_url: str) -> None:
    walk = Walk(browser, base_url, "no-js", javascript=False)
    page = walk.page
    page.goto("/?lang=es")
    walk.shot("home")
    page.click("label[for=central-service-card]")
    page.click("button:has-text('Buscar una hora')")
    page.wait_for_url(re.compile(r"/book/slots"))
    walk.shot("slots")
    page.locator(".times label").nth(2).click()
    page.click("button:has-text('Continuar')")
    page.wait_for_url(re.compile(r"/book/details"))
    # first without a name: the page explains, next to the field
    page.click("button:has-text('Reservar esta hora')")
    page.wait_for_url(re.compile(r"/book$"))
    assert "Escriba su nombre o sus iniciales." in page.inner_text("#name-error")
    walk.shot("details-error")
    page.fill("#name", "A. B.")
    page.click("label[for=reminders]")
    page.click("label[for=contact_kind-email]")
    page.fill("#contact", "ab@example.com")
    page.click("button:has-text('Reservar esta hora')")
    page.wait_for_url(re.compile(r"/booked/"))
    assert CODE.match(page.inner_text("#code").strip())
    walk.shot("confirmation")
    walk.close()


def test_axe_on_an_error_summary_with_javascript(browser: object, base_url: str) -> None:
    walk = Walk(browser, base_url, "details-errors")
    page = walk.page
    page.goto("/")
    page.click("label[for=central-service-interview]")
    page.click("button:has-text('Find a time')")
    page.wait_for_url(re.compile(r"/book/slots"))
    page.locator(".times label").first.click()
    page.click("button:has-text('Continue')")
    page.wait_for_url(re.compile(r"/book/details"))
    page.fill("#contact", "555-0100")
    page.click("button:has-text('Book this time')")
    page.wait_for_url(re.compile(r"/book$"))
    # the script moves focus to the error summary, so a screen reader reads it first
    page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'")
    walk.check("details-errors")
    walk.close()


def test_axe_on_the_office_finder_and_an_office_page(browser: object, base_url: str) -> None:
    for lang, button in (("en", "Find offices"), ("es", "Buscar oficinas")):
        walk = Walk(browser, base_url, f"finder-{lang}")
        page = walk.page
        page.goto(f"/?lang={lang}")
        page.fill("#where", "01103")
        walk.check("home-finder")
        page.click(f"button:has-text('{button}')")
        page.wait_for_url(re.compile(r"/find\?"))
        assert page.locator("a[href='/offices/central']").count() >= 1
        walk.check("finder-results")
        page.fill("#where", "99999")
        page.click(f"button:has-text('{button}')")
        page.wait_for_url(re.compile(r"where=99999"))
        walk.check("finder-unknown")
        page.goto("/offices/central")
        walk.check("office-page")
        page.goto("/offices")  # the list a network's home page links to
        assert page.locator("a[href='/offices/central']").count() == 1
        walk.check("office-list")
        walk.close()
