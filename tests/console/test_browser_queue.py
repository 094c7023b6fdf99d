"""The walk-in queue in a real browser (Debian's Chromium, Playwright, axe-core), English and Spanish.

Stories on a served app (SQLite, the demo office, a clock the test sets):
* a walk-in takes a ticket on a phone-sized screen, waits (the page shows their place
  and a wait range and updates by itself), is called at a desk whose staff member
  speaks their language (a desk that does not speak it is not given the ticket), and
  is served;
* an appointment holder checks in with their code and is called before a walk-in
  who came after them;
* the lobby display shows ticket numbers and desks, never a name;
* without JavaScript the ticket page still follows the queue (a meta refresh).
axe-core finds 0 violations on every page (phone, desk, display, board), in both languages.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from safeslot.config import QueueSettings
from safeslot.console.public import walk_in
from safeslot.db import build_sessionmaker, transaction
from safeslot.identity import service as identity
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Office, Staff
from safeslot.scheduling.queue import service as queue
from safeslot.scheduling.queue.models import QueueTicket
from safeslot.scheduling.schemas import BookingIn
from tests.browsing import follow
from tests.conftest import NOW
from tests.console.test_browser import Walk
from tests.live import demo_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery staple"
PHONE = {"width": 390, "height": 844}
NAME = "Test Person A"
CALL_WAIT_MS = 30_000  # the page re-reads itself every second here (JS) or refreshes every 5 s (no JS)
TICKET = re.compile(r"^[AW]\d{3}$")


class Story:
    def __init__(self) -> None:
        self.now = NOW
        self.url = ""
        self.totp: dict[str, str] = {}
        self.desks: dict[str, int] = {}
        self.codes: dict[str, str] = {}
        self.engine: Any = None
        self.ring = KeyRing.generate()


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    told = Story()
    ring = told.ring
    with demo_site(tmp_path_factory, "browser-queue", weeks=1, ring=ring) as site:
        told.engine = site.engine
        # The pages re-read themselves every second instead of every 10: the same script and the same
        # change on the page, without the tests waiting out the production interval twice per story.
        site.monkeypatch.setattr(walk_in, "JS_POLL_SECONDS", 1)
        with site.session() as session:
            office = session.scalars(select(Office).where(Office.slug == "central")).one()
            for role in ("clerk", "supervisor"):
                _, secret = identity.create_account(
                    session, ring, username=role, display_name="Desk Example", password=PASSWORD, roles=[role],
                    office_id=office.id, now=NOW)
                told.totp[role] = secret
            told.desks = {m.display_name: m.id for m in session.scalars(select(Staff))}
            for lang in ("en", "es"):  # 09:15 and 09:30 in New York: due soon after the office opens
                at = NOW + dt.timedelta(minutes=15 if lang == "en" else 30)
                appointment = scheduling.book(session, ring, BookingIn.model_validate({
                    "office": "central", "service": "card", "starts_at": at.isoformat(), "name": NAME,
                    "language": None}), NOW - dt.timedelta(days=1))
                told.codes[lang] = scheduling.format_code(appointment.code)
        with site.serve(site.settings(queue={"refresh_seconds": 5}), lambda: told.now):
            told.url = site.url
            yield told


def _phone(browser: Any, story: Story, name: str, *, javascript: bool = True) -> Walk:
    walk = Walk(browser, story.url, name, javascript=javascript)
    walk.page.set_viewport_size(PHONE)
    return walk


def _clerk(browser: Any, story: Story, name: str, role: str = "clerk") -> Walk:
    walk = Walk(browser, story.url, name)
    page = walk.page
    page.goto("/console/sign-in")
    page.fill("#username", role)
    page.fill("#password", PASSWORD)
    page.fill("#totp", pyotp.TOTP(story.totp[role]).at(story.now))
    follow(page, "button[type=submit]")
    return walk


def _take_ticket(walk: Walk, lang: str, service: str, language: str | None, name: str | None = None) -> str:
    page = walk.page
    page.goto(f"/queue/central?lang={lang}")
    assert page.get_attribute("html", "lang") == lang
    walk.check("check-in")
    page.click(f"label[for=service-{service}]")
    if language:
        page.select_option("#language", language)
    if name:
        page.fill("#name", name)
    page.click("#walk-in ~ form button[type=submit]")
    page.wait_for_url(re.compile(r"/ticket/"))
    number = page.inner_text("#ticket-number strong").strip()
    assert TICKET.match(number)
    return number


def _desk(walk: Walk, story: Story, member: str, desk: str, lang: str) -> None:
    walk.page.goto(f"/console/queue?staff={story.desks[member]}&desk={desk.replace(' ', '+')}&lang={lang}")


def _call_next(walk: Walk) -> str:
    follow(walk.page, "#call-next")
    return walk.page.inner_text("#done")


TEXT = {
    "en": {"nobody": "Nobody is waiting whom you may serve.", "turn": "It is your turn. Please go to {desk}.",
           "done": "Your visit is done.", "called": "The next ticket is called"},
    "es": {"nobody": "No espera nadie a quien usted pueda atender.", "turn": "Es su turno. Por favor, vaya a {desk}.",
           "done": "Su visita terminó.", "called": "Se llamó al siguiente número"},
}
# (page language, service, language asked for, a desk that serves the service but not the language, one that does)
WALK_INS = [("en", "apply", "vi", ("Desk A", "Desk 1"), ("Desk D", "Desk 4")),
            ("es", "card", "es", ("Desk E", "Desk 5"), ("Desk C", "Desk 3"))]


@pytest.mark.parametrize(("lang", "service", "language", "wrong", "right"), WALK_INS, ids=["en", "es"])
def test_a_walk_in_on_a_phone_is_called_at_a_desk_that_speaks_their_language(
        browser: Any, story: Story, lang: str, service: str, language: str, wrong: tuple[str, str],
        right: tuple[str, str]) -> None:
    story.now = NOW + dt.timedelta(minutes=0 if lang == "en" else 1)  # a TOTP code signs in once: a new minute
    phone = _phone(browser, story, f"queue-walk-in-{lang}")
    clerk = _clerk(browser, story, f"queue-desk-{lang}")
    lobby = Walk(browser, story.url, f"queue-display-{lang}")
    try:
        number = _take_ticket(phone, lang, service, language, NAME)
        page = phone.page
        assert page.inner_text("#ahead").strip() == "0"
        assert re.search(r"\d+", page.inner_text("#estimate"))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"
        phone.check("waiting")

        _desk(clerk, story, wrong[0], wrong[1], lang)
        clerk.check("desk-open")
        assert TEXT[lang]["nobody"] in _call_next(clerk), f"{wrong[0]} does not speak {language}"
        _desk(clerk, story, right[0], right[1], lang)
        assert TEXT[lang]["called"] in _call_next(clerk)
        assert clerk.page.inner_text("#current-number").strip() == number
        assert NAME in clerk.page.inner_text("#current")  # the clerk at the desk may greet them
        clerk.check("desk-called")

        expected = TEXT[lang]["turn"].format(desk=right[1])
        page.wait_for_function(f"document.getElementById('called') && "
                               f"document.getElementById('called').innerText.includes({expected!r})",
                               timeout=CALL_WAIT_MS)
        assert right[1] in page.title(), "the tab's title names the desk, for a phone put away"
        phone.check("called")

        lobby.page.goto(f"/queue/central/display?lang={lang}")
        shown = lobby.page.inner_text("#lobby-calls")
        assert number in shown and right[1] in shown and NAME not in lobby.page.content()
        assert lobby.page.get_attribute("#lobby-calls", "aria-live") == "polite"
        lobby.check("display")

        follow(clerk.page, "#action-done")
        page.wait_for_function(f"document.getElementById('finished') && "
                               f"document.getElementById('finished').innerText.includes({TEXT[lang]['done']!r})",
                               timeout=CALL_WAIT_MS)
        phone.check("served")
    finally:
        phone.close()
        clerk.close()
        lobby.close()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_appointment_holder_checks_in_and_goes_before_later_walk_ins(
        browser: Any, story: Story, lang: str) -> None:
    story.now = NOW + dt.timedelta(minutes=6 if lang == "en" else 21)  # within 10 minutes of the appointment
    holder = _phone(browser, story, f"queue-appointment-{lang}")
    walk_in = _phone(browser, story, f"queue-later-walk-in-{lang}")
    clerk = _clerk(browser, story, f"queue-desk-appointment-{lang}")
    try:
        page = holder.page
        page.goto(f"/queue/central?lang={lang}")
        page.fill("#code", story.codes[lang].lower().replace("-", " "))  # as people type it
        page.click("#have-appointment ~ form button[type=submit]")
        page.wait_for_url(re.compile(r"/ticket/"))
        number = page.inner_text("#ticket-number strong").strip()
        assert number.startswith("A")
        holder.check("checked-in")
        later = _take_ticket(walk_in, lang, "card", None)
        assert later.startswith("W")
        assert walk_in.page.inner_text("#ahead").strip() == "1"  # the appointment holder is before them

        _desk(clerk, story, "Desk E", "Desk 5", lang)
        _call_next(clerk)
        assert clerk.page.inner_text("#current-number").strip() == number, "the appointment goes first"
        assert story.codes[lang] in clerk.page.inner_text("#current")
        clerk.check("called-appointment")
        page.wait_for_selector("#called", timeout=CALL_WAIT_MS)
        holder.check("called")
        walk_in.page.wait_for_function("document.getElementById('ahead').innerText.trim() === '0'",
                                       timeout=CALL_WAIT_MS)  # and then the walk-in is next in line
        follow(clerk.page, "#action-done")
        _call_next(clerk)
        assert clerk.page.inner_text("#current-number").strip() == later
        follow(clerk.page, "#action-done")
    finally:
        holder.close()
        walk_in.close()
        clerk.close()


def test_without_javascript_the_ticket_page_follows_the_queue(browser: Any, story: Story) -> None:
    story.now = NOW + dt.timedelta(minutes=40)
    phone = _phone(browser, story, "queue-no-js", javascript=False)
    clerk = _clerk(browser, story, "queue-desk-no-js")
    try:
        number = _take_ticket(phone, "es", "card", None)
        _desk(clerk, story, "Desk E", "Desk 5", "en")
        _call_next(clerk)
        assert clerk.page.inner_text("#current-number").strip() == number
        phone.page.wait_for_selector("#called", timeout=CALL_WAIT_MS)  # the meta refresh reloaded the page
        assert "Desk 5" in phone.page.inner_text("#called")
        phone.shot("called-without-js")
        follow(clerk.page, "#action-noshow")
    finally:
        phone.close()
        clerk.close()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_supervisor_board_and_the_poster(browser: Any, story: Story, lang: str) -> None:
    story.now = NOW + dt.timedelta(minutes=41 if lang == "en" else 42)
    with transaction(build_sessionmaker(story.engine)) as session:  # one visit served, whatever ran before
        office = scheduling.get_office(session, "central")
        queue.check_in_walk_in(session, story.ring, "central", "card", "es", NAME, story.now)
        before = sum(1 for t in session.scalars(select(QueueTicket)) if t.status == "done")
        ticket = queue.call_next(session, office, story.desks["Desk C"], "Desk 3", story.now, QueueSettings())
        assert ticket is not None
        queue.finish(session, office, ticket.id, story.desks["Desk C"], "done", story.now)
    walk = _clerk(browser, story, f"queue-board-{lang}", role="supervisor")
    try:
        walk.page.goto(f"/console/board?lang={lang}")
        assert walk.page.get_attribute("html", "lang") == lang
        assert int(walk.page.inner_text("#served")) == before + 1
        assert NAME not in walk.page.content()
        walk.check("board")
        walk.page.goto(f"/queue/central/poster?lang={lang}")
        assert walk.page.locator("img[src='/queue/central/qr.svg']").is_visible()
        walk.check("poster")
    finally:
        walk.close()
