"""The stop link and the dead letters in a real browser (Debian's Chromium), axe-core clean, English and Spanish."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from safeslot.cli import outbox_kinds
from safeslot.identity import service as identity
from safeslot.notifications import outbox, reminders
from safeslot.notifications.senders import Router
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Office
from safeslot.scheduling.schemas import BookingIn
from tests.browsing import follow
from tests.conftest import NOW
from tests.console.test_browser import Walk
from tests.console.test_browser_staff import PASSWORD, Story, _sign_in
from tests.live import demo_site

pytestmark = pytest.mark.browser


class Told(Story):
    stop_url = ""
    dead_id = 0


@pytest.fixture(scope="module")
def told(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Told]:
    out = Told()
    with demo_site(tmp_path_factory, "browser-messages") as site:
        ring = site.ring
        settings = site.settings()
        with site.session() as session:
            office = session.query(Office).filter(Office.slug == "central").one()
            _, secret = identity.create_account(session, ring, username="supervisor", display_name="Desk Example",
                                                password=PASSWORD, roles=["supervisor"], office_id=office.id, now=NOW)
            out.totp["supervisor"] = secret
            day = NOW.date() + dt.timedelta(days=3)
            _, _, slots = scheduling.search_slots(session, "central", "apply", day, day, None, NOW)
            appointment = scheduling.book(session, ring, BookingIn.model_validate({
                "office": "central", "service": "apply", "starts_at": slots[0].starts_at.isoformat(),
                "name": "Test Person A", "contact": {"kind": "phone", "value": "555-0100"},
                "reminders_opt_in": True}), NOW)
            out.stop_url = f"/reminders/stop/{reminders.stop_token(settings.secret_key, appointment.id)}"
            due = appointment.starts_at - dt.timedelta(hours=2)
        outbox_kinds.register_all()
        outbox.drain(site.session, Router(email=None, phone=None), ring, settings, lambda: due)
        with site.session() as session:
            [dead] = outbox.dead_letters(session)
            out.dead_id = dead.id
        with site.serve(settings, lambda: out.now):
            out.url = site.url
            yield out


def test_the_supervisor_sees_the_dead_letter_and_sends_it_again(browser: Any, told: Told) -> None:
    walk = Walk(browser, told.url, "messages-supervisor")
    try:
        _sign_in(walk, told, "supervisor")
        page = walk.page
        follow(page, "a[href='/console/messages']")
        assert page.locator(f"#message-{told.dead_id}").count() == 1
        walk.check("dead-letters")
        page.goto("/console/messages?lang=es")
        assert "Mensajes no enviados" in page.inner_text("h1")
        walk.check("dead-letters-es")
        page.goto("/console/messages?lang=en")
        follow(page, page.locator(f"#message-{told.dead_id} button"))
        assert "back in the outbox" in page.inner_text("#done")
        assert page.locator("#no-dead-letters").count() == 1
        walk.check("sent-again")
    finally:
        walk.close()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_stop_link_asks_then_stops(browser: Any, told: Told, lang: str) -> None:
    walk = Walk(browser, told.url, f"stop-{lang}")
    try:
        page = walk.page
        page.goto(f"{told.stop_url}?lang={lang}")
        walk.check("ask")
        follow(page, "#stop-button")
        assert page.locator("#stopped").count() == 1
        walk.check("stopped")
    finally:
        walk.close()
