"""Rate limits with the shipped defaults: a flood is stopped, a kiosk is not, and sign-in
failures from one address cannot lock the owner out from another, nor tell which usernames exist."""

from __future__ import annotations

import datetime as dt
import os
import types
import uuid
from collections.abc import Callable
from pathlib import Path

import limits.storage.memory as memory_storage
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from safeslot.app import create_app
from safeslot.config import Environment, Settings
from safeslot.kit import limiter as rate_limiter
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import demo
from tests.conftest import NOW
from tests.identity.helpers import PASSWORD, code_at, make_staff

PROBLEM = "application/problem+json"


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The limiter's clock (the limits memory storage reads time.time()), moved by the test."""
    now = [1_900_000_000.0]
    fake = types.SimpleNamespace(time=lambda: now[0])
    monkeypatch.setattr(memory_storage, "time", fake)
    monkeypatch.setattr(rate_limiter, "time", fake)
    return now


@pytest.fixture
def default_settings(tmp_path: Path) -> Settings:
    return Settings(environment=Environment.test, crypto={"key_file": tmp_path / "keys.json"},
                    log={"signing_key_file": tmp_path / "log.key"})


@pytest.fixture
def make_client(
    engine: Engine, connection: Connection, default_settings: Settings, keyring: KeyRing
) -> Callable[..., TestClient]:
    apps: dict[int, object] = {}

    def make(address: str = "203.0.113.10", settings: Settings | None = None, app_key: int = 0) -> TestClient:
        if app_key not in apps:
            apps[app_key] = create_app(settings or default_settings, engine=engine, bind=connection,
                                       clock=lambda: NOW, keyring=keyring)
        return TestClient(apps[app_key], raise_server_exceptions=False, client=(address, 50000))  # type: ignore[arg-type]

    return make


@pytest.fixture
def slots(session: Session, make_client: Callable[..., TestClient]) -> list[str]:
    demo.load(session, NOW.date(), weeks=2)
    session.flush()
    client = make_client("198.51.100.200")
    found: list[str] = []
    for day in range(1, 12):
        date = (NOW.date() + dt.timedelta(days=day)).isoformat()
        r = client.get("/api/v1/slots", params={"office": "central", "service": "apply", "from": date, "to": date})
        assert r.status_code == 200, r.text
        found += [s["starts_at"] for s in r.json() if s["available"]]
    return found


def _book(client: TestClient, start: str, n: int) -> int:
    r = client.post("/api/v1/appointments", json={
        "office": "central", "service": "apply", "starts_at": start, "name": f"Test Person {n}"})
    if r.status_code == 429:
        assert r.headers["content-type"] == PROBLEM and int(r.headers["retry-after"]) >= 1
        assert r.json()["type"] == "/problems/rate-limited" and r.headers["cache-control"] == "no-store"
    return r.status_code


def test_a_flood_from_one_address_is_stopped(
    make_client: Callable[..., TestClient], slots: list[str], fake_time: list[float]
) -> None:
    flood = make_client("203.0.113.66")
    statuses = [_book(flood, start, n) for n, start in enumerate(slots[:36])]
    assert statuses.count(201) == 10 and statuses.count(429) == 26
    # another address is not affected by this one's flood
    assert _book(make_client("203.0.113.67"), slots[40], 99) == 201


def test_a_kiosk_booking_one_person_a_minute_all_day_is_never_refused(
    make_client: Callable[..., TestClient], slots: list[str], fake_time: list[float]
) -> None:
    kiosk = make_client("203.0.113.70")
    statuses = []
    for n, start in enumerate(slots[:80]):  # 80 people, one every 45 to 75 seconds
        fake_time[0] += 45 + (n * 7) % 31
        statuses.append(_book(kiosk, start, n))
    assert 429 not in statuses and statuses.count(201) == 80
    # and a short queue at opening (8 people in a minute) passes too
    fake_time[0] += 3600
    assert all(_book(kiosk, start, n) != 429 for n, start in enumerate(slots[80:88]))


def test_walk_in_tickets_count_as_bookings(make_client: Callable[..., TestClient], slots: list[str],
                                          fake_time: list[float]) -> None:
    flood = make_client("203.0.113.90")
    statuses = [flood.post("/api/v1/offices/central/queue/tickets", json={"service": "apply"}).status_code
                for _ in range(14)]
    assert 429 in statuses and statuses.index(429) <= 10



def test_the_office_limit_reads_the_office_from_the_path(
    make_client: Callable[..., TestClient], default_settings: Settings, slots: list[str], fake_time: list[float]
) -> None:
    tight = default_settings.model_copy(update={"rate_limits": rate_limiter.RateLimitSettings(
        booking_per_office="3/minute")})
    answers = [make_client(f"203.0.113.{100 + n}", settings=tight, app_key=5).post(
        "/api/v1/offices/central/queue/tickets", json={"service": "apply"}).status_code for n in range(4)]
    assert answers[:3].count(429) == 0 and answers[3] == 429  # four addresses, one office
    other = make_client("203.0.113.120", settings=tight, app_key=5).post("/api/v1/offices/north/queue/tickets",
                                                              json={"service": "apply"})
    assert other.status_code != 429  # another office is counted apart


def test_code_lookups_are_limited_per_address(make_client: Callable[..., TestClient], fake_time: list[float]) -> None:
    guesser = make_client("203.0.113.80")
    answers = [guesser.get(f"/api/v1/appointments/ABCDE{n:05d}").status_code for n in range(40)]
    assert answers.count(404) == 30 and answers.count(429) == 10
    accounting = guesser.post("/api/v1/accounting/lookup", json={"code": "ABCDEFGHJK", "name": "Test Person A"})
    assert accounting.status_code == 429 and accounting.headers["content-type"] == PROBLEM
    fake_time[0] += 3601
    assert guesser.get("/api/v1/appointments/ABCDE00000").status_code == 404


def _try(client: TestClient, username: str, password: str, secret: str | None) -> tuple[int, str]:
    r = client.post("/api/v1/auth/token", json={
        "username": username, "password": password, "totp": code_at(secret, NOW) if secret else "123456"})
    return r.status_code, r.json()["type"] if r.status_code != 200 else "ok"


def test_failed_sign_ins_slow_the_stranger_not_the_owner(
    make_client: Callable[..., TestClient], session: Session, keyring: KeyRing, fake_time: list[float]
) -> None:
    account, secret = make_staff(session, keyring, ["auditor"])
    stranger = make_client("198.51.100.7")
    tries = [_try(stranger, account.username, "wrong password Example", secret) for _ in range(8)]
    assert tries[:5] == [(401, "/problems/sign-in-failed")] * 5
    assert tries[5:] == [(429, "/problems/rate-limited")] * 3
    # even the right password from the stranger's address waits now ...
    assert _try(stranger, account.username, PASSWORD, secret)[0] == 429
    # ... but the owner, elsewhere, signs in at once: nothing is locked on the account
    owner = make_client("192.0.2.44")
    assert _try(owner, account.username, PASSWORD, secret) == (200, "ok")
    # the waits grow: after the first minute, 5 more failures, then a longer wait than a minute
    fake_time[0] += 61
    again = [_try(stranger, account.username, "wrong password Example", secret) for _ in range(6)]
    assert [s for s, _ in again] == [401] * 5 + [429]
    r = stranger.post("/api/v1/auth/token", json={"username": account.username, "password": "x", "totp": "1"})
    assert int(r.headers["retry-after"]) > 60


def test_the_throttle_does_not_tell_whether_a_username_exists(
    make_client: Callable[..., TestClient], session: Session, keyring: KeyRing, fake_time: list[float]
) -> None:
    account, secret = make_staff(session, keyring, ["auditor"])
    existing = [_try(make_client("198.51.100.8"), account.username, "wrong password Example", secret)
                for _ in range(7)]
    missing = [_try(make_client("198.51.100.9"), "nobody-example", "wrong password Example", secret)
               for _ in range(7)]
    assert existing == missing


def test_one_address_cannot_spray_many_usernames(
    make_client: Callable[..., TestClient], fake_time: list[float]
) -> None:
    sprayer = make_client("198.51.100.11")
    statuses = [_try(sprayer, f"user-{n}", "wrong password Example", None)[0] for n in range(25)]
    assert statuses.count(401) == 20 and statuses.count(429) == 5


def test_the_console_sign_in_answers_a_page_when_throttled(
    make_client: Callable[..., TestClient], fake_time: list[float]
) -> None:
    browser = make_client("198.51.100.12")
    page = browser.get("/console/sign-in")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    codes = [browser.post("/console/sign-in", data={"username": "desk-example", "password": "wrong",
                                                    "totp": "000000", "csrf_token": token}).status_code
             for _ in range(6)]
    assert codes == [401] * 5 + [429]
    last = browser.post("/console/sign-in", data={"username": "desk-example", "password": "wrong",
                                                  "totp": "000000", "csrf_token": token})
    assert last.headers["content-type"].startswith("text/html") and "retry-after" in last.headers
    assert "Too many tries" in last.text


def test_every_request_is_limited_per_address(
    make_client: Callable[..., TestClient], default_settings: Settings, fake_time: list[float]
) -> None:
    tight = default_settings.model_copy(update={"rate_limits": rate_limiter.RateLimitSettings(per_address="5/minute")})
    client = make_client("198.51.100.13", settings=tight)
    statuses = [client.get("/api/v1/offices").status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("SAFESLOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires Redis at {url}")
        pytest.skip(f"no Redis at {url}")
    return url


def test_several_workers_share_counters_on_redis(
    make_client: Callable[..., TestClient], default_settings: Settings, redis_url: str
) -> None:
    limits_ = rate_limiter.RateLimitSettings(storage_url=redis_url, key_prefix=f"safeslot-test-{uuid.uuid4().hex}",
                                          per_address="6/minute")
    shared = default_settings.model_copy(update={"rate_limits": limits_})
    # one event loop per worker, as under uvicorn (the Redis client belongs to its loop)
    with make_client("198.51.100.14", settings=shared, app_key=1) as one, \
            make_client("198.51.100.14", settings=shared, app_key=2) as two:
        statuses = [(one if n % 2 else two).get("/api/v1/offices").status_code for n in range(8)]
    assert statuses == [200] * 6 + [429] * 2
