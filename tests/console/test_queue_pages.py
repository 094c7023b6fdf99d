"""The queue's pages over HTTP (no browser): check in, the ticket, the display, the desk and the board."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.privacy.models import AccessRecord
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Staff
from safeslot.scheduling.queue.models import QueueTicket
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW
from tests.console.conftest import HTML, SignIn

TICKET = re.compile(r"/ticket/([A-Za-z0-9_-]+)")


def take(client: TestClient, service: str = "card", language: str = "", name: str = "", lang: str = "en") -> str:
    answer = client.post(f"/queue/central/ticket?lang={lang}", data={"service": service, "language": language,
                                                                     "name": name}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    found = TICKET.search(answer.headers["location"])
    assert found
    return found.group(1)


def test_a_walk_in_takes_a_ticket_without_any_cookie(client: TestClient, office: str) -> None:
    page = client.get("/queue/central?lang=es")
    assert page.status_code == 200 and 'lang="es"' in page.text and "Tome un número" in page.text
    assert "set-cookie" not in page.headers
    token = take(client, name="Test Person A", lang="es")
    ticket = client.get(f"/ticket/{token}?lang=es")
    assert ticket.status_code == 200 and "set-cookie" not in ticket.headers
    assert "W001" in ticket.text and "Test Person A" not in ticket.text
    assert '<meta http-equiv="refresh"' in ticket.text and "<noscript>" in ticket.text
    assert 'aria-live="polite"' in ticket.text
    api = client.get(f"/api/v1/queue/tickets/{token}").json()
    assert api["number"] == "W001" and api["status"] == "waiting" and api["ahead"] == 0
    assert api["wait_max_minutes"] >= 5 and "name" not in api


def test_bad_check_ins_say_what_to_do(client: TestClient, office: str) -> None:
    answer = client.post("/queue/central/ticket", data={"service": "nope"})
    assert answer.status_code == 422 and "Choose what you came for." in answer.text
    answer = client.post("/queue/central/check-in?lang=es", data={"code": "ABCDE-12345"})
    assert answer.status_code == 404 and "No encontramos una cita con ese código" in answer.text
    answer = client.post("/queue/central/ticket", data={"service": "card", "language": "fr"})
    assert answer.status_code == 422 and "Choose a language from the list." in answer.text
    answer = client.post("/queue/central/ticket", data={"service": "card", "name": "Test\u202ePerson"})
    assert answer.status_code == 422 and "Check your answers and try again." in answer.text
    # another site's form is refused (no cookie to lean on: Fetch Metadata / Origin)
    answer = client.post("/queue/central/ticket", data={"service": "card"},
                         headers={"sec-fetch-site": "cross-site"}, follow_redirects=False)
    assert answer.status_code == 403
    answer = client.post("/queue/central/ticket", data={"service": "card"},
                         headers={"origin": "https://elsewhere.example"}, follow_redirects=False)
    assert answer.status_code == 403
    assert client.get("/ticket/not-a-real-ticket-token").status_code == 404
    assert client.get("/queue/nowhere").status_code == 404


def test_qr_codes_are_svg(client: TestClient, office: str) -> None:
    door = client.get("/queue/central/qr.svg")
    assert door.status_code == 200 and door.headers["content-type"].startswith("image/svg+xml")
    assert door.text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')  # a file of its own, for an <img>
    assert "QR" in client.get("/queue/central/poster").text


def test_the_desk_calls_and_the_display_shows_numbers_only(
        client: TestClient, staff: SignIn, session: Session, office: str) -> None:
    token = take(client, "card", "es", name="Test Person A")
    clerk = staff("clerk")
    member = session.scalars(select(Staff).where(Staff.display_name == "Desk C")).one()
    choose = clerk.get("/console/queue")
    assert choose.status_code == 200 and "Who is at this desk" in choose.text
    desk = clerk.get("/console/queue", params={"staff": member.id, "desk": "Desk 3"})
    assert "W001" in desk.text and "Test Person A" not in desk.text  # the waiting list has no names
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', desk.text)
    assert csrf
    called = clerk.post("/console/queue/call-next", data={"staff_id": member.id, "desk": "Desk 3",
                                                          "csrf_token": csrf.group(1)}, follow_redirects=True)
    assert called.status_code == 200 and "Test Person A" in called.text  # the clerk at the desk greets them
    reads = session.scalars(select(AccessRecord).where(AccessRecord.record_type == "queue_ticket")).all()
    assert [r.purpose for r in reads] == ["front_desk"]
    shown = client.get("/queue/central/display?lang=es")
    assert "W001" in shown.text and "Desk 3" in shown.text and "Test Person A" not in shown.text
    assert 'aria-live="polite"' in shown.text
    assert "Desk 3" in client.get(f"/ticket/{token}").text
    display = client.get("/api/v1/offices/central/queue/display").json()
    assert display == [{"number": "W001", "desk": "Desk 3"}]


def test_the_board_is_for_the_supervisor(
        client: TestClient, staff: SignIn, office: str, app_factory: Callable[..., TestClient]) -> None:
    take(client, "apply")
    supervisor = staff("supervisor")
    board = supervisor.get("/console/board")
    assert board.status_code == 200 and "W001" in board.text
    # the ticket's kind and state, and the day's counts, in words (console/labels.py), in the page's language
    assert '<td class="code-inline">W001</td><td>Walk-in</td>' in board.text and "<td>Waiting</td>" in board.text
    spanish = supervisor.get("/console/board?lang=es").text
    assert '<td class="code-inline">W001</td><td>Sin cita</td>' in spanish and "<td>Esperando</td>" in spanish
    assert "<td>Walk-in</td>" not in spanish and "<td>waiting</td>" not in spanish
    clerk = staff("clerk")
    assert clerk.get("/console/board").status_code == 403
    anonymous = app_factory()
    anonymous.headers["accept"] = HTML
    assert anonymous.get("/console/board", follow_redirects=False).status_code == 303


def test_a_clerk_check_in_puts_the_person_in_the_queue(
        client: TestClient, staff: SignIn, session: Session, keyring: KeyRing, office: str) -> None:
    """Checked in on the appointments page or through the API: the appointment holder waits with a ticket."""
    at = NOW + dt.timedelta(minutes=15)
    codes = []
    for _ in range(2):
        appointment = scheduling.book(session, keyring, BookingIn.model_validate(
            {"office": "central", "service": "card", "starts_at": at.isoformat(), "name": "Test Person B"}),
            NOW - dt.timedelta(days=1))
        codes.append(scheduling.format_code(appointment.code))
    clerk = staff("clerk")
    page = clerk.get("/console/appointments")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    answer = clerk.post(f"/console/appointments/{codes[0]}/status",
                        data={"status": "checked-in", "csrf_token": csrf.group(1)})
    assert answer.status_code == 200
    answer = clerk.post(f"/api/v1/appointments/{codes[1]}/status", json={"status": "checked-in"},
                        headers={"x-csrf-token": csrf.group(1)})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "checked-in"
    tickets = session.scalars(select(QueueTicket).order_by(QueueTicket.number)).all()
    assert [(t.kind, t.number) for t in tickets] == [("appointment", 1), ("appointment", 2)]


def test_the_closed_office_gives_no_ticket_and_says_so(
        app_factory: Callable[..., TestClient], office: str) -> None:
    evening = app_factory(clock=lambda: NOW + dt.timedelta(hours=9))  # 18:00 in New York
    page = evening.get("/queue/central")
    assert 'id="closed"' in page.text and 'action="/queue/central/ticket' not in page.text
    answer = evening.post("/queue/central/ticket", data={"service": "card"})
    assert answer.status_code == 422 and "The office is closed now." in answer.text
    api = evening.post("/api/v1/offices/central/queue/tickets", json={"service": "card"})
    assert api.status_code == 409 and api.json()["type"] == "/problems/office-closed"


def test_the_api_answers_problems_that_say_what_to_do(
        client: TestClient, staff: SignIn, session: Session, office: str) -> None:
    bad = client.post("/api/v1/offices/central/queue/tickets", json={"service": "card", "name": "x" * 101})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert client.post("/api/v1/offices/central/queue/tickets", json={"service": "card", "extra": 1}).status_code == 422
    for name in ("Test\x1b[2JPerson", "Test \u202ePerson"):  # control characters, a bidirectional override
        bad = client.post("/api/v1/offices/central/queue/tickets", json={"service": "card", "name": name})
        assert bad.status_code == 422 and bad.json()["type"] == "/problems/invalid-input", bad.text
    taken = client.post("/api/v1/offices/central/queue/tickets", json={"service": "card", "language": "es"})
    assert taken.status_code == 201 and taken.json()["number"] == "W001"
    assert client.post("/api/v1/offices/central/queue/call-next", json={"staff_id": 1, "desk": "D"}).status_code == 401
    member = session.scalars(select(Staff).where(Staff.display_name == "Desk E")).one()
    clerk = staff("clerk")
    clerk.headers["accept"] = "application/json"
    token = re.search(r'name="csrf_token" value="([^"]+)"', clerk.get("/console/queue", headers={"accept": HTML}).text)
    assert token
    headers = {"x-csrf-token": token.group(1)}
    nobody = clerk.post("/api/v1/offices/central/queue/call-next", json={"staff_id": member.id, "desk": "Desk 5"},
                        headers=headers)
    assert nobody.status_code == 204  # Desk E does not speak Spanish
    huge = clerk.post("/api/v1/offices/central/queue/call-next", json={"staff_id": 2**40, "desk": "Desk 5"},
                      headers=headers)
    assert huge.status_code == 422  # never a database error
    wrong = clerk.post("/api/v1/offices/central/queue/tickets/999/actions",
                       json={"staff_id": member.id, "action": "done"}, headers=headers)
    assert wrong.status_code == 404 and "reload the desk page" in wrong.json()["detail"]
    supervisor = staff("supervisor")
    supervisor.headers["accept"] = "application/json"
    board = supervisor.get("/api/v1/offices/central/queue").json()
    assert [row["number"] for row in board["open"]] == ["W001"] and "name" not in board["open"][0]


def test_at_a_kiosk_the_ticket_can_be_followed_on_a_phone(client: TestClient, office: str) -> None:
    answer = client.post("/queue/central/ticket?lang=es", data={"service": "card", "kiosk": "1"},
                         follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].endswith("&kiosk=1")
    page = client.get(answer.headers["location"])
    token = TICKET.search(answer.headers["location"])
    assert token
    assert f'src="/ticket/{token.group(1)}/qr.svg"' in page.text
    assert 'href="/queue/central?kiosk=1&amp;lang=es"' in page.text  # back to the start for the next person
    assert "<form" not in page.text.split("<main", 1)[1]  # no "give up my place" on a shared screen
    qr = client.get(f"/ticket/{token.group(1)}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")


def test_head_is_answered_where_get_is(client: TestClient, office: str) -> None:
    token = take(client)
    for path in ("/queue/central", f"/ticket/{token}", "/queue/central/display", "/queue/central/qr.svg"):
        answer = client.head(path)
        assert answer.status_code == 200 and answer.content == b"", path


def test_a_double_tap_takes_one_place(client: TestClient, session: Session, office: str) -> None:
    page = client.get("/queue/central").text
    once = re.search(r'name="once" value="([^"]+)"', page)
    assert once
    form = {"service": "card", "name": "T. P.", "once": once.group(1)}
    first = client.post("/queue/central/ticket", data=form, follow_redirects=False)
    again = client.post("/queue/central/ticket", data=form, follow_redirects=False)
    assert first.headers["location"] == again.headers["location"]
    assert len(session.scalars(select(QueueTicket)).all()) == 1
    api = {"service": "apply"}
    one = client.post("/api/v1/offices/central/queue/tickets", json=api, headers={"Idempotency-Key": "k-1"})
    two = client.post("/api/v1/offices/central/queue/tickets", json=api, headers={"Idempotency-Key": "k-1"})
    assert one.status_code == two.status_code == 201 and one.json()["token"] == two.json()["token"]
    assert two.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/offices/central/queue/tickets", json={"service": "card"},
                        headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 409  # the same key for another request says so
    assert len(session.scalars(select(QueueTicket)).all()) == 2
