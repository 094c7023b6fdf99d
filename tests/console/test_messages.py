"""The stop link (public, no sign-in), the dead letters (staff, EN and ES) and STOP replies by text."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.cli import outbox_kinds
from safeslot.config import Settings
from safeslot.kit.crypto import KeyRing
from safeslot.notifications import outbox, reminders
from safeslot.notifications.models import ContactStop, ReminderLanguage
from safeslot.notifications.senders import Router
from safeslot.scheduling.models import Appointment
from tests.console.conftest import SignIn, book, free_starts
from tests.notifications.conftest import Recorder, in_session


def _booked(client: TestClient, session: Session, **fields: str) -> Appointment:
    path = book(client, free_starts(client)[-1], reminders="yes", contact_kind="phone", contact="555-0100",
                **fields)
    code = path.rsplit("/", 1)[1].replace("-", "")
    return session.scalars(select(Appointment).where(Appointment.code == code)).one()


def test_the_booking_page_remembers_its_language_for_reminders(client: TestClient, office: str,
                                                                 session: Session) -> None:
    client.get("/?lang=es")
    appointment = _booked(client, session)
    assert session.get(ReminderLanguage, appointment.id).language == "es"  # type: ignore[union-attr]


def test_the_stop_link_asks_first_then_stops_without_signing_in(
    client: TestClient, office: str, session: Session, settings: Settings,
) -> None:
    appointment = _booked(client, session)
    url = f"/reminders/stop/{reminders.stop_token(settings.secret_key, appointment.id)}"
    page = client.get(url)
    assert page.status_code == 200 and 'id="stop-button"' in page.text
    session.refresh(appointment)
    assert appointment.reminders_opt_in  # a link preview or a mail scanner stops nothing
    done = client.post(url, data={"List-Unsubscribe": "One-Click"})  # RFC 8058: no CSRF token to give
    assert done.status_code == 200 and 'id="stopped"' in done.text
    session.refresh(appointment)
    assert appointment.reminders_opt_in is False and appointment.status == "booked"
    assert session.scalars(select(ContactStop)).one().via == "link"
    assert client.post(url).status_code == 200  # again: still fine
    es = client.get(url + "?lang=es")
    assert "Dejar de recibir recordatorios" in es.text


def test_a_forged_stop_link_is_a_page_saying_so(client: TestClient, office: str, session: Session) -> None:
    appointment = _booked(client, session)
    for token in (f"{appointment.id}-{'0' * 32}", "not-a-token", "9" * 40):
        answer = client.post(f"/reminders/stop/{token}")
        assert answer.status_code == 404 and "stop link" in answer.text
    session.refresh(appointment)
    assert appointment.reminders_opt_in


def test_dead_letters_are_listed_for_the_supervisor_in_english_and_spanish_and_sent_again(
    client: TestClient, office: str, session: Session, keyring: KeyRing, settings: Settings, staff: SignIn,
) -> None:
    appointment = _booked(client, session)
    outbox_kinds.register_all()
    due = appointment.starts_at - dt.timedelta(hours=2)
    assert outbox.drain(in_session(session), Router(email=None, phone=None), keyring, settings,
                        lambda: due).dead == 1
    [dead] = outbox.dead_letters(session)

    supervisor = staff("supervisor")
    page = supervisor.get("/console/messages")
    assert page.status_code == 200 and f'id="message-{dead.id}"' in page.text
    assert "No way to send this kind of message is set up." in page.text
    assert "555-0100" not in page.text and "Test Person" not in page.text
    spanish = supervisor.get("/console/messages?lang=es")
    assert "Mensajes no enviados" in spanish.text and "Enviar de nuevo" in spanish.text

    form = {"csrf_token": _csrf(page.text)}
    again = supervisor.post(f"/console/messages/{dead.id}/retry", data=form, follow_redirects=False)
    assert again.status_code == 303
    assert outbox.dead_letters(session) == []
    recorder = Recorder()
    assert outbox.drain(in_session(session), Router(email=recorder, phone=recorder), keyring, settings,
                        lambda: due).sent == 1
    assert supervisor.post(f"/console/messages/{dead.id}/retry", data=form).status_code == 404


def test_a_clerk_does_not_see_dead_letters(office: str, staff: SignIn) -> None:
    assert staff("clerk").get("/console/messages").status_code == 403


def _csrf(html: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _signed(token: str, url: str, form: dict[str, str]) -> str:
    payload = url + "".join(f"{k}{form[k]}" for k in sorted(form))
    return base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def test_a_stop_reply_by_text_is_honoured_only_when_signed_by_the_provider(
    app_factory: Callable[..., TestClient], client: TestClient, settings: Settings, session: Session, office: str,
) -> None:
    assert client.post("/api/v1/sms/inbound", data={"From": "+15550100", "Body": "STOP"}).status_code == 404
    sms_on = settings.model_copy(update={"sms": settings.sms.model_copy(update={
        "provider": "twilio", "account_sid": "AC1", "auth_token": "tok", "from_number": "+15555550100"})})
    app = app_factory(settings=sms_on)
    url = sms_on.server.public_url.rstrip("/") + "/api/v1/sms/inbound"
    form = {"From": "+15555550100", "Body": "Stop", "To": "+15555550100", "MessageSid": "SM1"}
    forged = app.post("/api/v1/sms/inbound", data=form, headers={"X-Twilio-Signature": "bm9wZQ=="})
    assert forged.status_code == 403 and forged.headers["content-type"] == "application/problem+json"
    assert session.scalars(select(ContactStop)).all() == []
    signed = app.post("/api/v1/sms/inbound", data=form, headers={"X-Twilio-Signature": _signed("tok", url, form)})
    assert signed.status_code == 200 and "<Response>" in signed.text
    assert session.scalars(select(ContactStop)).one().via == "sms"
