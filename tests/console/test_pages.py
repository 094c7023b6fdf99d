"""The public pages as a person uses them, through plain HTML forms (no JavaScript)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from safeslot.console import pages
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Appointment, SlotCapacity
from tests.console.conftest import book, free_starts, token

HTML = "text/html; charset=utf-8"


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Appointment)) or 0)


def test_home_in_english_and_spanish_and_the_choice_is_remembered(client: TestClient, office: str) -> None:
    english = client.get("/")
    assert english.status_code == 200 and english.headers["content-type"] == HTML
    assert '<html lang="en">' in english.text and "Book an appointment" in english.text
    assert 'href="/?lang=es"' in english.text  # the switcher, a plain link
    spanish = client.get("/?lang=es")
    assert '<html lang="es">' in spanish.text and "Pedir una cita" in spanish.text
    assert "vietnamita" in spanish.text  # interpreter languages named in the page's language
    again = client.get("/")  # the cookie remembers the choice
    assert '<html lang="es">' in again.text
    browser = TestClient(client.app).get("/", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert '<html lang="es">' in browser.text


def test_services_are_named_in_the_page_language_when_the_office_wrote_it(
    client: TestClient, office: str, session: Session
) -> None:
    spanish = client.get("/?lang=es").text
    assert "Solicitar beneficios" in spanish and "Apply for benefits" not in spanish
    assert "Traiga las cartas" in spanish
    english = client.get("/?lang=en").text
    assert "Apply for benefits" in english and "Solicitar beneficios" not in english
    # a service with no Spanish yet shows its English name, marked as English for screen readers
    office_row = scheduling.get_office(session, "central")
    scheduling.add_service(session, office_row, "permit", "Parking permit", "A permit for the lot.", 15)
    session.flush()
    spanish = client.get("/?lang=es").text
    assert '<span lang="en">Parking permit</span>' in spanish
    code = book(client, free_starts(client)[0]).rsplit("/", 1)[1]
    ics = client.get(f"/manage/{code}/calendar.ics?lang=es").text
    assert "SUMMARY:Solicitar beneficios" in ics


def test_book_from_start_to_end_with_post_redirect_get(client: TestClient, office: str, session: Session) -> None:
    starts = free_starts(client, language="es")
    assert starts, "the demo office has free times with a Spanish interpreter"
    details = client.get("/book/details", params={"office": "central", "service": "apply",
                                                  "start": starts[0], "language": "es", "lang": "es"})
    assert details.status_code == 200 and "Sus datos" in details.text
    assert "lunes, 1 de marzo de 2027" in details.text  # dates in the locale, in the office's zone
    where = book(client, starts[0], language="es")
    assert re.fullmatch(r"/booked/[0-9A-Z]{5}-[0-9A-Z]{5}", where)
    confirmation = client.get(where)
    code = where.rsplit("/", 1)[1]
    assert confirmation.status_code == 200 and code in confirmation.text
    assert "Su cita está reservada" in confirmation.text and "español" in confirmation.text
    assert f'href="/manage/{code}/calendar.ics"' in confirmation.text
    assert "M. E." not in confirmation.text  # the page never shows the name back
    assert _count(session) == 1
    # reloading the confirmation books nothing more (Post/Redirect/Get)
    client.get(where)
    assert _count(session) == 1


def test_a_form_without_a_valid_csrf_token_is_refused(client: TestClient, office: str, session: Session) -> None:
    start = free_starts(client)[0]
    form = {"office": "central", "service": "apply", "start": start, "name": "M. E."}
    missing = client.post("/book", data=form)
    assert missing.status_code == 403 and missing.headers["content-type"] == HTML
    assert "This form has expired" in missing.text
    forged = client.post("/book", data={**form, "csrf_token": "abc.0123"})
    assert forged.status_code == 403
    # a real token with another browser's cookie is refused too
    stolen = token(client)
    other = TestClient(client.app, raise_server_exceptions=False)
    other.get("/manage")
    assert other.post("/book", data={**form, "csrf_token": stolen}).status_code == 403
    assert _count(session) == 0


def test_invalid_input_is_shown_next_to_each_field(client: TestClient, office: str, session: Session) -> None:
    start = free_starts(client)[0]
    answer = client.post("/book", data={"office": "central", "service": "apply", "start": start, "name": " ",
                                        "contact_kind": "phone", "contact": "555-0100",
                                        "csrf_token": token(client)})
    assert answer.status_code == 422 and answer.headers["content-type"] == HTML
    assert 'id="error-summary"' in answer.text and 'href="#name"' in answer.text
    assert 'aria-describedby="name-hint name-error"' in answer.text
    assert 'id="name-error"' in answer.text and "Enter your name or your initials." in answer.text
    # a contact without the reminders box is not kept (collect the minimum)
    assert 'id="contact-error"' in answer.text and "check the box" in answer.text
    assert 'value="555-0100"' in answer.text  # what the person typed is kept for them to fix
    for name in ("Test\u202ePerson", "Test\x1b[2JPerson"):  # a bidirectional override, an escape sequence
        answer = client.post("/book", data={"office": "central", "service": "apply", "start": start, "name": name,
                                            "csrf_token": token(client)})
        assert answer.status_code == 422 and 'id="name-error"' in answer.text
    assert _count(session) == 0


def test_reminders_need_the_box_and_a_contact(client: TestClient, office: str, session: Session) -> None:
    start = free_starts(client)[0]
    no_contact = client.post("/book", data={"office": "central", "service": "apply", "start": start,
                                            "name": "M", "reminders": "yes", "csrf_token": token(client)})
    assert no_contact.status_code == 422 and "Enter a phone number or an email address" in no_contact.text
    book(client, start, reminders="yes", contact_kind="email", contact="person-m@example.com")
    appointment = session.scalars(select(Appointment)).one()
    assert appointment.reminders_opt_in is True and appointment.contact_enc is not None


def test_a_full_slot_offers_the_nearest_free_times(client: TestClient, office: str, session: Session) -> None:
    start = free_starts(client, service="card")[0]
    session.execute(update(SlotCapacity).values(booked=SlotCapacity.capacity).where(
        SlotCapacity.starts_at == dt.datetime.fromisoformat(start)))
    answer = client.post("/book", data={"office": "central", "service": "card", "start": start, "name": "M",
                                        "csrf_token": token(client)})
    assert answer.status_code == 409 and answer.headers["content-type"] == HTML
    assert "Someone just took the last place" in answer.text
    choices = re.findall(r'id="(n-\d+)" name="start" value="([^"]+)"', answer.text)
    assert len(choices) == 3 and start not in [v for _, v in choices]
    assert f'href="#{choices[0][0]}"' in answer.text  # the error summary leads to the first choice
    # choosing one of them books it
    again = client.post("/book", data={"office": "central", "service": "card", "start": choices[0][1],
                                       "name": "M", "csrf_token": token(client)}, follow_redirects=False)
    assert again.status_code == 303
    assert _count(session) == 1


def test_manage_by_code_reschedule_and_cancel(client: TestClient, office: str) -> None:
    starts = free_starts(client)
    code = book(client, starts[0]).rsplit("/", 1)[1]
    # the code is read forgivingly: lower case, without the hyphen
    found = client.post("/manage", data={"code": code.replace("-", "").lower(), "csrf_token": token(client)},
                        follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == f"/manage/{code}"
    page = client.get(f"/manage/{code}")
    assert "Booked" in page.text and f"/manage/{code}/reschedule" in page.text
    first_ics = client.get(f"/manage/{code}/calendar.ics").text
    choose = client.get(f"/manage/{code}/reschedule")
    new_start = re.findall(r'name="start" value="([^"]+)"', choose.text)[3]
    moved = client.post(f"/manage/{code}/reschedule", data={"start": new_start, "csrf_token": token(client)},
                        follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"/manage/{code}?done=moved"
    assert "Your appointment has a new time." in client.get(moved.headers["location"]).text
    moved_ics = client.get(f"/manage/{code}/calendar.ics").text
    assert "SEQUENCE:0" in first_ics and "SEQUENCE:1" in moved_ics
    assert _uid(first_ics) == _uid(moved_ics)
    assert client.get(f"/manage/{code}/cancel").status_code == 200
    gone = client.post(f"/manage/{code}/cancel", data={"csrf_token": token(client)}, follow_redirects=False)
    assert gone.headers["location"] == f"/manage/{code}?done=cancelled"
    after = client.get(gone.headers["location"])
    assert "Your appointment is cancelled." in after.text and "Cancelled" in after.text
    assert f"/manage/{code}/reschedule" not in after.text
    cancelled_ics = client.get(f"/manage/{code}/calendar.ics")
    assert "method=CANCEL" in cancelled_ics.headers["content-type"]
    body = cancelled_ics.text
    assert "METHOD:CANCEL" in body and "STATUS:CANCELLED" in body and "SEQUENCE:2" in body
    assert _uid(body) == _uid(first_ics)
    # a cancelled appointment cannot be moved: a page says so
    refused = client.get(f"/manage/{code}/reschedule")
    assert refused.status_code == 409 and "This appointment cannot be changed" in refused.text


def _uid(ics: str) -> str:
    found = re.search(r"^UID:(.+)$", ics, re.M)
    assert found
    return found.group(1).strip()


def test_calendar_file_has_timezone_and_no_personal_data(client: TestClient, office: str) -> None:
    start = free_starts(client)[0]
    code = book(client, start, name="Test Person M", reminders="yes", contact_kind="phone",
                contact="555-0100", accommodation="wheelchair").rsplit("/", 1)[1]
    answer = client.get(f"/manage/{code}/calendar.ics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    assert "attachment" in answer.headers["content-disposition"]
    body = answer.text
    assert "METHOD:REQUEST" in body and "BEGIN:VTIMEZONE" in body and "TZID:America/New_York" in body
    assert f"DTSTART;TZID=America/New_York:{dt.datetime.fromisoformat(start):%Y%m%dT%H%M%S}" in body
    for secret in ("Person M", "555-0100", "wheelchair", code, code.replace("-", "")):
        assert secret not in body


def test_lookup_with_a_wrong_code_says_what_to_do(client: TestClient, office: str) -> None:
    answer = client.post("/manage", data={"code": "ABCDE-FGHJK", "csrf_token": token(client)})
    assert answer.status_code == 422 and 'id="code-error"' in answer.text
    assert "We could not find an appointment with that code." in answer.text
    short = client.post("/manage", data={"code": "ABC", "csrf_token": token(client)})
    assert "The code has 10 letters and numbers." in short.text


@pytest.mark.parametrize("path", ["/manage/ZZZZZ-ZZZZZ", "/book/slots?office=nowhere&service=x",
                                  "/manage/ZZZZZ-ZZZZZ/calendar.ics"])
def test_errors_are_pages_not_stack_traces(client: TestClient, office: str, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404 and answer.headers["content-type"] == HTML
    assert "<h1>We could not find" in answer.text and "Traceback" not in answer.text


def test_bad_dates_are_explained_next_to_the_fields(client: TestClient, office: str) -> None:
    answer = client.get("/book/slots", params={"office": "central", "service": "apply",
                                               "from": "2027-03-05", "to": "2027-03-01"})
    assert answer.status_code == 422 and 'id="to-error"' in answer.text
    garbled = client.get("/book/slots", params={"office": "central", "service": "apply", "from": "March"})
    assert garbled.status_code == 422 and "Enter a date like 2027-03-15" in garbled.text


def test_pages_are_not_in_the_api_document_and_send_safe_headers(client: TestClient, office: str) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or p.split("/")[1] in ("book", "booked", "manage", "static")]
    page = client.get("/")
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert client.get("/static/safeslot.css").status_code == 200


def test_pages_stay_usable_without_uswds(
    client: TestClient, office: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "USWDS_CSS", pages.STATIC / "missing" / "uswds.css")
    page = client.get("/")
    assert page.status_code == 200
    assert "/static/uswds/" not in page.text and re.search(r'href="/static/safeslot\.[0-9a-f]{12}\.css"', page.text)


def test_a_booking_refused_for_want_of_an_interpreter_takes_no_place(
    client: TestClient, office: str, session: Session
) -> None:
    from safeslot.scheduling.models import StaffHold

    start = free_starts(client, language="vi")[0]
    # Desk D and Desk F, the two who speak Vietnamese, serve two people at that time ...
    for name in ("Test Person A", "Test Person B"):
        taken = client.post("/book", data={"office": "central", "service": "apply", "start": start, "name": name,
                                           "language": "vi", "csrf_token": token(client)})
        assert taken.status_code in (200, 303), taken.text
    before = session.scalar(select(func.count()).select_from(StaffHold))
    # ... so a third finds desks free but no interpreter
    answer = client.post("/book", data={"office": "central", "service": "apply", "start": start, "name": "M",
                                        "language": "vi", "csrf_token": token(client)})
    assert answer.status_code == 409 and "No interpreter is free at that time" in answer.text
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(StaffHold)) == before
    assert _count(session) == 2
    # the language switcher of a page that answers a POST leads to a page that can be fetched
    assert 'href="/book/details?office=central&amp;service=apply&amp;start=' in answer.text


def test_moving_or_cancelling_needs_the_csrf_token(client: TestClient, office: str, session: Session) -> None:
    starts = free_starts(client)
    code = book(client, starts[0]).rsplit("/", 1)[1]
    assert client.post(f"/manage/{code}/cancel").status_code == 403
    assert client.post(f"/manage/{code}/reschedule", data={"start": starts[2]}).status_code == 403
    appointment = session.scalars(select(Appointment)).one()
    session.refresh(appointment)
    assert appointment.status == "booked" and appointment.sequence == 0
    assert appointment.starts_at == dt.datetime.fromisoformat(starts[0])


def test_over_https_the_csrf_cookie_is_host_only_and_secure(app_factory: object, office: str) -> None:
    secure = TestClient(client_app(app_factory), base_url="https://testserver")
    page = secure.get("/manage")
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("__Host-safeslot_csrf=") and "Secure" in cookie and "HttpOnly" in cookie
    assert "Domain" not in cookie and "Path=/" in cookie
    found = secure.post("/manage", data={"code": "ABCDE-FGHJK", "csrf_token": token(secure)})
    assert found.status_code == 422  # the token was accepted; the code is simply unknown


def client_app(app_factory: object) -> object:
    return app_factory().app  # type: ignore[operator]
