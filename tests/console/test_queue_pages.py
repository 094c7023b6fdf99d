"""The queue's pages over HTTP (no browser): check in, the ticket, the display, the desk and the board."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.privacy.models import AccessRecord
from safeslot.scheduling.models import Staff
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
    clerk = staff("clerk")
    assert clerk.get("/console/board").status_code == 403
    anonymous = app_factory()
    anonymous.headers["accept"] = HTML
    assert anonymous.get("/console/board", follow_redirects=False).status_code == 303
