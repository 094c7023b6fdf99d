"""The HTML report in a real browser (Debian's Chromium, Playwright), checked by axe-core (a screenshot with
SAFESLOT_TEST_SCREENSHOTS=1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from safeslot.reports import render
from safeslot.reports.compute import compute
from safeslot.reports.schemas import CheckpointRef
from tests.browsing import SCREENSHOTS, install_axe, run_axe
from tests.reports.test_compute import H2, big_log

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(java_script_enabled=True, viewport={"width": 1100, "height": 900})  # type: ignore[attr-defined]
    install_axe(context)
    yield context.new_page()
    context.close()


def test_the_html_report_has_no_accessibility_violations(page: object) -> None:
    report = compute(big_log(), H2)
    report.checkpoint = CheckpointRef("safeslot.localhost/log", 80, "A" * 43 + "=")
    html = render.to_html(report, "safeslot transparency report v1\n\n— safeslot.localhost/log sig\n").decode()
    page.set_content(html)  # type: ignore[attr-defined]
    if SCREENSHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "report-2026H2.png"), full_page=True)  # type: ignore[attr-defined]
    results = run_axe(page)
    assert results.violations_count == 0, results.generate_report()
    # Each chart is an image with a name, and its table is right beside it.
    assert page.locator("svg[role=img]").count() == len(report.tables)  # type: ignore[attr-defined]
    assert page.locator("figure + table").count() == len(report.tables)  # type: ignore[attr-defined]
