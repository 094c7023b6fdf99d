"""The stop link and the dead letters in a real browser (Debian's Chromium), axe-core clean, English and Spanish."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from safeslot.app import create_app
from safeslot.cli import outbox_kinds
from safeslot.config import Environment, Settings
from safeslot.db import build_engine, build_sessionmaker, transaction
from safeslot.identity import service as identity
from safeslot.kit.crypto import KeyRing
from safeslot.notifications import outbox, reminders
from safeslot.notifications.senders import Router
from safeslot.scheduling import demo
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Office
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import LENIENT_LIMITS, NOW, TEST_HASHER, new_database
from tests.console.test_browser import Walk
from tests.console.test_browser_staff import PASSWORD, Story, _sign_in
from tests.live import serve

pytestmark = pytest.mark.browser


class Told(Story):
    stop_url = ""
    dead_id = 0


@pytest.fixture(scope="module")
def told(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Told]:
    tmp = tmp_path_factory.mktemp("browser-messages")
    url, drop = new_database("sqlite", None, tmp)
    engine = build_engine(url)
    maker = build_sessionmaker(engine)
    ring = KeyRing.generate()
    out = Told()
    settings = Settings(environment=Environment.test, crypto={"key_file": tmp / "keys.json"},
                        log={"signing_key_file": tmp / "log.key"}, rate_limits=LENIENT_LIMITS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(identity, "HASHER", TEST_HASHER)
        with transaction(maker) as session:
            demo.load(session, NOW.date(), weeks=2)
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
        outbox.drain(lambda: transaction(maker), Router(email=None, phone=None), ring, settings, lambda: due)
        with maker() as session:
            [dead] = outbox.dead_letters(session)
            out.dead_id = dead.id
        app = create_app(settings, engine=engine, clock=lambda: out.now, keyring=ring)
        with serve(app, host="localhost") as base:
            out.url = base
            yield out
    engine.dispose()
    drop()


def test_the_supervisor_sees_the_dead_letter_and_sends_it_again(browser: Any, told: Told) -> None:
    walk = Walk(browser, told.url, "messages-supervisor")
    try:
        _sign_in(walk, told, "supervisor")
        page = walk.page
        page.click("a[href='/console/messages']")
        assert page.locator(f"#message-{told.dead_id}").count() == 1
        walk.check("dead-letters")
        page.goto("/console/messages?lang=es")
        assert "Mensajes no enviados" in page.inner_text("h1")
        walk.check("dead-letters-es")
        page.goto("/console/messages?lang=en")
        page.locator(f"#message-{told.dead_id} button").click()
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
        page.click("#stop-button")
        assert page.locator("#stopped").count() == 1
        walk.check("stopped")
    finally:
        walk.close()
