"""No hot query reads a growing table from end to end (PostgreSQL's plans, checked with EXPLAIN).

A network of 1,200 offices holds tens of millions of appointments, holds and log entries
(bench/scale.py). A query whose plan is a sequential scan of one of those tables costs
time in proportion to the whole network, however small the answer. This test runs each hot
operation — slot search, booking (both paths), the office finder, an accounting look-up, a
clerk's day list, a disclosure subject match, a report build, serving a tile and an entry
bundle, a log self-check, and what runs beside them on the same tables: the worker's round (the reminders
due, the outbox's de-duplication, pruning and claim, every few seconds), the nightly retention, a look-up,
cancellation and move by confirmation code, the walk-in queue — records every statement it sends, and
asks PostgreSQL for the plan of each with ``enable_seqscan = off``: the planner then scans a table from end to end only
when no index can answer the query, whatever the table's size, so a small test database shows
what a full one would do. A plan that still has a ``Seq Scan`` on a growing table, or an index
scan with no condition on the index (a full scan in index order) that no ``LIMIT`` stops, fails.

Reading everything is the job of two things only, and they are listed by name below
(``WHOLE_READS``): the self-check walks every record chain from its first link, and reads every
entry bundle (by index ranges). Nothing else may.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from safeslot.config import AccessSettings
from safeslot.disclosure import accounting
from safeslot.disclosure import service as disclosure
from safeslot.disclosure.models import RequestSubject
from safeslot.identity.models import StaffAccount
from safeslot.identity.service import Principal
from safeslot.kit.crypto import KeyRing
from safeslot.privacy import reads, statistics
from safeslot.reports import service as reports
from safeslot.reports.schemas import Period
from safeslot.scheduling import demo, fastsql
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.idempotency import run_once
from safeslot.scheduling.schemas import BookingIn
from safeslot.transparency import repository as log_repository
from safeslot.transparency import selfcheck
from safeslot.transparency import service as log
from safeslot.transparency.note import Signer
from tests.conftest import NOW

# Tables whose rows grow with appointments or log entries (or with offices x days, the start grid).
GROWING = frozenset({
    "appointment", "staff_hold", "slot_capacity", "idempotency_record", "log_entry", "log_node",
    "log_checkpoint", "log_cosignature", "log_verification", "record_chain_commit", "access_record", "access_alert",
    "disclosure_accounting", "disclosure_accounting_code", "disclosure_subject", "notification_outbox",
    "queue_ticket",
    # and with the offices: a network has 1,200 of them, and every search reads its office's people and hours
    "staff", "service", "weekly_hours", "closure", "service_translation", "staff_account",
    "staff_hours", "staff_absence", "identity_office_scope", "credential",
    # per office and hour, day or month: the search cache's versions and the counters
    "availability_hour", "availability_office", "appointment_monthly_count", "queue_daily_count",
    # with the disclosure requests, each of which writes log entries
    "disclosure_request", "disclosure_decision", "disclosure_review", "disclosure_attestation",
    "disclosure_release", "disclosure_notice", "identity_privileged_event",
})

# Statements that read a whole growing table by design, and why.
WHOLE_READS = (
    # the self-check walks each record chain from its first link (chain.walk): every record, once
    re.compile(r"FROM (access_record|access_alert|disclosure_accounting|identity_privileged_event)\b.*"
               r"ORDER BY \w+\.chain_seq", re.S),
    # ... and checks the log against every checkpoint ever published, and every committed chain head
    re.compile(r"FROM log_checkpoint\b(?!.*WHERE)", re.S),
    re.compile(r"FROM record_chain_commit\b(?!.*WHERE)", re.S),
)

ORIGIN = "plans.example/log"
# plan nodes that hand rows up as they read them, so that a LIMIT above them stops the scans below (and a
# sorted group aggregate, below); a sort, hash, plain aggregate or window over everything reads all first
STREAMING = frozenset({"Limit", "Append", "Merge Append", "Subquery Scan", "Result", "Unique", "Gather Merge",
                       "Gather"})


_LEADING = """
SELECT ic.relname, tc.relname, a.attname FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class tc ON tc.oid = i.indrelid
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE tc.relname = ANY(%s) AND i.indkey[0] <> 0
"""


def leading_columns(connection: Connection) -> dict[str, tuple[str, str]]:
    """Index name -> (table, first column) for every index on a growing table (expression indexes left out)."""
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    with raw.cursor() as cur:
        cur.execute(_LEADING, [sorted(GROWING)])
        return {index: (table, column) for index, table, column in cur.fetchall()}


def _growing(node: dict[str, Any], leading: Mapping[str, tuple[str, str]], limited: bool = False) -> list[str]:
    """The plan nodes that read a growing table from end to end. ``leading``: index name -> (its table, its
    first column), for the growing tables' indexes."""
    found: list[str] = []
    kind = node.get("Node Type", "")
    rel = node.get("Relation Name")
    limited = limited or kind == "Limit"
    index = node.get("Index Name")
    if index in leading and "Index Cond" in node:
        # PostgreSQL uses a condition on a later column of an index as an index condition too, and then reads
        # the whole index to apply it: a full scan in all but name (a B-tree is ordered by its first column)
        table, first = leading[index]
        if not re.search(rf"\b{re.escape(first)}\b", node["Index Cond"]):
            found.append(f"{kind} of {table} ({index}) with no condition on its first column, {first}")
    if rel in GROWING:
        if kind == "Seq Scan":
            found.append(f"Seq Scan on {rel}")
        elif kind in {"Index Scan", "Index Only Scan"} and "Index Cond" not in node and (
                not limited or "Filter" in node):
            # a LIMIT stops a scan in index order after its first rows, unless a filter skips rows: then
            # it reads on until enough rows pass, the whole index when few or none do
            found.append(f"full {kind} of {rel} ({node.get('Index Name')})")
        elif kind == "Bitmap Heap Scan" and "Recheck Cond" not in node:
            found.append(f"full Bitmap Heap Scan of {rel}")
    for n, child in enumerate(node.get("Plans", [])):
        # a LIMIT stops what streams into it; a sort, hash or aggregate below it reads all of its input first,
        # and a nested loop's inner side runs once per outer row
        streams = (kind in STREAMING or (kind == "Aggregate" and node.get("Strategy") == "Sorted")
                   or (kind == "Nested Loop" and n == 0))
        found.extend(_growing(child, leading, limited and streams))
    return found


@contextmanager
def recorded(connection: Connection) -> Iterator[list[tuple[str, Any]]]:
    """Every statement (with its parameters) sent on ``connection`` inside the block."""
    seen: list[tuple[str, Any]] = []

    def hook(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if not many:
            seen.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", hook)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", hook)


def plan_of(connection: Connection, statement: str, parameters: Any) -> dict[str, Any]:
    """PostgreSQL's plan for one recorded statement, with sequential scans priced out."""
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    with psycopg.ClientCursor(raw) as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("EXPLAIN (FORMAT JSON) " + statement, parameters or None)
        row = cur.fetchone()
    assert row is not None
    value = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    return dict(value[0]["Plan"])


def offenders(connection: Connection, statements: list[tuple[str, Any]]) -> list[str]:
    out: list[str] = []
    leading = leading_columns(connection)
    for statement, parameters in statements:
        head = statement.lstrip().split(None, 1)[0].upper()
        if head not in {"SELECT", "WITH", "UPDATE", "DELETE"} or "pg_advisory" in statement:
            continue
        if any(p.search(statement) for p in WHOLE_READS):
            continue
        bad = _growing(plan_of(connection, statement, parameters), leading)
        if bad:
            out.append(f"{'; '.join(bad)} in: {' '.join(statement.split())[:300]}")
    return out


@pytest.fixture
def pg(backend: str, session: Session) -> Session:
    if backend != "postgresql":
        pytest.skip("query plans are PostgreSQL's (the production database)")
    return session


@pytest.fixture
def network(pg: Session, keyring: KeyRing) -> dict[str, Any]:
    """The demo office with bookings, a clerk, accounting rows and a log with a checkpoint.

    Not ANALYZEd: the tests run as the app role, which may not (PostgreSQL skips the tables with a warning), and
    statistics of a few rows would make the planner read those few rows whole, which says nothing of a network.
    A test that needs the planner to know a table's shape fills it as a network would and ANALYZEs that table
    alone, as the tables' owner (``as_owner``)."""
    slug = demo.load(pg, NOW.date(), weeks=3)
    office = scheduling.get_office(pg, slug)
    day = NOW.date() + dt.timedelta(days=1)
    free = scheduling.search_slots(pg, slug, "apply", day, day + dt.timedelta(days=6), None, NOW)[2]
    codes = []
    for i, f in enumerate(free[:12]):
        a = scheduling.book(pg, keyring, BookingIn(office=slug, service="apply", starts_at=f.starts_at,
                                                   name=f"Test Person {i % 4}"), NOW)
        codes.append(a.code)
    clerk = StaffAccount(username="plans-clerk", display_name="Desk Example", password_hash="!", totp_enc=b"",
                         roles="clerk", office_id=office.id, active=True, demo=False, failed_logins=0,
                         last_totp_step=0, created_at=NOW - dt.timedelta(days=5))
    pg.add(clerk)
    pg.flush()
    signer = Signer.generate(ORIGIN)
    log.append_raw(pg, [{"event": "policy.change", "time": "2027-02-01T10:00:00Z", "change_id": i, "step": "proposed"}
                    for i in range(600)], now=NOW)
    log.checkpoint(pg, signer, NOW, origin=ORIGIN)
    principal = Principal(kind="staff", id=clerk.id, name="Desk Example", roles=frozenset({"clerk"}),
                          office_id=office.id, credential_id=0, credential_kind="session", secret_hash="",
                          office_ids=frozenset({office.id}))
    return {"slug": slug, "office": office, "free": free, "codes": codes, "clerk": principal, "signer": signer}


def _run(pg: Session, action: Callable[[], object]) -> list[str]:
    connection = pg.connection()
    with recorded(connection) as seen:
        action()
    assert seen, "the operation sent no statement: the test would prove nothing"
    return offenders(connection, seen)


def test_the_check_sees_a_sequential_scan(pg: Session) -> None:
    """The guard itself: a query with no usable index is caught, one with an index is not."""
    connection = pg.connection()
    assert offenders(connection, [("SELECT id FROM appointment WHERE updated_at > %(t)s", {"t": NOW})])
    assert offenders(connection, [("SELECT count(*) FROM log_entry", None)])
    assert not offenders(connection, [("SELECT id FROM appointment WHERE code = %(c)s", {"c": "X"})])
    # a condition on an index's second column only: PostgreSQL reads the whole index to apply it
    assert offenders(connection, [("SELECT id FROM appointment WHERE starts_at = %(t)s", {"t": NOW})])
    assert not offenders(connection, [("SELECT idx FROM log_entry ORDER BY idx DESC LIMIT 1", None)])
    # a LIMIT over an aggregate of everything: the whole index is read before the one row comes out
    assert offenders(connection, [("SELECT count(*) FROM (SELECT idx FROM log_entry ORDER BY idx) s LIMIT 1",
                                   None)])
    # ... but a sorted group aggregate hands its groups up as it goes: the LIMIT stops it
    assert not offenders(connection, [("SELECT idx, count(*) FROM log_entry GROUP BY idx ORDER BY idx LIMIT 1",
                                       None)])
    # the newest row that matches an unindexed condition: LIMIT 1, but the whole index read to find it
    assert offenders(connection, [("SELECT idx FROM log_entry WHERE length(data) = 7 ORDER BY idx DESC LIMIT 1",
                                   None)])


def test_slot_search(pg: Session, network: dict[str, Any]) -> None:
    day = NOW.date() + dt.timedelta(days=1)
    assert _run(pg, lambda: scheduling.search_slots(pg, network["slug"], "interview", day,
                                                    day + dt.timedelta(days=6), "es", NOW)) == []


def test_slot_search_through_the_cache(pg: Session, network: dict[str, Any]) -> None:
    """The cached search's own statement (the availability versions, read first) is found by index too."""
    from safeslot.scheduling.search_cache import SearchCache

    day = NOW.date() + dt.timedelta(days=1)
    assert _run(pg, lambda: scheduling.search_slots(pg, network["slug"], "interview", day, day + dt.timedelta(days=6),
                                                    "es", NOW, cache=SearchCache())) == []


def test_booking_sync_path(pg: Session, network: dict[str, Any], keyring: KeyRing) -> None:
    start = network["free"][-1].starts_at
    data = BookingIn(office=network["slug"], service="apply", starts_at=start, name="Test Person Z")
    assert _run(pg, lambda: (scheduling.lock_booking_hours(pg, data), scheduling.book(pg, keyring, data, NOW))) == []


def _prepared(connection: Connection, args: dict[str, list[Any]]) -> list[str]:
    """The offenders among asyncpg's statements ($n parameters), each planned as the fast path runs it."""
    bad: list[str] = []
    leading = leading_columns(connection)
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    with psycopg.ClientCursor(raw) as cur:  # values inlined: EXECUTE inside EXPLAIN takes no bound parameters
        cur.execute("SET LOCAL enable_seqscan = off")
        for n, (sql, values) in enumerate(args.items()):
            cur.execute(f"PREPARE plans_{n} AS {sql}")
            placeholders = ", ".join("%s" for _ in values)
            cur.execute(f"EXPLAIN (FORMAT JSON) EXECUTE plans_{n} ({placeholders})", values)
            row = cur.fetchone()
            assert row is not None
            plan = (row[0] if not isinstance(row[0], str) else json.loads(row[0]))[0]["Plan"]
            bad.extend(f"{b} in: {' '.join(sql.split())[:200]}" for b in _growing(plan, leading))
            cur.execute(f"DEALLOCATE plans_{n}")
    return bad


def test_booking_fast_path_lookups(pg: Session, network: dict[str, Any]) -> None:
    """What the fast path reads before its statement (fastlookup.Lookups.office, every FACTS_TTL seconds):
    the office, its services, its active staff, their own hours and their absences to come."""
    office = network["office"]
    assert _prepared(pg.connection(), {
        fastsql.OFFICE_SQL: [office.slug], fastsql.SERVICES_SQL: [office.id], fastsql.STAFF_SQL: [office.id],
        fastsql.STAFF_HOURS_SQL: [office.id], fastsql.ABSENCE_SQL: [office.id, NOW.date()],
    }) == []


def test_booking_idempotency_key(pg: Session, network: dict[str, Any]) -> None:
    """A booking's Idempotency-Key: the claim, the answer stored under it, and a retry's replay."""
    def twice() -> None:
        first = run_once(pg, "book", "plans-key", "h", NOW, lambda: (201, {"code": "X"}))
        again = run_once(pg, "book", "plans-key", "h", NOW, lambda: (500, {}))
        assert first == (201, {"code": "X"}, False) and again == (201, {"code": "X"}, True)

    assert _run(pg, twice) == []


def test_booking_fast_path_statement(pg: Session, network: dict[str, Any]) -> None:
    """The fast path's one statement per booking (asyncpg, $n parameters), and its refusal's look-ups."""
    connection = pg.connection()
    office, start = network["office"], network["free"][-1].starts_at
    service = scheduling.get_service(pg, office, "apply")
    staff = list(pg.scalars(text("SELECT id FROM staff WHERE office_id = :o ORDER BY id"), {"o": office.id}))
    end = start + dt.timedelta(minutes=30)
    args = {
        fastsql.BOOK_SQL: ["k1", office.id, service.id, start, end,
                           "{" + ",".join(map(str, staff)) + "}", "{" + ",".join("t" for _ in staff) + "}", None,
                           "{}", "h", "{}", NOW, "CODE000000", None, b"\0", "ix", None, None, False, "apply",
                           [start, start + dt.timedelta(minutes=15)], start.date(), start.weekday(),
                           start.time(), end.time(), "{}", False],  # the visit in office time (here UTC: same plan);
        # $26: no batch locks (a booking after a batch's lock row; lock_row's plan is the same statement);
        # $27: not a probe (fastsql.Booking.probe)
        fastsql.NEAREST_SQL: [service.id, start, end, start, start - dt.timedelta(days=7)],
        fastsql.HOLDS_SQL: [office.id, start, end],
        fastsql.MASKS_SQL: [office.id, start, end, staff, [1 << i for i in range(len(staff))]],
    }
    assert _prepared(connection, args) == []


def test_the_databases_one_visit_check(pg: Session, network: dict[str, Any]) -> None:
    """The appointment trigger's look-up of a visit's people (migration 0550), run by every booking's INSERT:
    planned with the values a booking gives it, as the trigger's own statement is."""
    from safeslot import migrate
    from tests.scripts import load_file

    module = load_file(migrate.MIGRATIONS / "versions" / "0550_visit_check_by_person.py", "migration_0550")
    sql = "SELECT " + module.POSTGRESQL_OVERLAP
    for name, placeholder in (("NEW.staff_id", "$1::int"), ("NEW.interpreter_id", "$2::int"),
                              ("NEW.starts_at", "$3::timestamptz"), ("NEW.ends_at", "$4::timestamptz"),
                              ("NEW.id", "$5::int")):
        sql = sql.replace(name, placeholder)
    assert "NEW." not in sql
    office, start = network["office"], network["free"][-1].starts_at
    staff = pg.scalar(text("SELECT min(id) FROM staff WHERE office_id = :o"), {"o": office.id})
    args = {sql: [staff, staff + 1, start, start + dt.timedelta(minutes=45), 0]}
    assert _prepared(pg.connection(), args) == []


def test_office_finder(pg: Session, network: dict[str, Any]) -> None:
    assert _run(pg, lambda: scheduling.nearest_offices(pg, "01103", "vi", NOW)) == []
    # by town, with no interpreter asked for (the home page's first search)
    assert _run(pg, lambda: scheduling.nearest_offices(pg, "Springfield, MA", None, NOW)) == []


def test_accounting_lookup(pg: Session, network: dict[str, Any], keyring: KeyRing) -> None:
    code = network["codes"][0]
    assert _run(pg, lambda: accounting.lookup(pg, keyring, code, "Test Person 0", NOW)) == []


def test_clerk_day_list(pg: Session, network: dict[str, Any], keyring: KeyRing) -> None:
    day = NOW.date() + dt.timedelta(days=1)
    assert _run(pg, lambda: reads.office_day(pg, keyring, network["clerk"], network["slug"], day, NOW,
                                             AccessSettings())) == []


def test_office_and_network_report(pg: Session, network: dict[str, Any]) -> None:
    month = NOW.strftime("%Y-%m")
    office = scheduling.get_office(pg, network["slug"])
    every = [o.id for o in scheduling.list_offices(pg)]
    assert _run(pg, lambda: (statistics.offices_month(pg, month, [office.id]),
                             statistics.offices_month(pg, month, every))) == []


def test_subject_match(pg: Session, network: dict[str, Any], keyring: KeyRing) -> None:
    subjects = [RequestSubject(name_index=keyring.blind_index(f"Test Person {i}"), office_slug=network["slug"],
                               date_from=NOW.date(), date_to=NOW.date() + dt.timedelta(days=30)) for i in range(3)]
    assert _run(pg, lambda: disclosure.match_subjects(pg, keyring, subjects)) == []
    assert any(s.candidates for s in subjects), "the match found nothing: the data is wrong"


def test_tile_and_entry_bundle(pg: Session, network: dict[str, Any]) -> None:
    assert _run(pg, lambda: (log.tile(pg, 0, 1, 256), log.entry_bundle(pg, 0, 256),
                             log.inclusion(pg, 300))) == []


def test_report_build(pg: Session, network: dict[str, Any]) -> None:
    signer = network["signer"]
    assert _run(pg, lambda: reports.compute_from_log(reports.LocalLog(pg), signer.verifier(), ORIGIN,
                                                     Period.parse("2027"))) == []
    # The entries themselves are read on the driver's binary server-side cursor, which the recorder does
    # not see: the whole log by design, in primary-key order (a range of the index, never a scan and sort).
    assert offenders(pg.connection(), [(log_repository.STREAM_SQL, {"start": 0, "end": 10**12})]) == []


def test_log_self_check(pg: Session, network: dict[str, Any]) -> None:
    def check() -> None:
        run = selfcheck.self_verify(pg, network["signer"].verifier(), ORIGIN, NOW, method="cli")
        assert run.ok, run.detail

    assert _run(pg, check) == []


# -- the worker's rounds, retention, and what follows a booking ------------------------------------
def _index_conditions(node: dict[str, Any]) -> list[str]:
    """Every index condition in a plan, with its index's name: ``"ix_name: (cond)"``."""
    found = [f"{node['Index Name']}: {node[key]}" for key in ("Index Cond", "Recheck Cond")
             if key in node and "Index Name" in node]
    for child in node.get("Plans", []):
        found.extend(_index_conditions(child))
    return found


def _with_reminders(pg: Session, keyring: KeyRing, network: dict[str, Any]) -> list[str]:
    """Two visits tomorrow with a contact and reminders on, booked days before their reminders fell due."""
    from safeslot.scheduling.schemas import Contact

    codes = []
    for i, f in enumerate(network["free"][12:14]):
        data = BookingIn(office=network["slug"], service="apply", starts_at=f.starts_at, name=f"Test Person R{i}",
                         contact=Contact(kind="phone", value="555-0100"), reminders_opt_in=True)
        codes.append(scheduling.book(pg, keyring, data, NOW - dt.timedelta(days=5)).code)
    return codes


def test_reminder_round_and_outbox(pg: Session, network: dict[str, Any], keyring: KeyRing,
                                   settings: Any) -> None:
    """The worker's round, every few seconds: the reminders due (by the start of opted-in visits with a
    contact), the de-duplication against what is queued, then recovery, pruning and the claim."""
    from safeslot.notifications import outbox, reminders
    from safeslot.scheduling import reminders as appointments

    _with_reminders(pg, keyring, network)
    ctx = outbox.Context(keyring, settings, NOW)
    produced: list[int] = []
    assert _run(pg, lambda: produced.extend(reminders.produce(pg, ctx, appointments) for _ in range(2))) == []
    assert produced == [2, 0], "the round queued nothing, or queued twice: the data is wrong"
    assert _run(pg, lambda: (outbox.recover(pg, ctx), outbox.prune(pg, NOW - dt.timedelta(days=365)),
                             outbox.claim(pg, NOW, 10), outbox.dead_letters(pg, [network["office"].id]))) == []


def test_the_reminder_scan_reads_only_opted_in_visits_with_a_contact(pg: Session, network: dict[str, Any]) -> None:
    """Every visit of the next days has a start; those with reminders on and a contact are the few the scan
    reads, by an index of their own (a plain index on the start would pass the check above and read them all)."""
    from safeslot.scheduling.reminders import upcoming

    connection = pg.connection()
    with recorded(connection) as seen:
        upcoming(pg, NOW, dt.timedelta(days=3))
    conditions = [c for s, p in seen for c in _index_conditions(plan_of(connection, s, p))]
    assert any(c.startswith("ix_appointment_reminders:") and "starts_at" in c for c in conditions), conditions


def test_retention(pg: Session, network: dict[str, Any], keyring: KeyRing) -> None:
    """The nightly retention: visits past their period (in batches), contacts past theirs, stored retry answers,
    walk-in tickets; run a year on, so that every visit and ticket of the fixture goes."""
    from safeslot.config import QueueSettings, RetentionSettings
    from safeslot.privacy import retention
    from safeslot.scheduling.queue import service as queue

    _with_reminders(pg, keyring, network)
    queue.check_in_walk_in(pg, keyring, network["slug"], "card", None, "T. P.", NOW, QueueSettings())
    run_once(pg, "book", "plans-retention", "h", NOW, lambda: (201, {"code": "X"}))
    later = NOW + dt.timedelta(days=400)
    done: list[retention.RetentionResult] = []
    assert _run(pg, lambda: done.append(retention.run(pg, RetentionSettings(), later, batch_size=5))) == []
    assert done[0].appointments_purged >= 14 and done[0].tickets_purged == 1 and done[0].idempotency_purged == 1


def test_contacts_and_names_are_erased_by_an_index_of_those_still_kept(pg: Session, network: dict[str, Any]) -> None:
    """Contacts (and walk-ins' names) go a month after the visit: the nightly erasure reads the visits and
    tickets that still have one, not every visit and ticket before the cutoff (which the check above passes)."""
    from safeslot.scheduling import retention
    from safeslot.scheduling.queue import repository as tickets

    connection = pg.connection()
    for erase, index in ((lambda: retention.erase_contacts(pg, NOW), "ix_appointment_contact_end"),
                         (lambda: tickets.erase_names(pg, NOW.date()), "ix_queue_ticket_name_day")):
        with recorded(connection) as seen:
            erase()
        conditions = [c for s, p in seen for c in _index_conditions(plan_of(connection, s, p))]
        assert any(c.startswith(f"{index}:") for c in conditions), conditions


@pytest.mark.as_owner  # ANALYZE is the tables' owner's (as the app role it is skipped, with a warning)
def test_finished_messages_are_pruned_by_their_age(pg: Session, network: dict[str, Any], settings: Any) -> None:
    """Each round deletes the finished messages past the appointment period: found by their age, not by
    reading every sent message of the year (their status alone would pass the check above)."""
    from safeslot.notifications import outbox

    # a year of sent reminders, one an hour, as the planner sees them: nearly every row is finished
    pg.execute(text("INSERT INTO notification_outbox (kind, ref, dedupe_key, status, attempts, next_attempt_at, "
                    "created_at) SELECT 'reminder', n, 'plans-' || n, 'sent', 1, :now - n * interval '1 hour', "
                    ":now - n * interval '1 hour' FROM generate_series(1, 9000) AS n"), {"now": NOW})
    pg.execute(text("ANALYZE notification_outbox"))
    connection = pg.connection()
    with recorded(connection) as seen:
        outbox.prune(pg, NOW - dt.timedelta(days=365))
    conditions = [c for s, p in seen for c in _index_conditions(plan_of(connection, s, p))]
    assert any("created_at" in c for c in conditions), conditions


def test_look_up_cancel_and_reschedule_by_code(pg: Session, network: dict[str, Any], keyring: KeyRing) -> None:
    codes, free = network["codes"], network["free"]
    assert _run(pg, lambda: (scheduling.get_by_code(pg, codes[0]),
                             scheduling.reschedule(pg, keyring, codes[1], free[-1].starts_at, NOW),
                             scheduling.cancel(pg, codes[2], NOW))) == []


@pytest.mark.as_owner  # ANALYZE is the tables' owner's
def test_walk_in_queue(pg: Session, network: dict[str, Any], keyring: KeyRing) -> None:
    """A walk-in and an appointment check in, a desk calls and finishes, the lobby display and the board."""
    from safeslot.config import QueueSettings
    from safeslot.scheduling.models import Staff
    from safeslot.scheduling.queue import service as queue
    from safeslot.scheduling.queue import views

    office, settings = network["office"], QueueSettings()
    desk = pg.scalars(text("SELECT id FROM staff WHERE office_id = :o AND display_name = 'Desk E'"),
                      {"o": office.id}).one()
    assert pg.get(Staff, desk) is not None
    # half a year of the office's tickets, 20 a day, with their statistics (as autovacuum keeps them): on a
    # handful of rows, or with statistics left by another test, PostgreSQL may take any index for a ticket's
    # claim by id, as it would not on a network's
    pg.execute(text("INSERT INTO queue_ticket (token, office_id, service_id, day, number, kind, status, "
                    "checked_in_at, queued_at, recalls, transfers) SELECT 'plans-' || n, :o, "
                    "(SELECT min(id) FROM service WHERE office_id = :o), CAST(:now AS date) - 1 - n / 20, n, "
                    "'walk-in', 'done', :now, :now, 0, 0 FROM generate_series(1, 3600) AS n"),
               {"o": office.id, "now": NOW})
    pg.execute(text("ANALYZE queue_ticket"))
    today = scheduling.search_slots(pg, network["slug"], "apply", NOW.date(), NOW.date(), None, NOW)[2]
    visit = scheduling.book(pg, keyring, BookingIn(office=network["slug"], service="apply", name="Test Person Q",
                                                   starts_at=today[-1].starts_at), NOW)

    def day() -> None:
        walk_in = queue.check_in_walk_in(pg, keyring, network["slug"], "card", None, None, NOW, settings)
        queue.check_in_appointment(pg, network["slug"], visit.code, NOW, settings, by_clerk=True)
        views.ticket_status(pg, walk_in, NOW, settings)
        called = queue.call_next(pg, office, desk, "Desk E", NOW + dt.timedelta(minutes=1), settings)
        assert called is not None
        queue.finish(pg, office, called.id, desk, "done", NOW + dt.timedelta(minutes=9))
        views.display(pg, office, NOW + dt.timedelta(minutes=10))
        views.board(pg, office, NOW + dt.timedelta(minutes=10), settings)

    assert _run(pg, day) == []


def test_metrics_database_gauges(pg: Session, network: dict[str, Any]) -> None:
    """What every scrape of /metrics reads, on every app server: the newest checkpoint, the outbox by state."""
    from safeslot.notifications import outbox
    from safeslot.transparency.interfaces import checkpoint_age

    assert _run(pg, lambda: (checkpoint_age(pg, NOW), outbox.backlog(pg, NOW), outbox.oldest_due(pg, NOW))) == []
