"""The office finder on the public home page and each office's own page, without JavaScript, in both languages."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from safeslot.scheduling import service


def _second_office(session: Session) -> None:
    row = service.add_office(session, "holyoke", "Holyoke Office", "1 Example Road", "America/New_York")
    service.set_location(session, row, 42.2043, -72.6162)
    service.add_service(session, row, "apply", "Apply for benefits", "Start an application.", 30)
    service.add_staff(session, row, "Desk A", ["en", "pt"], ["apply"])
    session.flush()


def test_home_has_a_finder_form_that_works_without_javascript(
    client: TestClient, office: str, session: Session
) -> None:
    _second_office(session)
    home = client.get("/")
    assert 'action="/find"' in home.text and 'name="where"' in home.text
    page = client.get("/find", params={"where": "01040"})
    assert page.status_code == 200
    text = page.text
    assert text.index("Holyoke Office") < text.index("Central Benefits Office")  # nearest first
    assert 'href="/offices/holyoke"' in text and "Next free time:" in text
    assert "No free time in the next two weeks." in text  # Holyoke has no hours
    assert "Portuguese" in text and "Apply for benefits" in text
    only_es = client.get("/find", params={"where": "01040", "language": "es"}).text
    assert "Central Benefits Office" in only_es and "Holyoke Office" not in only_es


def test_finder_in_spanish(client: TestClient, office: str) -> None:
    page = client.get("/find", params={"where": "Springfield, MA", "lang": "es"})
    assert page.status_code == 200 and '<html lang="es">' in page.text
    assert "Oficinas más cercanas a Springfield, MA" in page.text and "Próxima hora libre:" in page.text


def test_unknown_and_bad_places_get_a_message_in_the_form(client: TestClient, office: str) -> None:
    unknown = client.get("/find", params={"where": "99999"})
    assert unknown.status_code == 404
    assert "We do not know this ZIP code or town" in unknown.text and 'aria-invalid="true"' in unknown.text
    assert 'value="99999"' in unknown.text  # what was typed stays
    bad = client.get("/find", params={"where": "<b>x</b>", "lang": "es"})
    assert bad.status_code == 422 and "código postal de 5 dígitos" in bad.text and "<b>x</b>" not in bad.text


def test_an_office_has_its_own_page_to_link_to(client: TestClient, office: str) -> None:
    page = client.get("/offices/central")
    assert page.status_code == 200 and "Central Benefits Office" in page.text
    assert 'action="/book/slots"' in page.text and 'name="office" value="central"' in page.text
    assert client.get("/offices/nowhere").status_code == 404


# -- a network's public pages cost the same statements as a town's --------------------------------
def _grow(session: Session, offices: int) -> None:
    """Offices up to ``offices`` (the demo office, in Springfield, is the first), each a little further north,
    with a service and two people: one speaks Spanish, one another language (so the finder's language choice
    grows with the network too)."""
    have = len(service.list_offices(session))
    for i in range(have, offices):
        row = service.add_office(session, f"branch-{i:02d}", f"Branch Office {i}", f"{i} Example Road",
                                 "America/New_York")
        service.set_location(session, row, 42.2 + 0.05 * i, -72.6)
        service.add_service(session, row, "apply", "Apply for benefits", "Start an application.", 30)
        service.add_staff(session, row, "Desk A", ["en", "es"], ["apply"])
        service.add_staff(session, row, "Desk B", ["en", "ru" if i >= 20 else ["pt", "fr", "ht", "zh"][i % 4]],
                          ["apply"])
    session.flush()


def _statements(client: TestClient, connection: Connection, path: str) -> tuple[int, str]:
    """The statements one request for ``path`` sends (after a first request has warmed any cache), and its page."""
    assert client.get(path).status_code == 200
    seen: list[str] = []

    def count(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        page = client.get(path)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert page.status_code == 200 and seen
    return len(seen), page.text


PAGES = ("/", "/find?where=01103", "/find?where=01103&language=es", "/offices/central", "/offices")


def test_the_public_pages_cost_the_same_statements_whatever_the_number_of_offices(
    client: TestClient, connection: Connection, office: str, session: Session,
) -> None:
    """A booking form per office on the home page, and a staff look-up per office for the finder's languages
    (on the home page, the finder and every office's page), made a 1,200-office network's home page cost
    thousands of statements. Six offices and thirty now send the same number on every public page; the home
    page of a town's three offices still shows each one's booking form, and costs more than the network's."""
    counts: dict[int, dict[str, int]] = {}
    for size in (3, 6, 30):
        _grow(session, size)
        pages = {path: _statements(client, connection, path) for path in PAGES}
        counts[size] = {path: n for path, (n, _) in pages.items()}
        home = pages["/"][1]
        if size == 3:  # a town: each office's form, as the one-office demo has always shown
            assert home.count('action="/book/slots"') == 3 and 'href="/offices"' not in home
        else:  # a network: the finder, with every office's languages, and the list of offices
            assert 'action="/book/slots"' not in home and 'action="/find"' in home and 'href="/offices"' in home
            assert "Haitian" in home and ("Russian" in home) == (size == 30)
            assert pages["/offices"][1].count('href="/offices/') == size
        assert pages["/find?where=01103"][1].count('class="office"') == min(size, 5)
    assert counts[30] == counts[6], counts
    assert counts[30]["/"] < counts[3]["/"], counts
