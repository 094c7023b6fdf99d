"""What the browser tests share: axe-core sent to Chromium once per browser context, screenshots when asked.

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
