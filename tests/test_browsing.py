"""tests/browsing.py's axe-core check finds what axe_playwright_python's own finds, sent once or not at all."""

from __future__ import annotations

import pytest

from tests.browsing import install_axe, run_axe

pytestmark = pytest.mark.browser

# An image without alt text, an unlabelled field, low contrast, an empty link, no title/lang/main/h1.
BAD = ("<html><body><img src='x.png'><input type=text>"
       "<p style='color:#eee;background:#fff'>faint</p><a href='#'></a></body></html>")


def _found(results: object) -> list[tuple[str, int]]:
    return sorted((v["id"], len(v["nodes"])) for v in results.response["violations"])  # type: ignore[attr-defined]


def test_the_stored_script_finds_the_same_violations_as_the_package(browser: object) -> None:
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(bypass_csp=True)  # type: ignore[attr-defined]
    try:
        install_axe(context)
        page = context.new_page()
        page.set_content(BAD)
        mine = run_axe(page)  # evaluates the stored text
        package = Axe().run(page)  # sends the script again, as every check did before
        assert {"image-alt", "label", "color-contrast", "link-name"} <= {name for name, _ in _found(package)}
        assert mine.violations_count == package.violations_count and _found(mine) == _found(package)
        assert "image-alt" in mine.generate_report()
    finally:
        context.close()
