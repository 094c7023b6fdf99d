"""Bench: the app's own CPU per request, through the whole middleware stack, without a network.

Run from the repository root: `.venv/bin/python bench/request_cost.py [--n 300] [--only LABEL]`.

Builds one app (``create_app``) on a temporary SQLite database holding the demo office, a supervisor
of that office with an API token, then sends N requests of each kind through Starlette's TestClient
inside ``with client:`` (one event loop for all, as a served app has):

- ``public GET``: ``GET /api/v1/offices/central`` (no credential; the authorization table says public);
- ``staff GET``: ``GET /api/v1/offices/central/staff`` with ``Authorization: Bearer …`` (the token
  resolved, roles and office scope checked);
- ``refused``: the same with no credential (401 problem+json);
- ``console GET``: ``GET /console/office`` (the supervisor's office page, HTML) with the session cookie;
- ``booking POST``: ``POST /api/v1/appointments``, each on the next free start (201).

It prints CPU per request (``time.process_time``: every thread of this process), twice: through the
TestClient, as the test suite sends them (the ``noop`` row is the client's own share: a bare ASGI app
answering 200 through it), and as ASGI messages from an event loop in this thread, as a server hands
them over (the app's own CPU per answer, endpoints' worker threads included).
The endpoints run in worker threads, so profile it with py-spy (all threads), not cProfile:
`py-spy record -r 500 -f raw -o out.raw -- .venv/bin/python bench/request_cost.py --n 2000`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from safeslot import migrate  # noqa: E402
from safeslot.app import create_app  # noqa: E402
from safeslot.config import Environment, Settings  # noqa: E402
from safeslot.db import build_engine, build_sessionmaker  # noqa: E402
from safeslot.identity import service as identity  # noqa: E402
from safeslot.kit.crypto import KeyRing  # noqa: E402
from safeslot.scheduling import demo  # noqa: E402
from safeslot.scheduling.models import Office  # noqa: E402

NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
LENIENT = dict.fromkeys(("per_address", "per_credential", "booking_per_address", "booking_per_office",
                         "lookup_per_address"), "1000000/minute")


async def _noop(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


ONLY: list[str] = []


def _measure(label: str, n: int, send: Callable[[int], Any], expect: int) -> float:
    if ONLY and not label.startswith(ONLY[0]):
        return 0.0
    for i in range(min(20, n)):  # warm: first-request analysis, caches
        assert send(-1 - i).status_code == expect
    start = time.process_time()
    for i in range(n):
        r = send(i)
        assert r.status_code == expect, (label, r.status_code, r.text[:300])
    per = (time.process_time() - start) / n * 1e6
    print(f"{label:14} {per:8.0f} µs CPU per request (n={n})")
    return per


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--direct", action="store_true", help="only the app alone (for py-spy)")
    parser.add_argument("--only", help="run only the requests whose label starts with this (for py-spy)")
    args = parser.parse_args()
    ONLY.extend([args.only] if args.only else [])
    tmp = Path(tempfile.mkdtemp(prefix="request-cost-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    engine = build_engine(url)
    migrate.upgrade(engine)
    ring = KeyRing.generate()
    with build_sessionmaker(engine)() as s, s.begin():
        demo.load(s, NOW.date(), weeks=2)
        office_id = s.query(Office.id).filter(Office.slug == "central").scalar()
        account, _ = identity.create_account(s, ring, username="bench-supervisor", display_name="Bench Example",
                                             password=None, roles=["supervisor"], office_id=office_id, now=NOW)
        _, token = identity.issue_credential(s, "api", NOW, staff=account)
        _, cookie = identity.issue_credential(s, "session", NOW, staff=account)
    settings = Settings(environment=Environment.test, crypto={"key_file": tmp / "keys.json"},
                        log={"signing_key_file": tmp / "log.key"}, rate_limits=LENIENT)
    app = create_app(settings, engine=engine, clock=lambda: NOW, keyring=ring)
    with TestClient(_noop) as bare, TestClient(app, raise_server_exceptions=False) as client:
        _measure("noop", args.n, lambda i: bare.get("/"), 200)
        starts = [s["starts_at"] for s in client.get("/api/v1/slots", params={
            "office": "central", "service": "card", "from": NOW.date().isoformat(),
            "to": (NOW.date() + dt.timedelta(days=13)).isoformat()}).json() for _ in range(s["available"])]
        if len(starts) < 2 * (args.n + 20) and (not ONLY or "booking POST".startswith(ONLY[0])):
            sys.exit(f"only {len(starts)} free starts for the bookings; lower --n")
        if not args.direct:
            print("through Starlette's TestClient (the test suite's way; its own share is the noop row):")
            _requests(client, args.n, token, cookie, starts[:args.n + 20])
        print("the app alone (ASGI messages from this thread's event loop, as a server sends them):")
        _requests(Direct(app), args.n, token, cookie, starts[args.n + 20:])


class Answer:
    def __init__(self, status_code: int, body: bytes) -> None:
        self.status_code, self.text = status_code, body.decode("utf-8", "replace")


class Direct:
    """A server's part and nothing more: one event loop, the request as ASGI messages, the answer collected."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return self.request("GET", path, headers)

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None) -> Answer:
        return self.request("POST", path, {**(headers or {}), "content-type": "application/json"},
                            orjson.dumps(json))

    def request(self, method: str, path: str, headers: dict[str, str] | None, body: bytes = b"") -> Answer:
        raw = [(b"host", b"testserver"), *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items())]
        if body:
            raw.append((b"content-length", str(len(body)).encode()))
        scope = {"type": "http", "http_version": "1.1", "method": method, "path": path, "raw_path": path.encode(),
                 "root_path": "", "scheme": "http", "query_string": b"", "headers": raw,
                 "client": ("127.0.0.1", 50000), "server": ("testserver", 80), "state": {}}
        status, chunks, sent = [0], [], [False]

        async def receive() -> dict[str, Any]:
            if sent[0]:
                return {"type": "http.disconnect"}
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        self.loop.run_until_complete(self.app(scope, receive, send))
        return Answer(status[0], b"".join(chunks))


def _requests(client: Any, n: int, token: str, cookie: str, starts: list[str]) -> None:
    bearer = {"Authorization": f"Bearer {token}"}
    _measure("public GET", n, lambda i: client.get("/api/v1/offices/central"), 200)
    _measure("refused", n, lambda i: client.get("/api/v1/offices/central/staff"), 401)
    _measure("staff GET", n, lambda i: client.get("/api/v1/offices/central/staff", headers=bearer), 200)
    page = {"Cookie": f"safeslot_session={cookie}", "Accept": "text/html"}
    _measure("console GET", n, lambda i: client.get("/console/office", headers=page), 200)

    def book(i: int) -> Any:
        return client.post("/api/v1/appointments", json={
            "office": "central", "service": "card", "starts_at": starts[i % len(starts)], "name": "Bench Example"})

    _measure("booking POST", n, book, 201)

if __name__ == "__main__":
    main()
