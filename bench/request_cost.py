"""Bench: the app's own CPU per request, through the whole middleware stack, without a network.

Run from the repository root: `.venv/bin/python bench/request_cost.py [--n 300] [--profile OUT.pstats]`.

Builds one app (``create_app``) on a temporary SQLite database holding the demo office, a supervisor
of that office with an API token, then sends N requests of each kind through Starlette's TestClient
inside ``with client:`` (one event loop for all, as a served app has):

- ``public GET``: ``GET /api/v1/offices/central`` (no credential; the authorization table says public);
- ``staff GET``: ``GET /api/v1/offices/central/staff`` with ``Authorization: Bearer …`` (the token
  resolved, roles and office scope checked);
- ``refused``: the same with no credential (401 problem+json);
- ``console GET``: ``GET /console/office`` (the supervisor's office page, HTML) with the session cookie;
- ``booking POST``: ``POST /api/v1/appointments``, each on the next free start (201).

It prints CPU per request (``time.process_time``: every thread of this process, so the test client's
share is in it too; the ``noop`` row is that share: a bare ASGI app answering 200 through the same
client). The endpoints run in worker threads, so profile it with py-spy (all threads), not cProfile:
`py-spy record -r 500 -f raw -o out.raw -- .venv/bin/python bench/request_cost.py --n 2000`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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
    bearer = {"Authorization": f"Bearer {token}"}
    with TestClient(_noop) as bare, TestClient(app, raise_server_exceptions=False) as client:
        _measure("noop", args.n, lambda i: bare.get("/"), 200)
        _measure("public GET", args.n, lambda i: client.get("/api/v1/offices/central"), 200)
        _measure("refused", args.n, lambda i: client.get("/api/v1/offices/central/staff"), 401)
        staff = lambda i: client.get("/api/v1/offices/central/staff", headers=bearer)  # noqa: E731
        _measure("staff GET", args.n, staff, 200)
        page = {"Cookie": f"safeslot_session={cookie}", "Accept": "text/html"}
        _measure("console GET", args.n, lambda i: client.get("/console/office", headers=page), 200)
        starts = [s["starts_at"] for s in client.get("/api/v1/slots", params={
            "office": "central", "service": "card", "from": NOW.date().isoformat(),
            "to": (NOW.date() + dt.timedelta(days=13)).isoformat()}).json() for _ in range(s["available"])]
        books = args.n + 20
        if len(starts) < books:
            sys.exit(f"only {len(starts)} free starts for the bookings; lower --n")

        def book(i: int) -> Any:
            return client.post("/api/v1/appointments", json={
                "office": "central", "service": "card", "starts_at": starts[i % books], "name": "Bench Example"})

        _measure("booking POST", args.n, book, 201)


if __name__ == "__main__":
    main()
