"""The office finder API: nearest offices by ZIP or town, a language filter, unknown places and bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import places, service
from safeslot.scheduling.finder import next_free
from tests.identity.helpers import bearer, make_staff

PROBLEM = "application/problem+json"


@pytest.fixture
def network(session: Session, office: str) -> list[str]:
    """Central (Springfield, en/es/vi) plus Holyoke (en/pt) and Hartford (en/es); Westfield has no location."""
    for slug, name, lat, lon, langs in [
        ("holyoke", "Holyoke Office", 42.2043, -72.6162, ["en", "pt"]),
        ("hartford", "Hartford Office", 41.7658, -72.6734, ["en", "es"]),
        ("westfield", "Westfield Office", None, None, ["en", "es"]),
    ]:
        row = service.add_office(session, slug, name, "1 Example Road", "America/New_York")
        if lat is not None and lon is not None:
            service.set_location(session, row, lat, lon)
        service.add_service(session, row, "apply", "Apply for benefits", "Start an application.", 30)
        service.add_staff(session, row, "Desk A", langs, ["apply"])
        for weekday in range(5):
            service.set_hours(session, row, weekday, dt.time(9, 0), dt.time(12, 0))
        service.generate_slots(session, row, dt.date(2027, 3, 1), dt.date(2027, 3, 14))
    session.flush()
    return ["central", "holyoke", "hartford"]


def _nearest(client: TestClient, **params: str) -> list[str]:
    r = client.get("/api/v1/nearest-offices", params=params)
    assert r.status_code == 200, r.text
    return [o["office"]["slug"] for o in r.json()["offices"]]


def test_a_zip_lists_the_nearest_offices_first_with_what_they_offer(client: TestClient, network: list[str]) -> None:
    r = client.get("/api/v1/nearest-offices", params={"where": "01040"})  # Holyoke
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["place"] == "01040"
    assert [o["office"]["slug"] for o in body["offices"]] == ["holyoke", "central", "hartford"]
    distances = [o["distance_km"] for o in body["offices"]]
    assert distances == sorted(distances) and distances[0] < 2
    first = body["offices"][0]
    assert first["url"] == "/offices/holyoke" and first["office"]["languages"] == ["en", "pt"]
    assert [s["slug"] for s in first["office"]["services"]] == ["apply"]
    assert first["next_free"].startswith("2027-03-01T") or first["next_free"].startswith("2027-03-02T")
    # from Hartford, Hartford comes first; Westfield, without a location, never appears
    assert _nearest(client, where="06103") == ["hartford", "central", "holyoke"]


def test_a_town_works_like_its_zip_codes(client: TestClient, network: list[str]) -> None:
    assert _nearest(client, where="springfield")[0] == "central"
    r = client.get("/api/v1/nearest-offices", params={"where": "  Hartford,  ct "})
    assert r.status_code == 200 and r.json()["place"] == "Hartford, CT"
    assert r.json()["offices"][0]["office"]["slug"] == "hartford"


def test_the_language_filter_keeps_only_offices_whose_staff_speak_it(client: TestClient, network: list[str]) -> None:
    assert _nearest(client, where="01040", language="es") == ["central", "hartford"]
    assert _nearest(client, where="01040", language="pt") == ["holyoke"]
    assert _nearest(client, where="01040", language="en") == ["holyoke", "central", "hartford"]
    assert _nearest(client, where="01040", language="ko") == []


def test_an_unknown_zip_or_town_is_a_clear_404(client: TestClient, network: list[str]) -> None:
    for where in ("99999", "Atlantis"):
        r = client.get("/api/v1/nearest-offices", params={"where": where})
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
        assert r.json()["type"].endswith("/place-not-found")
        assert "ZIP" in r.json()["detail"]


@pytest.mark.parametrize("params", [
    {}, {"where": ""}, {"where": "0110"}, {"where": "01103; DROP TABLE office"}, {"where": "x" * 81},
    {"where": "<script>"}, {"where": "01103", "language": "Spanish!"}, {"where": "01103", "language": "e" * 17},
])
def test_bad_input_is_problem_json(client: TestClient, network: list[str], params: dict[str, str]) -> None:
    r = client.get("/api/v1/nearest-offices", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM and r.json()["detail"]


def test_only_the_offices_supervisor_sets_its_location(
    client: TestClient, session: Session, keyring: KeyRing, network: list[str]
) -> None:
    own, _ = make_staff(session, keyring, ["supervisor"], "holyoke", username="sup-holyoke")
    other, _ = make_staff(session, keyring, ["supervisor"], "central", username="sup-central")
    put = "/api/v1/offices/holyoke/location"
    refused = client.put(put, json={"latitude": 41.0, "longitude": -72.0}, headers=bearer(session, other))
    assert refused.status_code == 404, "another office's supervisor: the office answers as unknown"
    bad = client.put(put, json={"latitude": 91, "longitude": -72.0}, headers=bearer(session, own))
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    ok = client.put(put, json={"latitude": 41.77, "longitude": -72.67}, headers=bearer(session, own))
    assert ok.status_code == 200, ok.text
    # moved next to Hartford: from Springfield it is now farther than Central
    assert _nearest(client, where="01103")[:1] == ["central"]
    assert _nearest(client, where="06103")[:2] == ["holyoke", "hartford"]


def test_distance_is_the_great_circle() -> None:
    # Springfield MA to Hartford CT is about 38 km
    assert 35 < places.distance_km(42.10, -72.59, 41.77, -72.67) < 41
    assert places.distance_km(42.0, -72.0, 42.0, -72.0) == 0


def test_a_census_gazetteer_file_loads(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "gaz.txt"
    path.write_text("GEOID\tALAND\tAWATER\tALAND_SQMI\tAWATER_SQMI\tINTPTLAT\tINTPTLONG\n"
                    "01103\t1\t0\t0.1\t0\t42.102\t-72.589\n", encoding="utf-8")
    table = places.table(str(path))
    assert table.find("01103").latitude == pytest.approx(42.102)


def test_next_free_is_the_earliest_even_past_two_closed_days(session: Session, network: list[str]) -> None:
    """The next free time looks at today and tomorrow first: on a Saturday (both closed) it still finds
    Monday's first start, and it is never a later one than the whole fortnight's earliest."""
    holyoke = service.get_office(session, "holyoke")
    services = service.list_services(session, holyoke)
    saturday = dt.datetime(2027, 3, 6, 10, 0, tzinfo=dt.UTC)
    found = next_free(session, holyoke, services, None, saturday)
    fortnight = service.search_slots(session, "holyoke", "apply", dt.date(2027, 3, 6), dt.date(2027, 3, 19), None,
                                     saturday)[2]
    assert found is not None and found == fortnight[0].starts_at
    assert found.astimezone(service.zone("America/New_York")).date() == dt.date(2027, 3, 8)  # Monday
    friday = dt.datetime(2027, 3, 5, 14, 0, tzinfo=dt.UTC)  # 9:00 in Holyoke: today's starts are free
    assert next_free(session, holyoke, services, None, friday) == service.search_slots(
        session, "holyoke", "apply", dt.date(2027, 3, 5), dt.date(2027, 3, 18), None, friday)[2][0].starts_at


def test_a_language_nobody_nearby_speaks_costs_a_few_statements_not_one_per_office(
    client: TestClient, session: Session, network: list[str]
) -> None:
    """A network has 1,200 offices: the finder must not ask each one in turn whether its staff speak the
    language (a public page, one request, 1,200 round trips). Offices are ranked, then the speakers found
    in one statement."""
    from sqlalchemy import event

    for i in range(30):
        row = service.add_office(session, f"far-{i}", f"Far Office {i}", "1 Example Road", "America/New_York")
        service.set_location(session, row, 40.0 + i / 100, -75.0)
        service.add_staff(session, row, "Desk A", ["en", "es"], [])
    session.flush()
    seen: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        assert _nearest(client, where="01040", language="ko") == []
        nobody = len(seen)
        seen.clear()
        assert _nearest(client, where="01040", language="pt") == ["holyoke"]  # the one that does, found
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert nobody < 10, f"{nobody} statements for 34 offices"
