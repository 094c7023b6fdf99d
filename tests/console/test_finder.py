"""The office finder on the public home page and each office's own page, without JavaScript, in both languages."""

from __future__ import annotations

from fastapi.testclient import TestClient
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
