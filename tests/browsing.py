"""What the browser tests share: a browser context per visitor, reused once cleared; axe-core sent to Chromium
once per browser context; screenshots when asked.

**Contexts.** Each visit (tests/console/test_browser.py's ``Walk``) is one person on their own device: until
27 Nov 2026 a new Playwright browser context each, which cost Chromium about 1.1 s of CPU per visit (a new
profile and a new renderer process; 1.4-1.7 s for a context, a page and a first page load against 0.4-0.5 s
in a cleared one, load 7-8). ``open_context`` now hands a visit a context an earlier visit of the same
module gave back (same server, same JavaScript setting), cleared first of everything a new visitor would
not have: its document (the page is on about:blank, so the last page's timers and refreshes are gone),
every cookie (session, CSRF, language), every permission, the HTTP cache, and the origin's site data
(local storage, IndexedDB, service workers, cache storage); the viewport goes back to the default and any
other page (a pop-up) is closed. The server sees a new visitor. A test that changes a context in a way the
clearing does not undo (a virtual WebAuthn authenticator) closes it instead (``Walk.reusable = False``).

**Screenshots** (``SCREENSHOTS``) are taken only with SAFESLOT_TEST_SCREENSHOTS=1 (`make screenshots`):
nothing asserts on them, and each full-page one cost about 0.3 s of wall and CPU time. They go to
test-artifacts/screenshots/ and, for the review page, docs/images/ (docs/disclosure-gate.md).

**axe-core.** ``axe_playwright_python``'s ``Axe().run(page)`` sends the whole of axe.min.js (about 570 KB) through
Playwright on every check, then runs ``axe.run`` with its default options. Sending it cost about 80 ms of
CPU per check (27 Nov 2026, docs/performance.md "Test suite"). Here ``install_axe`` gives the context the
script's text once, as an init script that only stores it in a string (no axe code runs on a page that is
never checked), and ``run_axe`` evaluates that text in the page when the page has no ``axe`` yet, then calls
``axe.run`` exactly as the package does: same script, same options (``DEFAULT_OPTIONS``), same results
(``AxeResults``), so the 0-violations assertion and its report are unchanged.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlsplit

from axe_playwright_python.base import AXE_SCRIPT, AxeResults
from axe_playwright_python.sync_playwright import DEFAULT_OPTIONS

SCREENSHOTS = os.environ.get("SAFESLOT_TEST_SCREENSHOTS") == "1"

SOURCE = "__safeslotAxeSource"
# A string, not code: storing it costs a page a few milliseconds of scanning; it is evaluated on a check.
_STORE = f"window.{SOURCE} = {json.dumps(AXE_SCRIPT)};"
# A global (indirect) eval of the same text, as page.evaluate(AXE_SCRIPT) runs it; a page without the
# stored text (a context not installed, or a document the init script did not reach) gets it sent.
_LOAD = f"""() => {{
    const loaded = () => typeof window.axe === 'object' && typeof window.axe.run === 'function';
    if (loaded()) return true;
    if (typeof window.{SOURCE} !== 'string') return false;
    try {{ (0, eval)(window.{SOURCE}); }} catch (e) {{ return false; }}  // a page CSP without 'unsafe-eval'
    return loaded();
}}"""
_RUN = f"axe.run({json.dumps(DEFAULT_OPTIONS)}).then(results => {{return results;}})"


def install_axe(context: Any) -> None:
    """Give every page of a browser context (Playwright's BrowserContext) the axe-core script's text."""
    context.add_init_script(script=_STORE)


def run_axe(page: Any) -> AxeResults:
    """axe-core on the page as it is now: what ``Axe().run(page)`` returns, without resending the script."""
    if not page.evaluate(_LOAD):
        page.evaluate(AXE_SCRIPT)
    return AxeResults(page.evaluate(_RUN))


VIEWPORT = {"width": 1100, "height": 900}
# Contexts given back, per browser: (browser, [((base URL, JavaScript on), context, page)]). The browser is
# kept beside its id so an id reused by a later module's browser never hands out a closed context.
_IDLE: dict[int, tuple[Any, list[tuple[tuple[str, bool], Any, Any]]]] = {}


def open_context(browser: Any, base_url: str, *, javascript: bool) -> tuple[Any, Any]:
    """A browser context and its page for a new visitor: a cleared one given back earlier, or a new one."""
    entry = _IDLE.get(id(browser))
    if entry is not None and entry[0] is browser:
        for i, (key, context, page) in enumerate(entry[1]):
            if key == (base_url, javascript):
                del entry[1][i]
                return context, page
    # bypass_csp: axe-core is injected by the test; the pages' own CSP allows only their files
    context = browser.new_context(
        base_url=base_url, java_script_enabled=javascript, bypass_csp=True, accept_downloads=True,
        locale="en-US", viewport=VIEWPORT,
    )
    if javascript:
        install_axe(context)
    return context, context.new_page()


def give_back(browser: Any, base_url: str, javascript: bool, context: Any, page: Any) -> None:
    """Clear a visitor's context (module docstring) and keep it for the next visitor; closed if that fails."""
    try:
        for other in context.pages:
            if other is not page:
                other.close()
        page.goto("about:blank")
        context.clear_cookies()
        context.clear_permissions()
        cdp = context.new_cdp_session(page)
        try:
            cdp.send("Network.clearBrowserCache")
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
            cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
        finally:
            cdp.detach()
        page.set_viewport_size(VIEWPORT)
    except Exception:  # a page or context the test left broken: the next visitor gets a new one
        context.close()
        return
    entry = _IDLE.get(id(browser))
    if entry is None or entry[0] is not browser:
        entry = _IDLE[id(browser)] = (browser, [])
    entry[1].append(((base_url, javascript), context, page))


def follow(page: Any, target: Any) -> None:
    """Click what submits a form or follows a link (a selector or a locator) and wait for the next page's load.

    A plain click returns once the navigation has started: `page.content()`, `page.url`, `count()` and
    `is_visible()` read whatever is there at that moment (an empty document mid-load, seen once in CI), and
    `inner_text("#done")` may still read the previous page's banner. Reads after `follow` see the new page.
    """
    with page.expect_navigation(wait_until="load"):
        if isinstance(target, str):
            page.click(target)
        else:
            target.click()
