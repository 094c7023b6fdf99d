"""Long fuzz run: schemathesis over every operation of the OpenAPI document, with every credential.

Run from the repository root (long: tens of minutes; be kind to a shared machine):

    nice -n 10 .venv/bin/python bench/fuzz.py [--cases 28000] [--database sqlite|postgresql] [--shard i/n]
    make fuzz

Operations without parameters (GET /healthz) run out of distinct cases early,
so ask for about 28,000 to get more than 20,000. ``--shard 0/2`` and ``--shard
1/2`` in two processes split the operations between them (add up their counts).

It builds a throwaway database (SQLite under a temporary folder, or a database
on SAFESLOT_TEST_POSTGRES_URL), migrates it, loads the demo office and one staff
account per role plus a verified agency official, then drives the app in-process
(ASGI) with schemathesis: for each operation, each credential (anonymous, clerk,
supervisor, privacy officer, counsel, auditor, admin, agency key) and both
generation modes (positive and negative data), an equal share of the cases.
Every answer is checked: no server error, and status code, media type and body
as the document says. Commits are real (no rolled-back transaction), so state
builds up as it would in an office. Rate limits are raised out of reach (one
client sends everything).

Prints the number of cases, server errors and conformance failures, with the
first failures; exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

ROLES = ("clerk", "supervisor", "privacy_officer", "counsel", "auditor", "admin")


def _runner(operation, mode, who, headers, per, checks, counted, failures):  # type: ignore[no-untyped-def]
    """One Hypothesis test for (operation, mode, credential): counts cases and collects failures."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hypothesis_settings

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(max_examples=per, deadline=None, database=None, derandomize=True,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        counted["cases"] += 1
        response = case.call(headers=headers)
        counted[f"status {response.status_code}"] += 1
        if response.status_code >= 500:
            counted["server errors"] += 1
        try:
            case.validate_response(response, checks=checks)
        except Exception as exc:
            counted["failed cases"] += 1
            if len(failures) < 200:
                failures.append(f"{operation.method.upper()} {operation.path} as {who} "
                                f"({mode.value}): {str(exc).strip()[:600]}")

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=28000, help="cases asked for in all (default 28000)")
    parser.add_argument("--at-least", type=int, default=20000, help="fail if fewer cases ran (split by --shard)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--show", type=int, default=15, help="failures to print")
    parser.add_argument("--shard", default="0/1", help="i/n: run every n-th operation from the i-th (parallel runs)")
    args = parser.parse_args()

    import schemathesis
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )
    from sqlalchemy import create_engine, select, text
    from tests.conftest import LENIENT_LIMITS

    from safeslot import migrate
    from safeslot.app import create_app
    from safeslot.config import Environment, Settings
    from safeslot.db import build_engine, build_sessionmaker, normalize_url, transaction
    from safeslot.identity import service as identity
    from safeslot.identity.models import StaffAccount
    from safeslot.kit.crypto import KeyRing
    from safeslot.scheduling import demo
    from safeslot.scheduling.models import Office

    tmp = Path(tempfile.mkdtemp(prefix="safeslot-fuzz-"))
    admin_engine = None
    name = f"safeslot_fuzz_{uuid.uuid4().hex[:8]}"
    if args.database == "sqlite":
        url = f"sqlite:///{tmp / 'fuzz.db'}"
    else:
        admin_url = normalize_url(os.environ.get("SAFESLOT_TEST_POSTGRES_URL",
                                                 "postgresql://postgres@127.0.0.1:5432/postgres"))
        admin_engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    engine = build_engine(url)
    try:
        migrate.upgrade(engine)
        now = dt.datetime.now(dt.UTC)
        ring = KeyRing.generate()
        credentials: dict[str, dict[str, str]] = {"anonymous": {}}
        with transaction(build_sessionmaker(engine)) as session:
            demo.load(session, now.date(), weeks=2)
            office_id = session.scalars(select(Office.id)).first()
            for role in ROLES:
                account, _ = identity.create_account(
                    session, ring, username=f"fuzz-{role}", display_name="Test Person A", password="p" * 16,
                    roles=[role], office_id=office_id if role in ("clerk", "supervisor") else None, now=now)
                _, secret = identity.issue_credential(session, "api", now, staff=account,
                                                      lifetime=dt.timedelta(days=2))
                credentials[role] = {"Authorization": f"Bearer {secret}"}
            officer = session.scalars(select(StaffAccount).where(StaffAccount.username == "fuzz-privacy_officer")).one()
            agency = identity.create_agency(session, "Example Agency", "1 Example Way", now)
            person = identity.add_official(session, agency.id, "Test Person B", "Agent", "delegate", now)
            by = identity.Principal("staff", officer.id, officer.username, frozenset({"privacy_officer"}), None, 0,
                                    "api", "")
            identity.record_verification(session, agency.id, person.id, by, "phone_callback", "test", now)
            _, key = identity.issue_agency_key(session, agency.id, person.id, now, revoke_others=False)
            credentials["agency"] = {"Authorization": f"Bearer {key}"}
        settings = Settings(environment=Environment.test, database={"url": url},
                            crypto={"key_file": tmp / "keys.json"}, log={"signing_key_file": tmp / "log.key"},
                            rate_limits=LENIENT_LIMITS)
        app = create_app(settings, engine=engine, keyring=ring)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        combos = len(operations) * len(credentials) * 2
        per = max(1, args.cases // combos + (1 if args.cases % combos else 0))
        shard, shards = (int(x) for x in args.shard.split("/"))
        operations = operations[shard::shards]
        checks = [not_a_server_error, status_code_conformance, content_type_conformance,
                  response_schema_conformance]
        print(f"fuzz: {len(operations)} operations x {len(credentials)} credentials x 2 modes, "
              f"{per} cases each, {args.database}", flush=True)
        counted: Counter[str] = Counter()
        failures: list[str] = []
        started = time.monotonic()
        for operation in operations:
            for who, headers in credentials.items():
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                    run = _runner(operation, mode, who, headers, per, checks, counted, failures)
                    try:
                        run()
                    except Unsatisfiable:
                        continue
            print(f"  {counted['cases']:>6} cases, {counted['server errors']} server errors, "
                  f"{counted['failed cases']} failed — {operation.method.upper()} {operation.path}", flush=True)
        seconds = time.monotonic() - started
        print(f"\nfuzz: {counted['cases']} cases in {seconds:.0f} s over {len(operations)} operations and "
              f"{len(credentials)} credentials; {counted['server errors']} server errors; "
              f"{counted['failed cases']} conformance failures")
        print("statuses: " + ", ".join(f"{k.split()[1]}x{v}" for k, v in sorted(counted.items())
                                       if k.startswith("status ")))
        for failure in failures[: args.show]:
            print("\n" + failure)
        # Operations without parameters run out of distinct cases early: ask for more than you need.
        too_few = counted["cases"] < args.at_least // shards
        return 1 if counted["server errors"] or counted["failed cases"] or too_few else 0
    finally:
        engine.dispose()
        if admin_engine is not None:
            with admin_engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin_engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
