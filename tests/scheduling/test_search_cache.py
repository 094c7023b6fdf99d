"""The slot search cache answers exactly what the search computes, whatever another app server changed.

Two app instances on one database, each with its own in-process cache (two "servers"): one searches,
the other — or a plain committed session, as the CLI or a supervisor's console would — books,
cancels, moves, changes staff, hours, absences and closures; after every change the first server's
answer is compared with the search computed afresh without any cache. Then the same on random data.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from safeslot.app import create_app
from safeslot.config import Settings
from safeslot.db import build_engine, read_transaction
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service
from safeslot.scheduling.models import Appointment, Office, Service, Staff, StaffHold
from safeslot.scheduling.schemas import BookingIn
from safeslot.scheduling.search_cache import SearchCache
from safeslot.scheduling.slots import search_known
from tests.conftest import NOW, ON_SQLITE, office_database

TZ = service.zone("America/New_York")
DAY = NOW.astimezone(TZ).date()  # a Monday
QUERIES = [("apply", None), ("interview", "es"), ("card", "vi"), ("interview", None)]


@pytest.fixture
def servers(fresh_url: str, settings: Settings, keyring: KeyRing) -> Iterator[tuple[Engine, TestClient, TestClient]]:
    engine = office_database(fresh_url, DAY, weeks=2, pool_size=2)
    other = build_engine(fresh_url, pool_size=2)
    a = create_app(settings, engine=engine, clock=lambda: NOW, keyring=keyring)
    b = create_app(settings, engine=other, clock=lambda: NOW, keyring=keyring)
    with TestClient(a, raise_server_exceptions=False) as ca, TestClient(b, raise_server_exceptions=False) as cb:
        yield engine, ca, cb
    other.dispose()
    engine.dispose()


def _http(client: TestClient, slug: str, language: str | None, first: dt.date, last: dt.date) -> list[Any]:
    params = {"office": "central", "service": slug, "from": first.isoformat(), "to": last.isoformat()}
    if language:
        params["language"] = language
    r = client.get("/api/v1/slots", params=params)
    assert r.status_code == 200, r.text
    return [(s["starts_at_utc"], s["available"]) for s in r.json()]


def _afresh(engine: Engine, slug: str, language: str | None, first: dt.date, last: dt.date) -> list[Any]:
    with Session(engine) as s:
        free = service.search_slots(s, "central", slug, first, last, language, NOW)[2]
    return [(f.starts_at.isoformat().replace("+00:00", "Z"), f.available) for f in free]


def _same(engine: Engine, client: TestClient, first: dt.date = DAY, last: dt.date = DAY + dt.timedelta(days=6)) -> None:
    for slug, language in QUERIES:
        assert _http(client, slug, language, first, last) == _afresh(engine, slug, language, first, last), (
            slug, language)


def _commit(engine: Engine, change: Any) -> Any:
    with Session(engine) as s, s.begin():
        return change(s, service.get_office(s, "central"))


def _book(client: TestClient, slug: str, at: str, language: str | None = None) -> str:
    body = {"office": "central", "service": slug, "starts_at": at, "name": "Test Person A"}
    if language:
        body["language"] = language
    r = client.post("/api/v1/appointments", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["code"])


def test_changes_on_another_server_are_seen_by_the_next_search(servers: tuple[Engine, TestClient, TestClient]) -> None:
    engine, a, b = servers
    cache: SearchCache = a.app.state.search_cache  # type: ignore[attr-defined]
    _same(engine, a)
    hits = cache.hits
    _same(engine, a)
    assert cache.hits > hits, "the second round of searches should be answered from the cache"
    for far in ("9999-12-31", "0001-01-01"):  # refused as without a cache, never converted to a time
        r = a.get("/api/v1/slots", params={"office": "central", "service": "apply", "from": far, "to": far})
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text

    week = a.get("/api/v1/slots", params={"office": "central", "service": "interview",
                                          "from": DAY.isoformat()}).json()
    at = week[3]["starts_at"]
    before = {s["starts_at"]: s["available"] for s in week}[at]
    code = _book(b, "interview", at)  # a 45-minute visit: it holds someone over three units
    _same(engine, a)
    after = {s["starts_at"]: s["available"] for s in a.get("/api/v1/slots", params={
        "office": "central", "service": "interview", "from": DAY.isoformat()}).json()}
    assert after.get(at, 0) == before - 1

    assert b.post(f"/api/v1/appointments/{code}/cancel").status_code == 200
    _same(engine, a)
    assert {s["starts_at"]: s["available"] for s in a.get("/api/v1/slots", params={
        "office": "central", "service": "interview", "from": DAY.isoformat()}).json()}[at] == before

    code = _book(b, "apply", week[5]["starts_at"])
    moved = b.post(f"/api/v1/appointments/{code}/reschedule", json={"starts_at": week[9]["starts_at"]})
    assert moved.status_code == 200, moved.text
    _same(engine, a)

    def staff_ids(s: Session) -> list[int]:
        return list(s.scalars(select(Staff.id).order_by(Staff.id)))

    # a staff change: someone stops serving interviews (their visits move or are listed)
    _commit(engine, lambda s, o: service.update_staff_and_reassign(s, o, staff_ids(s)[1], services=["card"], now=NOW))
    _same(engine, a)
    # their own hours: mornings only
    _commit(engine, lambda s, o: service.set_staff_hours(
        s, o, staff_ids(s)[5], [(d, dt.time(9), dt.time(12)) for d in range(5)], NOW))
    _same(engine, a)
    # a day away
    _commit(engine, lambda s, o: service.add_absence(s, o, staff_ids(s)[3], DAY + dt.timedelta(days=2),
                                                     DAY + dt.timedelta(days=2), DAY, NOW))
    _same(engine, a)
    # the office closes for a day
    _commit(engine, lambda s, o: service.add_closure(s, o, DAY + dt.timedelta(days=3), "Test closure", DAY))
    _same(engine, a)
    # someone leaves
    _commit(engine, lambda s, o: service.update_staff_and_reassign(s, o, staff_ids(s)[2], active=False, now=NOW))
    _same(engine, a)


def test_an_answer_seen_inside_a_rolled_back_write_is_not_kept(
    servers: tuple[Engine, TestClient, TestClient], keyring: KeyRing
) -> None:
    """A search inside a transaction that booked sees that booking; if the transaction rolls back, its
    version numbers are handed out again to the next writer, so such an answer must never be kept."""
    engine, a, _ = servers
    cache: SearchCache = a.app.state.search_cache  # type: ignore[attr-defined]
    _same(engine, a)
    free = _http(a, "apply", None, DAY, DAY)
    first, second = free[0][0], free[1][0]  # two starts 15 minutes apart, in one hour or two

    def booking(at: str) -> BookingIn:
        return BookingIn(office="central", service="apply", starts_at=dt.datetime.fromisoformat(at),
                         name="Test Person B")

    with Session(engine) as s, s.begin():
        service.book(s, keyring, booking(first), NOW)
        inside = service.search_slots(s, "central", "apply", DAY, DAY + dt.timedelta(days=6), None, NOW, cache=cache)[2]
        assert len(inside) >= 1
        s.rollback()
    with Session(engine) as s, s.begin():  # another writer, the same hours: the same counters as the rolled-back one
        service.book(s, keyring, booking(second), NOW)
    _same(engine, a)


def test_the_cached_search_gives_the_uncached_answers_on_random_changes(
    servers: tuple[Engine, TestClient, TestClient], keyring: KeyRing
) -> None:
    """Random bookings, cancellations, moves and staff, hours and absence changes, each committed; after
    each, random searches through a cache (a read-only transaction) and afresh give the same starts."""
    engine, _, _ = servers
    rng = random.Random(20271)
    cache = SearchCache(max_starts=600)  # small: evictions happen too
    maker = sessionmaker(engine, expire_on_commit=False)
    languages = [None, "es", "vi", "en"]
    for step in range(60):
        with Session(engine) as s, s.begin():
            office = service.get_office(s, "central")
            staff = list(s.scalars(select(Staff).where(Staff.office_id == office.id).order_by(Staff.id)))
            booked = list(s.scalars(select(Appointment).where(Appointment.status == "booked")))
            kind = rng.choice(["book", "book", "book", "cancel", "move", "skills", "hours", "absence"])
            day = DAY + dt.timedelta(days=rng.randrange(0, 9))
            slug = rng.choice(["apply", "card", "interview"])
            free = service.search_slots(s, "central", slug, day, day, None, NOW)[2]
            if kind == "book" and free:
                at = rng.choice(free).starts_at
                try:
                    service.book(s, keyring, BookingIn(office="central", service=slug, starts_at=at,
                                                       name=f"Test Person {step}",
                                                       language=rng.choice(languages)), NOW)
                except Exception:  # a refusal (interpreter unavailable): nothing written
                    s.rollback()
                    continue
            elif kind == "cancel" and booked:
                service.cancel(s, rng.choice(booked).code, NOW)
            elif kind == "move" and booked and free:
                try:
                    service.reschedule(s, keyring, rng.choice(booked).code, rng.choice(free).starts_at, NOW)
                except Exception:
                    s.rollback()
                    continue
            elif kind == "skills":
                member = rng.choice(staff)
                service.update_staff_and_reassign(
                    s, office, member.id, services=rng.sample(["apply", "card", "interview"], rng.randint(1, 3)),
                    languages=["en", *rng.sample(["es", "vi"], rng.randint(0, 2))], now=NOW)
            elif kind == "hours":
                opens = dt.time(rng.choice([9, 10, 11]))
                closes = dt.time(rng.choice([12, 14, 16]))
                service.set_staff_hours(s, office, rng.choice(staff).id,
                                        None if rng.random() < 0.3 else [(d, opens, closes) for d in range(5)], NOW)
            elif kind == "absence":
                service.add_absence(s, office, rng.choice(staff).id, day, day, DAY, NOW)
        for _ in range(4):  # from a few searches, so that the cache holds some and evicts others
            slug, language = rng.choice(QUERIES)
            first = DAY + dt.timedelta(days=rng.choice([0, 2]))
            last = first + dt.timedelta(days=rng.choice([0, 6]))
            with read_transaction(maker) as s:
                if rng.random() < 0.5:
                    cached = service.search_slots(s, "central", slug, first, last, language, NOW, cache=cache)[2]
                else:
                    cached = search_known(s, cache, "central", slug, first, last, language, NOW).slots
            assert cached == _afresh_slots(engine, slug, language, first, last), (step, kind, slug, language)
    assert cache.hits > 20 and cache.misses > 20 and cache.starts <= 600


def _afresh_slots(engine: Engine, slug: str, language: str | None, first: dt.date, last: dt.date) -> list[Any]:
    with Session(engine) as s:
        return service.search_slots(s, "central", slug, first, last, language, NOW)[2]


def test_a_renamed_or_rezoned_office_or_service_is_read_afresh(servers: tuple[Engine, TestClient, TestClient]) -> None:
    """The office and service a server remembers by name are used only while the office's setup is unchanged:
    a service renamed elsewhere is unknown under its old name at once, and a new time zone moves the days."""
    engine, a, _ = servers
    _same(engine, a)
    with Session(engine) as s, s.begin():
        s.execute(update(Service).where(Service.slug == "card").values(slug="card-2"))
    r = a.get("/api/v1/slots", params={"office": "central", "service": "card", "from": DAY.isoformat()})
    assert r.status_code == 404, r.text
    assert _http(a, "card-2", None, DAY, DAY) == _afresh(engine, "card-2", None, DAY, DAY)
    with Session(engine) as s, s.begin():
        s.execute(update(Service).where(Service.slug == "card-2").values(slug="card"))
    _same(engine, a)
    with Session(engine) as s, s.begin():
        s.execute(update(Office).where(Office.slug == "central").values(timezone="America/Los_Angeles"))
    _same(engine, a)


@pytest.mark.breaks_people_invariant("holds written in bulk for one visit, as an import would")
def test_a_bulk_statement_over_many_hours_is_seen_too(servers: tuple[Engine, TestClient, TestClient]) -> None:
    """One statement holding someone for three whole days (72 UTC hours: more than a visit's few, so on
    PostgreSQL the trigger bumps them without taking each hour's lock) still changes the next answer."""
    engine, a, b = servers
    _same(engine, a, DAY, DAY + dt.timedelta(days=3))
    code = _book(b, "apply", a.get("/api/v1/slots", params={"office": "central", "service": "apply",
                                                            "from": DAY.isoformat()}).json()[0]["starts_at"])
    with Session(engine) as s, s.begin():
        visit = s.scalars(select(Appointment).where(Appointment.code == service.normalise_code(code))).one()
        someone = s.scalars(select(Staff.id).where(Staff.id != visit.staff_id).order_by(Staff.id)).first()
        start = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        s.execute(insert(StaffHold), [
            {"staff_id": someone, "starts_at": start + dt.timedelta(minutes=15 * i), "office_id": visit.office_id,
             "appointment_id": visit.id, "role": "serve"} for i in range(3 * 96)])
    _same(engine, a, DAY, DAY + dt.timedelta(days=3))


def test_a_kept_answer_drops_the_starts_the_clock_has_passed(
    fresh_url: str, settings: Settings, keyring: KeyRing
) -> None:
    """The written answer of a cached search is reused (endpoints._answer_json), but never with a start that has
    passed since: as the clock moves through a day, each answer is the search computed afresh at that moment,
    and one asked with an interpreter language says so on every start."""
    engine = office_database(fresh_url, DAY, pool_size=2)
    moment = [dt.datetime.combine(DAY, dt.time(8, 0), TZ)]
    app = create_app(settings, engine=engine, clock=lambda: moment[0], keyring=keyring)
    try:
        with TestClient(app) as client:
            for minutes in (0, 0, 75, 75, 80, 200, 0):
                moment[0] = dt.datetime.combine(DAY, dt.time(8, 0), TZ) + dt.timedelta(minutes=minutes)
                for slug, language in (("apply", None), ("interview", "es")):
                    r = client.get("/api/v1/slots", params={"office": "central", "service": slug,
                                                            "from": DAY.isoformat(), **({"language": language}
                                                                                        if language else {})})
                    with Session(engine) as s:
                        free = service.search_slots(s, "central", slug, DAY, DAY + dt.timedelta(days=6), language,
                                                    moment[0])[2]
                    assert [(x["starts_at_utc"], x["available"]) for x in r.json()] == [
                        (f.starts_at.isoformat().replace("+00:00", "Z"), f.available) for f in free], minutes
                    assert {x["interpreter"] for x in r.json()} == {language}
    finally:
        engine.dispose()


# The bytes are written from the search's starts the same way on either database; the cache's own reading of
# PostgreSQL's changes is the random-changes test above, on both.
@ON_SQLITE
def test_the_written_answer_is_the_uncached_one_byte_for_byte_on_random_changes(
    fresh_url: str, settings: Settings, keyring: KeyRing
) -> None:
    """The API writes a cached answer from its days' JSON, each day's written once and cut where the clock has
    passed (endpoints._answer_json): after random bookings, cancellations and moves on another server, with the
    clock moving back and forth over the first days, each answer of the caching server is, byte for byte, the
    answer of a server without a cache and the list of starts written whole by ``orjson``."""
    engine = office_database(fresh_url, DAY, weeks=2, pool_size=2)
    other = build_engine(fresh_url, pool_size=2)
    moment = [NOW]
    a = create_app(settings, engine=engine, clock=lambda: moment[0], keyring=keyring)
    b = create_app(settings, engine=other, clock=lambda: moment[0], keyring=keyring)
    b.state.search_cache = None  # every answer computed afresh and written whole (endpoints._body)
    rng = random.Random(20281)
    codes: list[tuple[str, str]] = []
    answers = 0
    try:
        with TestClient(a) as ca, TestClient(b) as cb:
            for step in range(40):
                moment[0] = NOW + dt.timedelta(minutes=rng.choice([0, 0, 45, 120, 60 * 24, 60 * 30, 60 * 52]))
                booked = _change(cb, rng, step, codes)
                for _ in range(3):
                    slug, language = rng.choice([*QUERIES, ("apply", "en"), ("card", "es-MX")])
                    first = DAY + dt.timedelta(days=rng.choice([-1, 0, 0, 1, 2, 5]))
                    params = {"office": "central", "service": slug, "from": first.isoformat(),
                              **({"to": (first + dt.timedelta(days=rng.choice([0, 1, 6, 9]))).isoformat()}
                                 if rng.random() < 0.8 else {}), **({"language": language} if language else {})}
                    cached, afresh = ca.get("/api/v1/slots", params=params), cb.get("/api/v1/slots", params=params)
                    assert (cached.status_code, cached.content) == (afresh.status_code, afresh.content), (
                        step, booked, params, moment[0])
                    if cached.status_code != 422:  # (days all past: refused alike)
                        answers += 1
                        assert cached.content == _written(engine, params, moment[0]), (step, params, moment[0])
    finally:
        other.dispose()
        engine.dispose()
    cache: SearchCache = a.state.search_cache
    assert answers > 90 and cache.hits > 10 and cache.misses > 30


def _change(client: TestClient, rng: random.Random, step: int, codes: list[tuple[str, str]]) -> str:
    """A booking (most often), a cancellation or a move, through ``client``'s API; ``codes``: (service, code)
    of the visits booked so far and not cancelled."""
    day = DAY + dt.timedelta(days=rng.randrange(0, 10))
    slug = rng.choice(["apply", "card", "interview"])
    free = client.get("/api/v1/slots", params={"office": "central", "service": slug, "from": day.isoformat(),
                                               "to": day.isoformat()}).json()
    kind = rng.choice(["book", "book", "book", "cancel", "move"])
    if kind == "book" and free:
        r = client.post("/api/v1/appointments", json={"office": "central", "service": slug,
                                                      "name": f"Test Person {step}",
                                                      "starts_at": rng.choice(free)["starts_at"]})
        assert r.status_code == 201, r.text
        codes.append((slug, r.json()["code"]))
    elif kind == "cancel" and codes:
        _, code = codes.pop(rng.randrange(len(codes)))
        assert client.post(f"/api/v1/appointments/{code}/cancel").status_code == 200
    elif kind == "move" and codes and free and (chosen := rng.choice(codes))[0] == slug:
        r = client.post(f"/api/v1/appointments/{chosen[1]}/reschedule",
                        json={"starts_at": rng.choice(free)["starts_at"]})
        assert r.status_code in (200, 409), r.text
    return kind


def _written(engine: Engine, params: dict[str, str], now: dt.datetime) -> bytes:
    """The search computed afresh (service layer, no cache) and its list written whole by ``orjson``."""
    first = dt.date.fromisoformat(params["from"])
    last = dt.date.fromisoformat(params["to"]) if "to" in params else first + dt.timedelta(days=6)
    with Session(engine) as s:
        free = service.search_slots(s, "central", params["service"], first, last, params.get("language"), now)[2]
    interpreter = service.interpreter_language(params.get("language"))
    return orjson.dumps([{"starts_at": f.starts_at.astimezone(TZ).isoformat(), "ends_at": f.ends_at.astimezone(TZ)
                          .isoformat(), "starts_at_utc": f.starts_at.isoformat().replace("+00:00", "Z"),
                          "available": f.available, "interpreter": interpreter} for f in free])
