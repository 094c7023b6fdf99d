"""A `Recorded` refusal keeps what the request wrote; every other error keeps nothing.

Each test runs on a database of its own (``fresh_url``) with the app committing for real (no
test transaction around it), and reads the result back on a new connection: what survives
there survived the error response.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from safeslot.app import create_app
from safeslot.config import Settings
from safeslot.db import build_engine, build_sessionmaker, transaction
from safeslot.deps import SessionDep
from safeslot.identity.models import StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import Conflict, Recorded, install_handlers
from safeslot.scheduling import demo
from safeslot.transparency.models import LogEntry
from tests.conftest import NOW, owner_url
from tests.console.conftest import token as form_token
from tests.identity.helpers import PASSWORD, bearer, code_at, make_staff


class _RecordedConflict(Recorded, Conflict, slug="recorded-conflict", title="A test-only refusal"):
    """A test-only refusal that keeps what the request wrote before it."""


@pytest.fixture
def real_engine(fresh_url: str) -> Iterator[Engine]:
    engine = build_engine(fresh_url)
    yield engine
    engine.dispose()


@pytest.fixture
def real_client(real_engine: Engine, settings: Settings, keyring: KeyRing,
                clock: Callable[..., object]) -> TestClient:
    app = create_app(settings, engine=real_engine, clock=clock, keyring=keyring)  # type: ignore[arg-type]
    return TestClient(app, raise_server_exceptions=False)


def _count(engine: Engine, statement: object) -> int:
    with Session(engine) as s:
        return int(s.execute(statement).scalar_one())  # type: ignore[call-overload]


def test_only_a_recorded_error_keeps_the_writes_made_before_it(fresh_url: str) -> None:
    engine = build_engine(owner_url(fresh_url))  # the owner may create the probe table
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE recorded_probe (route VARCHAR(20) NOT NULL)"))
    app = FastAPI()
    install_handlers(app)
    app.state.sessionmaker = build_sessionmaker(engine)

    def write_then(route: str, exc: Exception | None) -> Callable[[SessionDep], dict[str, str]]:
        def handler(session: SessionDep) -> dict[str, str]:
            session.execute(text("INSERT INTO recorded_probe (route) VALUES (:r)"), {"r": route})
            session.flush()
            if exc is not None:
                raise exc
            return {"ok": route}
        return handler

    app.add_api_route("/recorded", write_then("recorded", _RecordedConflict("kept")), methods=["POST"])
    app.add_api_route("/plain", write_then("plain", Conflict("rolled back")), methods=["POST"])
    app.add_api_route("/crash", write_then("crash", RuntimeError("a bug")), methods=["POST"])
    app.add_api_route("/ok", write_then("ok", None), methods=["POST"])
    client = TestClient(app, raise_server_exceptions=False)

    r = client.post("/recorded")
    assert r.status_code == 409 and r.json()["type"] == "/problems/recorded-conflict"
    assert client.post("/plain").status_code == 409
    assert client.post("/crash").status_code == 500
    assert client.post("/ok").status_code == 200
    with engine.connect() as conn:
        kept = sorted(conn.execute(text("SELECT route FROM recorded_probe")).scalars())
    assert kept == ["ok", "recorded"]

    # The CLI's transaction keeps a Recorded refusal's writes the same way.
    maker = build_sessionmaker(engine)

    def cli_command(route: str, exc: Exception) -> None:
        with transaction(maker) as s:
            s.execute(text("INSERT INTO recorded_probe (route) VALUES (:r)"), {"r": route})
            raise exc

    with pytest.raises(_RecordedConflict):
        cli_command("cli-recorded", _RecordedConflict("kept"))
    with pytest.raises(Conflict):
        cli_command("cli-plain", Conflict("undone"))
    with engine.connect() as conn:
        kept = sorted(conn.execute(text("SELECT route FROM recorded_probe")).scalars())
    assert kept == ["cli-recorded", "ok", "recorded"]
    engine.dispose()


def test_a_failed_sign_in_keeps_its_count_after_the_401(
    real_client: TestClient, real_engine: Engine, keyring: KeyRing
) -> None:
    with transaction(build_sessionmaker(real_engine)) as s:
        account, secret = make_staff(s, keyring, [], username="desk-example")
    for expected in (1, 2):
        r = real_client.post("/api/v1/auth/token", json={"username": "desk-example", "password": "not it",
                                                         "totp": code_at(secret, NOW)})
        assert r.status_code == 401 and r.json()["type"] == "/problems/sign-in-failed"
        assert _count(real_engine, select(StaffAccount.failed_logins).where(StaffAccount.id == account.id)) \
            == expected
    r = real_client.post("/api/v1/auth/token", json={"username": "desk-example", "password": PASSWORD,
                                                     "totp": code_at(secret, NOW)})
    assert r.status_code == 200
    assert _count(real_engine, select(StaffAccount.failed_logins).where(StaffAccount.id == account.id)) == 0


def test_a_failed_console_sign_in_keeps_its_count_and_shows_the_form_again(
    real_client: TestClient, real_engine: Engine, keyring: KeyRing
) -> None:
    # The console's sign-in raises the same Recorded refusal as the API; its page is the form again.
    with transaction(build_sessionmaker(real_engine)) as s:
        account, secret = make_staff(s, keyring, [], username="desk-example")
    failed = select(StaffAccount.failed_logins).where(StaffAccount.id == account.id)
    token = form_token(real_client, "/console/sign-in")  # the public double-submit token
    for expected in (1, 2):
        r = real_client.post("/console/sign-in", data={"username": "desk-example", "password": "not it",
                                                       "totp": code_at(secret, NOW), "csrf_token": token},
                             follow_redirects=False)
        assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")
        assert "Check your username, password and the six-digit code" in r.text
        assert 'value="desk-example"' in r.text and "safeslot_session" not in r.headers.get("set-cookie", "")
        assert _count(real_engine, failed) == expected
    r = real_client.post("/console/sign-in", data={"username": "desk-example", "password": PASSWORD,
                                                   "totp": code_at(secret, NOW), "csrf_token": token},
                         follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console"
    assert _count(real_engine, failed) == 0


def test_a_refused_disclosure_request_keeps_its_log_entry_and_nothing_else(
    real_client: TestClient, real_engine: Engine, keyring: KeyRing
) -> None:
    with transaction(build_sessionmaker(real_engine)) as s:
        office = demo.load(s, NOW.date(), weeks=1)
        clerk, _ = make_staff(s, keyring, ["clerk"], office, "clerk-example")
        headers = bearer(s, clerk)
    before = _count(real_engine, select(func.count()).select_from(LogEntry))
    from safeslot.disclosure.models import DisclosureRequest

    # Metadata that is not even valid, then a verbal "instrument": both refused, both logged.
    for metadata in ("{not json", json.dumps({"instrument_type": "verbal"})):
        r = real_client.post("/api/v1/disclosure-requests", headers=headers,
                             files={"document": ("x.pdf", b"%PDF-1.4 example")}, data={"metadata": metadata})
        assert r.status_code == 422 and r.json()["type"] == "/problems/disclosure-request-refused"
    with Session(real_engine) as s:
        events = [json.loads(d)["event"] for d in s.scalars(select(LogEntry.data).where(LogEntry.idx >= before))]
        requests = s.execute(select(func.count()).select_from(DisclosureRequest)).scalar_one()
    assert events == ["disclosure.request_refused"] * 2
    assert requests == 0
