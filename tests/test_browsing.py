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

    installed = browser.new_context(bypass_csp=True)  # type: ignore[attr-defined]
    plain = browser.new_context(bypass_csp=True)  # type: ignore[attr-defined]
    try:
        install_axe(installed)
        page, other = installed.new_page(), plain.new_page()
        page.set_content(BAD)
        other.set_content(BAD)
        package = Axe().run(other)
        assert {"image-alt", "label", "color-contrast", "link-name"} <= {name for name, _ in _found(package)}
        first = run_axe(page)  # evaluates the stored text
        assert first.violations_count == package.violations_count and _found(first) == _found(package)
        assert _found(run_axe(page)) == _found(package)  # axe already in the page: run again
        assert _found(run_axe(other)) == _found(package)  # a context without the text: the script is sent
        assert "image-alt" in first.generate_report()
    finally:
        installed.close()
        plain.close()
