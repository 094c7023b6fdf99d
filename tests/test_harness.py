"""The test harness's own promise: a test that asks for a database of its own gets one equal to a new one.

On PostgreSQL a database given back is emptied and handed to the next test instead of being dropped and
copied again (tests/conftest.py, ``_Templates.pg_give_back``). These tests try to make a reused database
differ from a new one: rows left behind, a sequence moved on, the log's seed row gone, a trigger disabled.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from safeslot.kit.crypto import KeyRing
from tests.conftest import _templates, drop_later, new_database, owner_url

OFFICE = text("INSERT INTO office (slug, name, address, timezone) VALUES ('harness', 'Harness', '-', 'UTC') "
              "RETURNING id")


def _owner(url: str) -> object:
    return create_engine(owner_url(url), poolclass=NullPool)


def test_a_database_given_back_is_handed_out_again_as_new(pg_admin_url: str | None, tmp_path: Path) -> None:
    if pg_admin_url is None:
        pytest.skip("no PostgreSQL")
    url, drop = new_database("postgresql", pg_admin_url, tmp_path)
    engine = _owner(url)
    with engine.begin() as conn:  # type: ignore[attr-defined]
        new_seed = conn.execute(text("SELECT count(*) FROM log_head")).scalar_one()
        conn.execute(OFFICE)
    engine.dispose()  # type: ignore[attr-defined]
    superuser = create_engine(make_url(pg_admin_url).set(database=make_url(url).database), poolclass=NullPool)
    with superuser.begin() as conn:  # the seed row the migrations wrote, gone
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("DELETE FROM log_head"))
    superuser.dispose()
    drop()
    again, drop_again = new_database("postgresql", pg_admin_url, tmp_path)
    assert again == url, "the database given back was not reused"
    engine = _owner(again)
    with engine.begin() as conn:  # type: ignore[attr-defined]
        assert conn.execute(text("SELECT count(*) FROM office")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM log_head")).scalar_one() == new_seed == 1
        first_id = conn.execute(OFFICE).scalar_one()
        assert first_id == 1, "the office id sequence was not restarted"
    engine.dispose()  # type: ignore[attr-defined]
    drop_again()


def test_a_database_whose_schema_a_test_changed_is_not_reused_and_is_dropped_after(
    pg_admin_url: str | None, tmp_path: Path
) -> None:
    if pg_admin_url is None:
        pytest.skip("no PostgreSQL")
    url, drop = new_database("postgresql", pg_admin_url, tmp_path)
    engine = _owner(url)
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("ALTER TABLE log_entry DISABLE TRIGGER log_entry_no_truncate"))  # as an insider would
    engine.dispose()  # type: ignore[attr-defined]
    drop()
    name = make_url(url).database
    assert name is not None and name not in _templates.pg_free
    admin = create_engine(pg_admin_url, poolclass=NullPool)
    exists = text("SELECT datallowconn FROM pg_database WHERE datname = :n")
    with admin.connect() as conn:  # closed to connections until the run's end drops it (see _Templates.drop)
        assert conn.execute(exists, {"n": name}).scalar_one() is False
    drop_later(pg_admin_url, name)  # as the run's end does, by its name
    deadline = time.monotonic() + 20
    while True:
        with admin.connect() as conn:
            if conn.execute(exists, {"n": name}).first() is None:
                break
        assert time.monotonic() < deadline, "the detached dropper did not drop the database"
        time.sleep(0.1)
    admin.dispose()


def test_an_apps_openapi_document_from_the_process_cache_equals_a_new_one(app_factory: Callable[..., Any]) -> None:
    """tests/reuse.py keeps one OpenAPI document per shape of app: what an app gets from it is what the app
    would have built, its own copy, and an app with another route gets its own document."""
    from fastapi.openapi.utils import get_openapi

    from safeslot import openapi
    from safeslot.identity import authz
    from tests import reuse

    first = app_factory().app.openapi()
    app = app_factory().app
    hits = reuse.SCHEMA_HITS[0]
    cached = app.openapi()
    if getattr(openapi.install, "_suite_cached", False):
        assert reuse.SCHEMA_HITS[0] == hits + 1, "the second app built its document again"
    built = openapi.complete(get_openapi(title=app.title, version=app.version, openapi_version=app.openapi_version,
                                         description=app.description, routes=app.routes), authz.needs_credentials)
    assert cached == built == first
    cached["info"]["title"] = "edited by one test"
    assert app_factory().app.openapi()["info"]["title"] == first["info"]["title"] != "edited by one test"

    other = app_factory().app

    @other.get("/api/v1/added-by-a-test")  # type: ignore[untyped-decorator]
    def added() -> dict[str, str]:
        return {}

    assert "/api/v1/added-by-a-test" in other.openapi()["paths"]
    assert "/api/v1/added-by-a-test" not in app_factory().app.openapi()["paths"]


def test_the_lean_test_client_answers_as_starlettes_does() -> None:
    """tests/leanclient.py hands a request to the app's loop once; what the app sees and the test gets is what
    Starlette's transport gives: the body, a streamed answer chunk by chunk (or in part, then closed),
    background work done before the answer returns, the app's exceptions raised or a bare 500."""
    import asyncio

    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    from tests.conftest import KeptLoopClient
    from tests.leanclient import LeanTransport

    done: list[str] = []

    async def echo(request: Request) -> Response:
        return JSONResponse({"body": (await request.body()).decode(), "method": request.method},
                            background=BackgroundTask(lambda: done.append("background")))

    async def stream(request: Request) -> Response:
        async def chunks() -> Any:
            for i in range(1000):
                yield f"{i}\n".encode()
                await asyncio.sleep(0)
        return StreamingResponse(chunks(), media_type="text/plain")

    async def boom(request: Request) -> Response:
        raise RuntimeError("boom")

    app = Starlette(routes=[Route("/echo", echo, methods=["GET", "POST", "HEAD"]), Route("/stream", stream),
                            Route("/boom", boom)])
    for raise_errors in (False, True):
        client = KeptLoopClient(app, raise_server_exceptions=raise_errors)
        if os.environ.get("SAFESLOT_TEST_LEAN_CLIENT", "1") != "0":
            assert isinstance(client._transport, LeanTransport)
        try:
            r = client.post("/echo", content=b"hello")
            assert r.status_code == 200 and r.json() == {"body": "hello", "method": "POST"}
            assert done.pop() == "background"  # run before the answer came back
            head = client.head("/echo")
            assert head.status_code == 200 and head.content == b"" and done.pop() == "background"
            assert client.get("/stream").text == "".join(f"{i}\n" for i in range(1000))
            with client.stream("GET", "/stream") as streamed:  # read in part, then closed: the app is cancelled
                lines = streamed.iter_lines()
                assert [next(lines) for _ in range(3)] == ["0", "1", "2"]
            assert client.post("/echo", content=b"after").json()["body"] == "after" and done.pop() == "background"
            if raise_errors:
                with pytest.raises(RuntimeError, match="boom"):
                    client.get("/boom")
            else:
                assert client.get("/boom").status_code == 500
        finally:
            client.close_loop()
    assert not done


def _calls_serve_in_a_nested_block() -> None:
    def inner() -> None:
        with serve(None):  # type: ignore[name-defined]  # noqa: F821 (never run: only its code is read)
            pass

    inner()


def _calls_a_live_server_in_a_comprehension() -> None:
    [LiveServer(i) for i in range(2)]  # type: ignore[name-defined]  # noqa: F821


def _only_mentions_serve() -> None:
    """Says serve( and LiveServer( in its text but never calls either."""


def test_a_test_that_starts_a_server_is_found_from_its_code() -> None:
    from tests.conftest import _code_starts_a_server

    assert _code_starts_a_server(_calls_serve_in_a_nested_block.__code__)
    assert _code_starts_a_server(_calls_a_live_server_in_a_comprehension.__code__)
    assert not _code_starts_a_server(_only_mentions_serve.__code__)


def test_make_test_fast_leaves_out_servers_threads_and_browsers() -> None:
    # `slow` comes from what a test (or a fixture it uses) does, not from anyone remembering to mark it:
    # a stand-in SMTP server or provider on loopback, racing threads, a served app, a browser.
    files = ["tests/notifications/test_senders.py", "tests/notifications/test_sms.py", "tests/test_db.py",
             "tests/console/test_browser.py"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--co", "-n", "0", "-p", "no:cacheprovider", "-m", "not slow", *files],
        cwd=Path(__file__).resolve().parents[1], env={**os.environ, "SAFESLOT_TEST_BACKENDS": "sqlite"},
        capture_output=True, text=True, check=False)
    fast = {line.split("[")[0] for line in result.stdout.splitlines() if "::" in line}
    assert "tests/test_db.py::test_a_writer_after_a_failed_transaction_gets_in" in fast, result.stdout[-2000:]
    assert "tests/notifications/test_sms.py::test_inbound_signature" in fast
    slow = {"tests/notifications/test_senders.py::test_email_goes_through_a_real_smtp_server",
            "tests/notifications/test_senders.py::test_a_text_is_posted_to_the_provider_as_its_api_expects",
            "tests/test_db.py::test_writers_in_one_process_take_turns_and_readers_never_wait"}
    assert sorted(slow & fast) == []
    assert not [t for t in fast if t.startswith("tests/console/test_browser.py")]


def test_a_database_left_with_a_visit_missing_its_holds_is_reported(fresh_url: str, keyring: KeyRing) -> None:
    """``fresh_url`` checks every committed-to database at the end (``people_left_unsound``): a booked visit
    whose holds were taken away behind the services' back is named; the same office untouched is sound."""
    import datetime as dt

    from sqlalchemy.orm import Session

    from safeslot.scheduling import service
    from safeslot.scheduling.schemas import BookingIn
    from tests.conftest import NOW, office_database, people_left_unsound

    engine = office_database(fresh_url, NOW.date())
    start = dt.datetime(2027, 3, 2, 10, 0, tzinfo=service.zone("America/New_York"))
    with Session(engine) as s, s.begin():
        service.book(s, keyring, BookingIn(office="central", service="apply", starts_at=start,
                                           name="Test Person A"), NOW)
    assert people_left_unsound(fresh_url) == []
    owner = _owner(fresh_url)
    with owner.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("DELETE FROM staff_hold WHERE appointment_id IS NOT NULL"))
    owner.dispose()  # type: ignore[attr-defined]
    engine.dispose()
    left = people_left_unsound(fresh_url)
    assert left and all("does not hold staff" in line for line in left)
    with _owner(fresh_url).begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("UPDATE appointment SET status = 'cancelled'"))  # sound again, for fresh_url's own check
