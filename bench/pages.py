"""Bench: what the public pages cost a prepaid phone, in Debian's Chromium through the DevTools protocol.

Run from the repository root: `.venv/bin/python bench/pages.py`.

Serves the app (uvicorn, a free loopback port) on a temporary SQLite database
with the demo office, then walks, in one fresh browser profile under emulated
slow 3G (400 kbit/s down and up, 400 ms round trip; DevTools
``Network.emulateNetworkConditions``):

1. first visit: the three steps of the booking flow (``/`` choose a service,
   ``/book/slots`` choose a time, ``/book/details`` your details), then the
   records page (``/records``);
2. repeat visit: the same four pages again, same profile (its HTTP cache).

For each page it prints the bytes transferred (DevTools
``Network.loadingFinished.encodedDataLength``: headers and compressed bodies of
every request the page made) and the Largest Contentful Paint (the browser's own
``largest-contentful-paint`` entry). The baseline is the measurement taken
before this work: a first visit to ``/`` transferred 602 KB (527 KB of it the
whole USWDS stylesheet), uncompressed, and paid it again on every visit.
Targets: first visit to the whole booking flow <= 120 KB, repeat visit
<= 15 KB per page, LCP <= 2.5 s. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.live import serve  # noqa: E402

from safeslot import migrate  # noqa: E402
from safeslot.app import create_app  # noqa: E402
from safeslot.config import Environment, Settings  # noqa: E402
from safeslot.db import build_engine, build_sessionmaker, transaction  # noqa: E402
from safeslot.kit.crypto import KeyRing  # noqa: E402
from safeslot.scheduling import demo  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
BASELINE_FIRST_KB = 602.0  # GET / before compression, cache headers and the purged stylesheet
FLOW_BUDGET_KB = 120.0
REPEAT_BUDGET_KB = 15.0
LCP_BUDGET_MS = 2500.0

LCP_JS = """() => new Promise((resolve) => {
  new PerformanceObserver((list) => {
    const entries = list.getEntries();
    resolve(entries[entries.length - 1].startTime);
  }).observe({type: "largest-contentful-paint", buffered: true});
  setTimeout(() => resolve(null), 5000);
})"""


class Meter:
    """Bytes on the wire for the requests of one page, from the DevTools Network domain."""

    def __init__(self, cdp: Any) -> None:
        self.total = 0
        self.requests = 0
        cdp.on("Network.loadingFinished", self._finished)

    def _finished(self, event: dict[str, Any]) -> None:
        self.total += int(event.get("encodedDataLength", 0))
        self.requests += 1

    def reset(self) -> None:
        self.total = 0
        self.requests = 0


Row = tuple[str, int, int, float | None]


def walk(page: Any, meter: Meter, base: str, urls: list[str] | None) -> tuple[list[Row], list[str]]:
    """Load the four pages (clicking through the booking flow the first time); returns per-page figures."""
    rows: list[Row] = []
    visited: list[str] = []

    def measure(label: str) -> None:
        page.wait_for_load_state("load")
        lcp = page.evaluate(LCP_JS)
        rows.append((label, meter.total, meter.requests, lcp))
        visited.append(page.url)

    steps = ["1 choose a service", "2 choose a time", "3 your details", "records page"]
    if urls is not None:
        for label, url in zip(steps, urls, strict=True):
            meter.reset()
            page.goto(url)
            measure(label)
        return rows, visited
    meter.reset()
    page.goto(base + "/")
    measure(steps[0])
    meter.reset()
    page.click("label[for=central-service-apply]")
    page.click("form:has(#central-service-apply) button[type=submit]")
    page.wait_for_url("**/book/slots**")
    measure(steps[1])
    meter.reset()
    page.locator(".times label").first.click()
    page.click("form[action='/book/details'] button[type=submit]")
    page.wait_for_url("**/book/details**")
    measure(steps[2])
    meter.reset()
    page.goto(base + "/records")
    measure(steps[3])
    return rows, visited


def measure_app(app: Any, pw: Any) -> tuple[list[Row], list[Row]]:
    """First and repeat visit of the four pages, in a fresh browser profile under slow 3G."""
    with serve(app) as base:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="en-US", viewport={"width": 360, "height": 640})
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", SLOW_3G)
        meter = Meter(cdp)
        first, urls = walk(page, meter, base, None)
        repeat, _ = walk(page, meter, base, urls)
        browser.close()
    return first, repeat


def as_before(app: Any, tmp: Path) -> bool:
    """The same app as it was before lightening: the whole USWDS (css, fonts, images) under plain names, served
    by Starlette's StaticFiles without cache headers, no compression. False when USWDS is not installed."""
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    from safeslot.console import pages
    from safeslot.console.assets import STATIC

    dist = ROOT / "build" / "npm" / "node_modules" / "@uswds" / "uswds" / "dist"
    if not (dist / "css" / "uswds.min.css").exists():
        return False
    static = tmp / "static-before"
    shutil.copytree(STATIC, static, ignore=shutil.ignore_patterns("uswds"))
    for part in ("css", "fonts", "img"):
        shutil.copytree(dist / part, static / "uswds" / part)
    old = {"uswds/uswds.css": "/static/uswds/css/uswds.min.css"}
    for lang in ("en", "es"):
        pages.environment(lang).globals["asset"] = lambda name: old.get(name, f"/static/{name}")
    delivery_layers = ("HeadAsGet", "CompressMiddleware")
    app.user_middleware[:] = [m for m in app.user_middleware if m.cls.__name__ not in delivery_layers]
    for i, route in enumerate(app.router.routes):
        if isinstance(route, Mount) and route.path == "/static":
            app.router.routes[i] = Mount("/static", StaticFiles(directory=static), name="static")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.parse_args()
    if not os.path.exists(CHROMIUM):
        # The tests run on Chromium's headless shell (scripts/test-deps); this bench measures a person's browser.
        print(f"{CHROMIUM} is missing: apt-get install -y chromium (the full browser, which this bench measures)",
              file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    from safeslot.console import pages
    from safeslot.console.assets import asset_url

    today = dt.datetime.now(dt.UTC).date()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        url = f"sqlite:///{tmp}/pages.db"
        engine = build_engine(url)
        migrate.upgrade(engine)
        with transaction(build_sessionmaker(engine)) as session:
            demo.load(session, today, weeks=2)
        limits = _lenient()
        settings = Settings(environment=Environment.test, crypto={"key_file": Path(tmp) / "keys.json"},
                            log={"signing_key_file": Path(tmp) / "log.key"},
                            **({"rate_limits": limits} if limits is not None else {}))
        ring = KeyRing.generate()
        before = create_app(settings, engine=engine, keyring=ring)
        baseline = measure_app(before, pw) if as_before(before, Path(tmp)) else None
        for lang in ("en", "es"):
            pages.environment(lang).globals["asset"] = asset_url
        first, repeat = measure_app(create_app(settings, engine=engine, keyring=ring), pw)
        engine.dispose()
    return report(first, repeat, baseline)


def _lenient() -> Any:
    """Rate limits out of the way: the bench loads the same pages many times from one address."""
    try:
        from tests.conftest import LENIENT_LIMITS
    except ImportError:  # an older tree without rate limits
        return None
    return LENIENT_LIMITS


def report(first: list[Row], repeat: list[Row], baseline: tuple[list[Row], list[Row]] | None) -> int:
    def kb(n: int) -> float:
        return n / 1000

    print("slow 3G (400 kbit/s, 400 ms RTT), Debian Chromium, 360x640")
    if baseline is not None:
        print("before (same run: whole USWDS with its fonts, plain names, no cache headers, no compression)")
        _table(*baseline)
        print("now")
    _table(first, repeat)
    flow = sum(b for _, b, _, _ in first[:3])
    home = first[0][1]
    worst_repeat = max(b for _, b, _, _ in repeat)
    worst_lcp = max((lcp or 0) for _, _, _, lcp in first + repeat)
    print(f"first visit to / : {kb(home):.1f} KB vs {BASELINE_FIRST_KB:.0f} KB before this work "
          f"(ratio {kb(home) / BASELINE_FIRST_KB:.3f})")
    if baseline is not None:
        b_home, b_flow = baseline[0][0][1], sum(b for _, b, _, _ in baseline[0][:3])
        b_repeat = max(b for _, b, _, _ in baseline[1])
        b_lcp = max((lcp or 0) for _, _, _, lcp in baseline[0] + baseline[1])
        print(f"same-run baseline: / {kb(b_home):.1f} KB, flow {kb(b_flow):.1f} KB, largest repeat "
              f"{kb(b_repeat):.1f} KB, worst LCP {b_lcp:.0f} ms; ratios now/before: / {home / b_home:.3f}, "
              f"flow {sum(b for _, b, _, _ in first[:3]) / b_flow:.3f}, repeat "
              f"{max(b for _, b, _, _ in repeat) / b_repeat:.3f}")
    print(f"whole booking flow, first visit: {kb(flow):.1f} KB (target <= {FLOW_BUDGET_KB:.0f}; "
          f"{kb(flow) / BASELINE_FIRST_KB:.3f} of the old cost of / alone)")
    print(f"largest repeat visit: {kb(worst_repeat):.1f} KB (target <= {REPEAT_BUDGET_KB:.0f})")
    print(f"worst LCP: {worst_lcp:.0f} ms (target <= {LCP_BUDGET_MS:.0f})")
    ok = kb(flow) <= FLOW_BUDGET_KB and kb(worst_repeat) <= REPEAT_BUDGET_KB and worst_lcp <= LCP_BUDGET_MS
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


def _table(first: list[Row], repeat: list[Row]) -> None:
    print(f"{'page':22} {'first KB':>9} {'req':>4} {'LCP ms':>7} | {'repeat KB':>9} {'req':>4} {'LCP ms':>7}")
    for (label, b1, r1, l1), (_, b2, r2, l2) in zip(first, repeat, strict=True):
        print(f"{label:22} {b1 / 1000:9.1f} {r1:4d} {l1 or 0:7.0f} | {b2 / 1000:9.1f} {r2:4d} {l2 or 0:7.0f}")


if __name__ == "__main__":
    sys.exit(main())
