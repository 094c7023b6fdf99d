"""Bench: a state's network — 1,200 offices, 10 million appointments, 10 million log entries.

Not a test. Run from the repository root:

    nice -n 10 .venv/bin/python bench/scale.py --load            # build the databases (once; ~an hour)
    flock /work/tools/.bench.lock .venv/bin/python bench/scale.py --reuse   # measure (< 10 min)
    .venv/bin/python bench/scale.py --load --offices 12 --appointments 100000 --log-entries 100000 --prefix x
                                                                   # a small run, to estimate sizes

What it loads, into its own PostgreSQL databases (kept between runs; ``--load`` drops and
rebuilds them, ``--reuse`` only measures):

* ``scale_bench`` the network: ``--offices`` offices shaped as the demo office (three services of 15, 30
  and 45 minutes, six staff speaking en/es/vi (one office in a hundred has a seventh, speaking so), open
  9:00-16:30 Monday to Friday, placed around the bundled ZIP table's towns), a year of start times made
  by the real ``generate_slots`` for one office and copied to the others (same hours, same zone);
  ``--appointments`` appointments spread over that year (46 weeks past, 6 weeks ahead; past ones
  fulfilled, cancelled or no-show, their contact gone as retention leaves them), every person-unit held
  in ``staff_hold`` as a booking holds it, names, accommodations and contacts SEALED AS IN PRODUCTION
  (``KeyRing.seal`` under the visit month's data key, with the keyed blind index
  ``KeyRing.blind_index``: the calls ``plan.plan_booking`` makes), written with COPY by ``--jobs``
  processes; ``--log-entries`` transparency-log entries of the allowed kinds (the report bench's gate
  mix: decisions, releases, accounting, refusals, holds, policy changes) built in bulk by
  ``bench/bulk_log.py`` (not through ``service.append``, which would take hours one entry at a time): the
  log's own pure functions (canonical JSON, leaf hashes, compact ranges) in ``--jobs`` processes, then COPY,
  with a checkpoint signed by the log's ``service.checkpoint`` after each group (it refuses to sign unless
  the stored nodes hash to the root); tests/transparency/test_bulk_log.py proves the rows equal those
  ``service.append`` writes; and
  ``--accounting`` rows of the accounting of disclosures for the log's first accounting entries,
  hash-chained with ``chain.row_hash`` as the flush hook chains them, each naming a loaded person's
  blind index and code.
* ``scale_bench_o1`` and ``scale_bench_o100``: the same, with 1 and 100 offices and the
  appointments, log entries and accounting rows in proportion (the growth stages).

What it measures, in each of the three databases in the same run, each against a baseline
measured in the same run — a plain indexed SELECT of the same rows — for the same office
(``office-0001``, present in all three): slot search, booking (the sync path, rolled back; and the
fast path, PostgreSQL's production path, committed: a few dozen synthetic visits more each run),
the office finder, an accounting look-up, a clerk's day list (access records written, rolled
back), a disclosure subject match, serving a tile (p50 over ``--runs``); a report build and a
log self-check over every entry (one run each, against reading every entry). It prints a
table, the ratios to the one-office database, and the targets met or missed; exit 1 if one
is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from safeslot import chain, migrate
from safeslot.config import AccessSettings
from safeslot.db import build_engine, build_sessionmaker
from safeslot.disclosure import accounting as disclosure_accounting
from safeslot.disclosure import service as disclosure
from safeslot.disclosure.models import RequestSubject
from safeslot.identity.service import Principal
from safeslot.kit.crypto import KeyRing, months_between
from safeslot.privacy import reads
from safeslot.reports import render
from safeslot.reports import service as reports
from safeslot.reports.schemas import Period
from safeslot.scheduling import places
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.fastfront import asyncpg_dsn
from safeslot.scheduling.fastpath import FastBooking
from safeslot.scheduling.rules import CROCKFORD, data_key_month
from safeslot.scheduling.schemas import BookingIn
from safeslot.transparency import selfcheck
from safeslot.transparency import service as log
from safeslot.transparency.note import Signer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bulk_log
from report import synthetic

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
ORIGIN = "bench.example/scale"
ZONE = "America/New_York"
SERVICES = (("apply", "Apply for benefits", 30), ("card", "Replace a card", 15),
            ("interview", "Eligibility interview", 45))
STAFF = (("Desk A", ["en"], ["apply", "card"]), ("Desk B", ["en", "es"], ["apply", "card", "interview"]),
         ("Desk C", ["en", "es"], ["card", "interview"]), ("Desk D", ["en", "vi"], ["apply", "interview"]),
         ("Desk E", ["en"], ["card"]), ("Desk F", ["en", "es", "vi"], ["apply", "interview"]))
RARE, RARE_EVERY = "so", 100  # Somali: office-0001, office-0101, ... (12 of 1,200 offices)
OPENS, CLOSES = dt.time(9, 0), dt.time(16, 30)
PAST_WEEKS, FUTURE_WEEKS = 46, 6
ID_STRIDE = 100_000  # appointment ids of office k: [k * ID_STRIDE, (k + 1) * ID_STRIDE)
PEOPLE_PER_APPOINTMENT = 0.4  # distinct names: a person comes back 2.5 times a year on average
APPOINTMENT_TYPES = ["int4", "varchar", "int4", "int4", "int4", "int4", "int4", "timestamptz", "timestamptz",
                     "varchar", "varchar", "bytea", "varchar", "bytea", "bytea", "bool", "int4", "timestamptz",
                     "timestamptz"]


def db_names(prefix: str, offices: int) -> list[tuple[str, int]]:
    """(database, offices) of each growth stage, smallest first: 1, 100 and all offices."""
    sizes = sorted({1, min(100, offices), offices})
    return [(prefix if n == offices else f"{prefix}_o{n}", n) for n in sizes]


def url_of(db: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}"


def code_of(n: int) -> str:
    """A unique 10-character Crockford code per appointment id (a bijection of the id, so no collisions)."""
    x = (n * 0x9E3779B97F4A7C15 + 0x1234567) % (1 << 50)  # odd multiplier: a permutation of 50 bits
    return "".join(CROCKFORD[(x >> (5 * i)) & 31] for i in range(10))


def person_name(n: int) -> str:
    return f"Test Person {n}"  # never a realistic name (privacy in code)


# ---------------------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------------------


def recreate(db: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')


def exists(db: str) -> bool:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone() is not None


def meta_set(engine: Engine, meta: dict[str, Any]) -> None:
    with engine.begin() as c:
        c.execute(text("CREATE TABLE IF NOT EXISTS bench_meta (k text PRIMARY KEY, v text NOT NULL)"))
        for k, v in meta.items():
            c.execute(text("INSERT INTO bench_meta VALUES (:k, :v) ON CONFLICT (k) DO UPDATE SET v = :v"),
                      {"k": k, "v": json.dumps(v)})


def meta_get(engine: Engine) -> dict[str, Any]:
    with engine.connect() as c:
        return {k: json.loads(v) for k, v in c.execute(text("SELECT k, v FROM bench_meta"))}


def build_offices(engine: Engine, offices: int, first: dt.date, last: dt.date) -> None:
    """The offices through the scheduling service (as the demo makes its one), the first one's year of
    start times by ``generate_slots``, copied to the others with SQL (same hours, same zone)."""
    rows = list(places.table(None).zips.values())
    rng = random.Random(5)
    with Session(engine) as s, s.begin():
        for k in range(offices):
            office = scheduling.add_office(s, f"office-{k + 1:04d}", f"Benefits Office {k + 1}",
                                           f"{k + 1} Example Street", ZONE)
            if rows:
                base = rows[k % len(rows)]
                lat, lon = base.latitude, base.longitude
            else:
                lat, lon = 42.1, -72.6
            scheduling.set_location(s, office, lat + rng.uniform(-1.5, 1.5), lon + rng.uniform(-2.0, 2.0))
            for slug, name, minutes in SERVICES:
                scheduling.add_service(s, office, slug, name, f"{name}.", minutes)
            for name, langs, services in STAFF:
                scheduling.add_staff(s, office, name, langs, services)
            if k % RARE_EVERY == 0:  # one office in a hundred also serves in a rare language (the finder's worst case)
                scheduling.add_staff(s, office, "Desk R", ["en", RARE], ["apply", "interview"])
            for weekday in range(5):
                scheduling.set_hours(s, office, weekday, OPENS, CLOSES)
        one = scheduling.get_office(s, "office-0001")
        scheduling.generate_slots(s, one, first, last)
    psy = engine.url.render_as_string(hide_password=False).replace("postgresql+psycopg://", "postgresql://")
    again = drop_secondary(psy, ("slot_capacity",))
    with engine.begin() as c:
        c.execute(text("SET LOCAL session_replication_role = replica"))  # bulk copy: FK triggers off
        c.execute(text("""
            INSERT INTO slot_capacity (office_id, service_id, starts_at, capacity, booked)
            SELECT o.id, s2.id, sc.starts_at, sc.capacity, 0
            FROM slot_capacity sc JOIN service s1 ON s1.id = sc.service_id
            JOIN office o ON o.slug <> 'office-0001'
            JOIN service s2 ON s2.office_id = o.id AND s2.slug = s1.slug
            WHERE sc.office_id = (SELECT id FROM office WHERE slug = 'office-0001')"""))
        # A staff account for a clerk at office-0001 (the day list needs a signed-in clerk).
        c.execute(text("""
            INSERT INTO staff_account (username, display_name, password_hash, totp_enc, roles, office_id, active,
                                       demo, failed_logins, last_totp_step, created_at)
            SELECT 'bench-clerk', 'Bench Clerk', '-', '\\x00', 'clerk', id, true, false, 0, 0, now()
            FROM office WHERE slug = 'office-0001'"""))
    remake(psy, again)


def _office_job(args: tuple[str, int, int, int, str, float, int, float]) -> tuple[int, int, float]:
    """Generate and COPY one office's appointments and holds; returns (appointments, holds, CPU seconds).
    Past ``until`` (a POSIX time) it loads nothing: a time-boxed load ends with whole offices."""
    url, office_id, k, target, ring_json, now_ts, people, until = args
    if time.time() > until:
        return 0, 0, 0.0
    cpu0 = time.process_time()
    ring = KeyRing.from_json(ring_json)
    now = dt.datetime.fromtimestamp(now_ts, dt.UTC)
    rng = random.Random(office_id)
    with psycopg.connect(url) as conn:
        services = {r[1]: (r[0], r[2]) for r in conn.execute(
            "SELECT id, slug, duration_minutes FROM service WHERE office_id = %s", (office_id,))}
        staff = [(r[0], r[1].split(), r[2].split()) for r in conn.execute(
            "SELECT id, languages, services FROM staff WHERE office_id = %s ORDER BY id", (office_id,))]
        slots: dict[tuple[int, dt.datetime], int] = {
            (r[1], r[2]): r[0] for r in conn.execute(
                "SELECT id, service_id, starts_at FROM slot_capacity WHERE office_id = %s", (office_id,))}
        # Every start of the grid, per local day: walk each person's day and fill it.
        by_day: dict[dt.date, list[dt.datetime]] = {}
        starts = sorted({start for (_sid, start) in slots})
        for start in starts:
            by_day.setdefault(start.date(), []).append(start)
        units_total = len(starts) * len(staff)
        # the chance a free unit starts a visit, so that about `target` visits fill the year
        # (a visit takes 1.92 units on average with these staff): visits = units * q / (1 + 1.92 q)
        f = target / max(1, units_total)
        q = min(0.95, 0.99 * f / max(0.05, 1 - 1.92 * f))
        appts: list[tuple[Any, ...]] = []
        holds: list[tuple[Any, ...]] = []
        next_id = k * ID_STRIDE + 1
        step = dt.timedelta(minutes=15)
        months: dict[dt.datetime, str] = {}
        for day in sorted(by_day):
            grid = by_day[day]
            for staff_id, langs, served in staff:
                i = 0
                while i < len(grid):
                    start = grid[i]
                    if len(appts) >= target or rng.random() >= q:
                        i += 1
                        continue
                    slug = rng.choice(served)
                    service_id, minutes = services[slug]
                    if (service_id, start) not in slots:
                        i += 1
                        continue
                    n_units = minutes // 15  # the grid has this start only if the visit ends by closing time
                    end = start + dt.timedelta(minutes=minutes)
                    appointment_id = next_id
                    next_id += 1
                    month = months.get(start) or months.setdefault(start, data_key_month(start))
                    who = rng.randrange(people)
                    name = person_name(who)
                    lang = rng.choice(langs) if rng.random() < 0.2 else None
                    lang = None if lang == "en" else lang
                    past = end < now
                    if past:
                        roll = rng.random()
                        status = "fulfilled" if roll < 0.85 else ("cancelled" if roll < 0.95 else "noshow")
                    else:
                        status = "booked"
                    accommodation = (ring.seal("wheelchair access", "appointment.accommodation", month)
                                     if rng.random() < 0.05 else None)
                    opted = rng.random() < 0.3
                    contact = (ring.seal(f"email:person{who}@example.test", "appointment.contact", month)
                               if opted and not past else None)
                    created = start - dt.timedelta(days=rng.randint(1, 60))
                    appts.append((appointment_id, code_of(appointment_id), office_id, service_id,
                                  slots[(service_id, start)], staff_id, None, start, end, status, lang,
                                  ring.seal(name, "appointment.name", month), ring.blind_index(name),
                                  accommodation, contact, opted, 0, created, created))
                    if status != "cancelled":  # a cancellation releases its holds
                        for u in range(n_units):
                            holds.append((staff_id, start + step * u, office_id, appointment_id, "serve"))
                    i += n_units
        with conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")  # bulk load: FK and append triggers off
            # binary COPY: no text escaping of the sealed bytes on either side (a third of the job's CPU in text)
            with cur.copy("COPY appointment (id, code, office_id, service_id, slot_id, staff_id, interpreter_id, "
                          "starts_at, ends_at, status, language, name_enc, name_index, accommodation_enc, "
                          "contact_enc, reminders_opt_in, sequence, created_at, updated_at) FROM STDIN "
                          "(FORMAT BINARY)") as cp:
                cp.set_types(APPOINTMENT_TYPES)
                for row in appts:
                    cp.write_row(row)
            with cur.copy("COPY staff_hold (staff_id, starts_at, office_id, appointment_id, role) FROM STDIN "
                          "(FORMAT BINARY)") as cp:
                cp.set_types(["int4", "timestamptz", "int4", "int4", "varchar"])
                for row in holds:
                    cp.write_row(row)
        conn.commit()
    return len(appts), len(holds), time.process_time() - cpu0


def drop_secondary(url: str, tables: tuple[str, ...]) -> list[str]:
    """Drop the secondary indexes and unique constraints of ``tables`` (not the primary keys); return
    the statements that make them again. Bulk loading then sorts each index once instead of
    inserting 10 million random keys one by one into trees larger than the buffer cache."""
    again: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname, "
            "i.indrelid::regclass::text, pg_get_constraintdef(c.oid) FROM pg_index i "
            "LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype = 'u' "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary", (list(tables),)).fetchall()
        for index, indexdef, conname, table, condef in rows:
            if conname:
                conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{conname}"')
                again.append(f'ALTER TABLE {table} ADD CONSTRAINT "{conname}" {condef}')
            else:
                conn.execute(f"DROP INDEX {index}")
                again.append(indexdef)
    return again


def remake(url: str, statements: list[str]) -> None:
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")  # this connection's sorts only
        for sql in statements:
            conn.execute(sql)
    print(f"  {len(statements)} indexes and unique constraints rebuilt in {time.perf_counter() - t0:.0f} s",
          flush=True)


def load_appointments(url: str, engine: Engine, total: int, ring: KeyRing, now: dt.datetime, jobs: int,
                      until: float = float("inf")) -> None:
    """Every office's visits and holds; an office that has visits already is skipped, so an interrupted
    load resumes (``--phase visits``): each office's visits and holds are one transaction. No office is
    started after ``until`` (``--until``): the indexes are rebuilt over the offices loaded by then."""
    with engine.connect() as c:
        offices = [(r[0], r[1]) for r in c.execute(text("SELECT id, slug FROM office ORDER BY id"))]
        loaded = {r[0] for r in c.execute(text("SELECT DISTINCT office_id FROM appointment"))}
    per = total // len(offices)
    extra = total - per * len(offices)
    people = max(1, int(total * PEOPLE_PER_APPOINTMENT))
    psy = url.replace("postgresql+psycopg://", "postgresql://")
    # the indexes to rebuild are kept in the database until rebuilt, so an interrupted load still rebuilds them
    again = meta_get(engine).get("pending_indexes") or []
    meta_set(engine, {"pending_indexes": again})
    again += drop_secondary(psy, ("appointment", "staff_hold"))
    meta_set(engine, {"pending_indexes": again})
    work = [(psy, oid, k, per + (1 if k < extra else 0), ring.to_json(), now.timestamp(), people, until)
            for k, (oid, _slug) in enumerate(offices) if oid not in loaded]
    t0 = time.perf_counter()
    n_appts = n_holds = 0
    cpu = 0.0
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for done, (a, h, c_s) in enumerate(pool.imap_unordered(_office_job, work), 1):
            n_appts += a
            n_holds += h
            cpu += c_s
            if done % 50 == 0 or done == len(work):
                el = time.perf_counter() - t0
                print(f"  appointments: {done}/{len(work)} offices, {n_appts:,} visits, {n_holds:,} holds, "
                      f"{el:.0f} s ({n_appts / el:,.0f}/s)", flush=True)
    remake(psy, again)
    meta_set(engine, {"pending_indexes": []})
    with engine.begin() as c:
        c.execute(text("SELECT setval(pg_get_serial_sequence('appointment', 'id'), (SELECT max(id) FROM appointment))"))
    print(f"  appointments loaded: {n_appts:,} sealed visits and {n_holds:,} holds in "
          f"{time.perf_counter() - t0:.0f} s (generation, sealing and COPY CPU in the workers: {cpu:.1f} s, "
          f"{cpu / max(1, n_appts) * 1e6:.0f} µs a visit)", flush=True)


def accounting_people(ring: KeyRing, accounting: int, appointments: int) -> list[tuple[int, str]]:
    """(number, blind index) of the people the log's accounting entries name, in turn: about two
    disclosures per person, chosen the same way every time (so the log and the rows agree)."""
    population = max(1, int(appointments * PEOPLE_PER_APPOINTMENT))
    numbers = random.Random(17).sample(range(population), min(population, max(1, accounting // 2)))
    return [(n, ring.blind_index(person_name(n))) for n in numbers]


def _salt(ordinal: int) -> bytes:
    return hashlib.sha256(f"salt{ordinal}".encode()).digest()


_PEOPLE: list[tuple[int, str]] = []  # the accounting entries' people, set before the log's workers fork


def _log_chunk(spec: tuple[int, int, int, float, float, float]) -> bulk_log.Chunk:
    """One chunk of the log (a worker process): the report bench's mix, each accounting entry committing
    to a loaded person chosen by its log index (so `finish_log` finds the same person and salt)."""
    seed, first, n, start_ts, step_s, now_ts = spec
    start = dt.datetime.fromtimestamp(start_ts + step_s * first, dt.UTC)
    entries = list(synthetic(n, start, dt.timedelta(seconds=step_s * n), seed=seed, first_request=first))
    for i, e in enumerate(entries, first):
        if e["event"] == "disclosure.accounting":
            # SHA-256(salt || person id || request id), as the release writes it (person id: the blind index)
            e["commitment"] = log.commitment(_salt(i), _PEOPLE[i % len(_PEOPLE)][1], str(e["request_id"]))
    return bulk_log.build_chunk(first, entries, dt.datetime.fromtimestamp(now_ts, dt.UTC))


def append_log(url: str, entries: int, accounting: int, appointments: int, ring_json: str, signer_key: str,
               jobs: int, group: int = 1 << 20, until: float = float("inf")) -> None:
    """The log built in bulk by the log's own pure functions (bench/bulk_log.py: canonical JSON, leaf hashes,
    the aligned subtrees of each chunk in ``jobs`` worker processes, COPY), a signed checkpoint (the log's
    `service.checkpoint`) after every ``group`` entries, each group one transaction. ``entries`` is the
    log's size wanted (a resumed load appends what is missing); no group is started after ``until``."""
    t0 = time.perf_counter()
    engine = build_engine(url)
    maker = build_sessionmaker(engine)
    signer = Signer.parse(signer_key)
    _PEOPLE[:] = accounting_people(KeyRing.from_json(ring_json), accounting, appointments)
    now = dt.datetime.now(dt.UTC)
    start, step = (now - dt.timedelta(days=365)).timestamp(), dt.timedelta(days=364).total_seconds() / entries
    with maker() as s:
        base = bulk_log.head(s)[0]
    entries -= base
    if entries <= 0:
        return
    size = 1 << bulk_log.LEVEL
    specs: list[tuple[int, int, int, float, float, float]] = []
    pos = base
    while pos < base + entries:
        end = min(base + entries, (pos // size + 1) * size)  # chunks on multiples of 2**LEVEL
        specs.append((len(specs), pos, end - pos, start - step * base, step, now.timestamp()))
        pos = end
    done = since = 0
    session: Session | None = None
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for k, chunk in enumerate(pool.imap(_log_chunk, specs)):
            if session is None:
                session = maker()
                session.begin()
            bulk_log.write(session, [chunk], now)
            done += len(chunk.leaves)
            since += len(chunk.leaves)
            if since >= group or k == len(specs) - 1:
                since = 0
                cp = log.checkpoint(session, signer, now, origin=ORIGIN)
                session.commit()
                session.close()
                session = None
                el = time.perf_counter() - t0
                print(f"  log: {done:,} entries, checkpoint at {cp.size:,}, {el:.0f} s ({done / el:,.0f}/s)",
                      flush=True)
                if time.time() > until:
                    print(f"  log: stopped at {cp.size:,} entries (--until)", flush=True)
                    break
    print(f"  log: {done:,} entries in {time.perf_counter() - t0:.0f} s", flush=True)
    with engine.begin() as c:  # never analyzed, a 256-entry tile is planned as a parallel scan of 155k rows
        c.execute(text("ANALYZE log_entry"))
        c.execute(text("ANALYZE log_node"))
    engine.dispose()


def finish_log(url: str, accounting: int, appointments: int, ring_json: str, signer_key: str) -> None:
    """The accounting rows of the log's first accounting entries whose person has a visit, then a checkpoint."""
    t0 = time.perf_counter()
    engine = build_engine(url)
    ring = KeyRing.from_json(ring_json)
    people = accounting_people(ring, accounting, appointments)
    by_index = {ni: n for n, ni in people}
    codes: dict[str, str] = {}
    keys = list(by_index)
    with engine.connect() as c:
        for i in range(0, len(keys), 5_000):
            chunk = {"ni": keys[i:i + 5_000]}
            for ni, code in c.execute(text("SELECT name_index, min(code) FROM appointment "
                                           "WHERE name_index = ANY(:ni) GROUP BY name_index"), chunk):
                codes[ni] = code
    acc_rows: list[dict[str, Any]] = []
    if accounting:
        with engine.connect().execution_options(stream_results=True, yield_per=20_000) as c:
            for idx, data in c.execute(text("SELECT idx, data FROM log_entry ORDER BY idx")):
                if b'"disclosure.accounting"' not in bytes(data):
                    continue
                entry = json.loads(bytes(data))
                person = people[idx % len(people)][1]  # as `_log_chunk` chose them, by log index
                if person in codes:
                    acc_rows.append({"log_index": idx, "entry": entry, "salt": _salt(idx).hex(),
                                     "person": person})
                if len(acc_rows) >= accounting:
                    break
    meta_set(engine, {"accounting_people": [by_index[r["person"]] for r in acc_rows[-50:]]})
    _write_accounting(engine, acc_rows, codes, ring)
    with build_sessionmaker(engine)() as s, s.begin():
        cp = log.checkpoint(s, Signer.parse(signer_key), dt.datetime.now(dt.UTC), origin=ORIGIN)
    print(f"  log: checkpoint at {cp.size:,}; accounting and checkpoint {time.perf_counter() - t0:.0f} s",
          flush=True)
    engine.dispose()


def _write_accounting(engine: Engine, acc_rows: list[dict[str, Any]], codes: dict[str, str], ring: KeyRing) -> None:
    """Accounting rows as the release writes them, chained with `chain.row_hash` in one sequence, by COPY."""
    if not acc_rows:
        return
    t0 = time.perf_counter()
    recipients = ["Agency A", "Agency B", "Agency C"]
    prev, seq = chain.GENESIS, 0
    psy = str(engine.url.set(drivername="postgresql")).replace("***", "")
    with psycopg.connect(psy) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # the requests are only in the log (bench)
        with cur.copy("COPY disclosure_accounting (id, request_id, name_index, disclosed_at, recipient, "
                      "recipient_address, purpose, nature, categories, withheld_b7, deferred_until, keep_until, "
                      "salt, commitment, log_index, chain_seq, chain_prev, chain_hash) FROM STDIN") as cp:
            for n, r in enumerate(acc_rows, 1):
                e = r["entry"]
                when = dt.datetime.fromisoformat(e["time"].replace("Z", "+00:00"))
                row = {"request_id": int(e["request_id"]), "name_index": r["person"], "disclosed_at": when,
                       "recipient": recipients[n % 3], "recipient_address": None, "purpose": "criminal",
                       "nature": "court_order", "categories": ["identity", "appointment_schedule"],
                       "withheld_b7": n % 10 == 0, "deferred_until": None,
                       "keep_until": when + dt.timedelta(days=5 * 366), "salt": r["salt"],
                       "commitment": e["commitment"], "log_index": r["log_index"]}
                seq += 1
                h = chain.row_hash("disclosure_accounting", seq, prev, row)
                cp.write_row((n, row["request_id"], row["name_index"], when, row["recipient"], None,
                              row["purpose"], row["nature"], json.dumps(row["categories"]), row["withheld_b7"],
                              None, row["keep_until"], row["salt"], row["commitment"], row["log_index"],
                              seq, prev, h))
                prev = h
        with cur.copy("COPY disclosure_accounting_code (entry_id, code) FROM STDIN") as cp:
            for n, r in enumerate(acc_rows, 1):
                cp.write_row((n, codes[r["person"]]))
        cur.execute("SELECT setval(pg_get_serial_sequence('disclosure_accounting', 'id'), %s)", (len(acc_rows),))
        conn.commit()
    print(f"  accounting: {len(acc_rows):,} chained rows in {time.perf_counter() - t0:.0f} s", flush=True)


def load(db: str, offices: int, appointments: int, entries: int, accounting: int, jobs: int) -> None:
    t0 = time.perf_counter()
    print(f"{db}: {offices:,} offices, {appointments:,} appointments, {entries:,} log entries", flush=True)
    recreate(db)
    url = url_of(db)
    engine = build_engine(url)
    migrate.upgrade(engine)
    today = dt.datetime.now(dt.UTC).date()
    monday = today - dt.timedelta(days=today.weekday())
    first, last = monday - dt.timedelta(weeks=PAST_WEEKS), monday + dt.timedelta(weeks=FUTURE_WEEKS, days=-1)
    now = dt.datetime.combine(today, dt.time(), dt.UTC)
    span = (dt.datetime.combine(first, dt.time(), dt.UTC), dt.datetime.combine(last, dt.time(), dt.UTC))
    ring = KeyRing.generate().with_month_keys(months_between(*span))
    signer = Signer.generate(ORIGIN)
    meta_set(engine, {"ring": ring.to_json(), "signer": signer.to_skey(), "first": first.isoformat(),
                      "last": last.isoformat(), "loaded_at": now.isoformat(), "offices": offices,
                      "appointments": appointments, "entries": entries, "accounting": accounting})
    build_offices(engine, offices, first, last)
    print(f"  offices and a year of start times: {time.perf_counter() - t0:.0f} s", flush=True)
    load_appointments(url, engine, appointments, ring, now, jobs)
    with engine.begin() as c:
        c.execute(text("ANALYZE"))
    append_log(url, entries, accounting, appointments, ring.to_json(), signer.to_skey(), jobs)
    finish_log(url, accounting, appointments, ring.to_json(), signer.to_skey())
    with engine.begin() as c:
        c.execute(text("ANALYZE"))
        size = c.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar_one()
    engine.dispose()
    print(f"{db}: loaded in {time.perf_counter() - t0:.0f} s, {size} on disk", flush=True)


# ---------------------------------------------------------------------------------------------------
# measuring
# ---------------------------------------------------------------------------------------------------


def p50_ms(fn: Callable[[], object], runs: int) -> float:
    for _ in range(3):
        fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - t) / 1e6)
    return statistics.median(out)


def once_s(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


class Rolled:
    """A session whose every call runs in a transaction that is rolled back (writes measured, not kept)."""

    def __init__(self, engine: Engine) -> None:
        self.s = Session(engine, expire_on_commit=False)

    def run(self, fn: Callable[[Session], object]) -> Callable[[], object]:
        def go() -> object:
            try:
                return fn(self.s)
            finally:
                self.s.rollback()
        return go


def measure_heavy(engine: Engine, signer: Signer, now: dt.datetime) -> dict[str, tuple[float, float]]:
    """The report build and the log self-check over every entry (one run each), in seconds."""
    out: dict[str, tuple[float, float]] = {}

    # the baseline of both: read every entry's bytes and leaf hash, in index order, once
    def read_all() -> None:
        with engine.connect().execution_options(stream_results=True, yield_per=20_000) as c:
            for _ in c.execute(text("SELECT data, leaf_hash FROM log_entry ORDER BY idx")):
                pass

    read_s = once_s(read_all)
    print(f"  read every entry once: {read_s:.1f} s", flush=True)
    period = Period.parse(str(now.year))

    def build_report() -> None:
        with Session(engine) as x, x.begin():
            report = reports.compute_from_log(reports.LocalLog(x), signer.verifier(), ORIGIN, period)
        signature = reports.sign(report, signer)
        render.to_json(report, signature)
        render.to_csv(report)
        render.to_html(report, signature, sha=render.sha256(report))

    out["report build (s)"] = (once_s(build_report), read_s)
    print(f"  report build: {out['report build (s)'][0]:.1f} s", flush=True)

    def check() -> None:
        with Session(engine) as x:
            run_ = selfcheck.self_verify(x, signer.verifier(), ORIGIN, now, method="cli")
            assert run_.ok, run_.detail
            x.rollback()

    out["log self-check (s)"] = (once_s(check), read_s)
    print(f"  log self-check: {out['log self-check (s)'][0]:.1f} s", flush=True)
    return out


def fast_booking_p50(engine: Engine, ring: KeyRing, now: dt.datetime, starts: list[dt.datetime], runs: int) -> float:
    """p50 ms of one booking at a time through the fast path (``FastBooking.book``: look-ups, plan, a writer's
    batch, the commit), as ``POST /api/v1/appointments`` runs it on PostgreSQL; a full start's refusal counts too."""
    rng = random.Random(5)

    async def go() -> list[float]:
        fast = FastBooking(asyncpg_dsn(engine), lambda: now, ring)
        await fast.start()
        times: list[float] = []
        try:
            for i in range(3 + runs):
                body = BookingIn(office="office-0001", service="apply", starts_at=rng.choice(starts),
                                 name=person_name(rng.randrange(10**6))).model_dump_json().encode()
                t = time.perf_counter_ns()
                answer = await fast.book(body, None)
                elapsed = (time.perf_counter_ns() - t) / 1e6
                assert answer is not None and answer[0] in (201, 409), f"the fast path answered {answer!r:.200}"
                if i >= 3:
                    times.append(elapsed)
        finally:
            await fast.stop()
        return times

    return statistics.median(asyncio.run(go()))


def measure(db: str, runs: int, heavy: bool, light: bool = True) -> dict[str, tuple[float, float]]:
    """{operation: (figure, baseline)} in ms (p50), or seconds for the report and the self-check."""
    engine = build_engine(url_of(db))
    meta = meta_get(engine)
    ring = KeyRing.from_json(meta["ring"])
    signer = Signer.parse(meta["signer"])
    now = dt.datetime.fromisoformat(meta["loaded_at"])
    if not light:  # the log's tables only: no migration needed (one may wait for a load's index rebuild)
        heavy_only = measure_heavy(engine, signer, now)
        engine.dispose()
        return heavy_only
    migrate.upgrade(engine)  # indexes added since the load (a no-op otherwise)
    monday = now.date() - dt.timedelta(days=now.date().weekday())
    week = monday + dt.timedelta(weeks=2)
    r = Rolled(engine)
    s = r.s
    out: dict[str, tuple[float, float]] = {}
    office = scheduling.get_office(s, "office-0001")
    svc = scheduling.get_service(s, office, "apply")
    lo = dt.datetime.combine(week, dt.time(), dt.UTC)
    hi = lo + dt.timedelta(days=7)
    s.rollback()

    def base(sql: str, **params: Any) -> Callable[[], object]:
        return r.run(lambda x: x.execute(text(sql), params).all())

    # slot search: a week of 'apply' at office-0001; baseline: the week's grid rows and holds
    search = r.run(lambda x: scheduling.search_slots(x, "office-0001", "apply", week, week + dt.timedelta(days=6),
                                                      None, now))
    free = scheduling.search_slots(s, "office-0001", "apply", week, week + dt.timedelta(days=6), None, now)[2]
    s.rollback()
    grid_and_holds = ("SELECT id, starts_at, capacity FROM slot_capacity WHERE service_id = :sid AND starts_at >= :lo "
                      "AND starts_at < :hi UNION ALL SELECT staff_id, starts_at, 0 FROM staff_hold "
                      "WHERE office_id = :oid AND starts_at >= :lo AND starts_at < :hi")
    out["slot search (1 week)"] = (p50_ms(search, runs),
                                   p50_ms(base(grid_and_holds, sid=svc.id, oid=office.id, lo=lo, hi=hi), runs))

    # booking: the sync path's whole transaction (plan, locks, checks, insert, holds), rolled back
    rng = random.Random(3)
    starts = [f.starts_at for f in free] or [lo]

    def book(x: Session) -> object:
        data = BookingIn(office="office-0001", service="apply", starts_at=rng.choice(starts),
                         name=person_name(rng.randrange(10**6)))
        return scheduling.book(x, ring, data, now)

    slot_and_holds = ("SELECT id, capacity FROM slot_capacity WHERE service_id = :sid AND starts_at = :at "
                      "UNION ALL SELECT staff_id, 0 FROM staff_hold WHERE office_id = :oid AND starts_at >= :at "
                      "AND starts_at < :end")
    at = starts[0]
    out["booking (sync path)"] = (p50_ms(r.run(book), runs),
                                  p50_ms(base(slot_and_holds, sid=svc.id, oid=office.id, at=at,
                                              end=at + dt.timedelta(minutes=30)), runs))

    # booking on PostgreSQL's production path: the fast path's writers (committed, not rolled back: the writers
    # own their transactions; 3 + runs visits of a synthetic person are added to office-0001 each run)
    out["booking (fast path)"] = (fast_booking_p50(engine, ring, now, starts, runs), out["booking (sync path)"][1])

    # the office finder: five nearest to a ZIP, with a Vietnamese interpreter; baseline: the located offices
    zip_code = sorted(places.table(None).zips)[0]
    out["office finder (ZIP, vi)"] = (
        p50_ms(r.run(lambda x: scheduling.nearest_offices(x, zip_code, "vi", now)), max(5, runs // 5)),
        p50_ms(base("SELECT id, latitude, longitude FROM office WHERE latitude IS NOT NULL"), runs))

    # the same with a language one office in a hundred offers: the finder looks past the nearest offices
    out[f"office finder (ZIP, {RARE})"] = (
        p50_ms(r.run(lambda x: scheduling.nearest_offices(x, zip_code, RARE, now)), max(5, runs // 5)),
        out["office finder (ZIP, vi)"][1])

    # accounting look-up: a person's accounting by code + name (name -> blind index, then the indexed join)
    with engine.connect() as c:
        row = None
        for n in meta.get("accounting_people", []):
            row = c.execute(text("SELECT k.code FROM disclosure_accounting a JOIN disclosure_accounting_code k "
                                 "ON k.entry_id = a.id WHERE a.name_index = :ni AND NOT a.withheld_b7 LIMIT 1"),
                            {"ni": ring.blind_index(person_name(n))}).first()
            if row is not None:
                name, code = person_name(n), row[0]
                break
    if row is not None:
        found = disclosure_accounting.lookup(s, ring, code, name, now)
        s.rollback()
        assert found.entries, "the bench person has no visible accounting entry: the load is wrong"
        out["accounting look-up"] = (
            p50_ms(r.run(lambda x: disclosure_accounting.lookup(x, ring, code, name, now)), runs),
            p50_ms(base("SELECT * FROM disclosure_accounting WHERE name_index = :ni",
                        ni=ring.blind_index(name)), runs))

    # a clerk's day list: office-0001's day, each person read written to the access log (rolled back)
    with engine.connect() as c:
        clerk_id = c.execute(text("SELECT id FROM staff_account WHERE username = 'bench-clerk'")).scalar_one()
    clerk = Principal(kind="staff", id=clerk_id, name="Bench Clerk", roles=frozenset({"clerk"}),
                      office_id=office.id, credential_id=0, credential_kind="session", secret_hash="",
                      office_ids=frozenset({office.id}))
    limits = AccessSettings()
    day = now.date() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    day_lo = dt.datetime.combine(day, dt.time(), scheduling.zone(ZONE))
    out["clerk's day list"] = (
        p50_ms(r.run(lambda x: reads.office_day(x, ring, clerk, "office-0001", day, now, limits)), runs),
        p50_ms(base("SELECT * FROM appointment WHERE office_id = :oid AND starts_at >= :lo AND starts_at < :hi",
                    oid=office.id, lo=day_lo, hi=day_lo + dt.timedelta(days=1)), runs))

    # a disclosure subject match: 10 named people, no office or dates (the widest match)
    with engine.connect() as c:
        sample = [r_[0] for r_ in c.execute(text(
            "SELECT name_index FROM appointment WHERE office_id = :oid ORDER BY id LIMIT 10"), {"oid": office.id})]

    def match(x: Session) -> object:
        subjects = [RequestSubject(name_index=ni, office_slug=None, date_from=None, date_to=None) for ni in sample]
        disclosure.match_subjects(x, ring, subjects)
        return subjects

    out["subject match (10 names)"] = (
        p50_ms(r.run(match), runs),
        p50_ms(base("SELECT * FROM appointment WHERE name_index = ANY(:ni)", ni=sample), runs))

    # serving a tile: level 0 and level 1, random full tiles
    size = log.published_size(s)
    s.rollback()
    trng = random.Random(9)
    n0, n1 = max(1, size // 256), max(1, size // 65536)

    def tile(x: Session) -> object:
        if n1 > 1 and trng.random() < 0.5:
            return log.tile(x, 1, trng.randrange(n1 - 1), 256)
        return log.tile(x, 0, trng.randrange(n0 - 1) if n0 > 1 else 0, 256 if size >= 256 else size)

    tile_base = "SELECT leaf_hash FROM log_entry WHERE idx >= :a AND idx < :b ORDER BY idx"
    mid = (n0 // 2) * 256
    out["tile"] = (p50_ms(r.run(tile), runs), p50_ms(base(tile_base, a=mid, b=mid + 256), runs))

    if heavy:
        out.update(measure_heavy(engine, signer, now))
    s.close()
    engine.dispose()
    return out


def report(results: dict[str, dict[str, tuple[float, float]]], stages: list[tuple[str, int]]) -> int:
    print(f"\nload average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")
    ops = list(next(iter(results.values())))
    head = "operation".ljust(26) + "".join(f"{n:>7,} offices: figure (x baseline)".rjust(38) for _, n in stages)
    print(head)
    for op in ops:
        line = op.ljust(26)
        for db, _ in stages:
            if op in results[db]:
                v, b = results[db][op]
                unit = "s" if op.endswith("(s)") else "ms"
                line += f"{v:12.2f} {unit} (baseline {b:8.2f}, {v / b if b else 0:5.1f}x)".rjust(38)
        print(line)
    first, last = stages[0][0], stages[-1][0]
    print(f"\ngrowth from {stages[0][1]:,} to {stages[-1][1]:,} offices (same office, same operation): the figure, "
          "and the figure's ratio to its same-run baseline (steadier on a busy machine)")
    for op in ops:
        if op in results[first] and op in results[last]:
            (v1, b1), (vn, bn) = results[first][op], results[last][op]
            print(f"  {op:26} {vn / v1:6.2f}x   ratio to baseline {vn / bn / (v1 / b1) if b1 and bn else 0:6.2f}x")
    ok = True
    net = results[last]
    checks = [(f"{op} within 2x of one office", net[op][0] <= 2 * results[first][op][0])
              for op in ("slot search (1 week)", "booking (sync path)", "booking (fast path)")
              if op in net and op in results[first]]
    if "accounting look-up" in net:
        checks.append(("accounting look-up p50 < 10 ms", net["accounting look-up"][0] < 10))
    if "report build (s)" in net:
        checks.append(("report build < 300 s", net["report build (s)"][0] < 300))
    for what, met in checks:
        print(f"  {'met' if met else 'MISSED':6} {what}")
        ok = ok and met
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--load", action="store_true", help="drop and rebuild the databases, then measure")
    ap.add_argument("--reuse", action="store_true", help="measure the databases an earlier --load built")
    ap.add_argument("--prefix", default="scale_bench", help="database name (the stages add _o1 and _o100)")
    ap.add_argument("--offices", type=int, default=1_200)
    ap.add_argument("--appointments", type=int, default=10_000_000)
    ap.add_argument("--log-entries", type=int, default=10_000_000)
    ap.add_argument("--accounting", type=int, default=200_000, help="accounting rows in the network database")
    ap.add_argument("--jobs", type=int, default=2, help="processes generating appointments")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--only", default=None, help="load or measure only these databases (stages, comma separated)")
    ap.add_argument("--phase", choices=("all", "visits", "log", "finish"), default="all",
                    help="with --load --only DB: 'visits' loads the visits of offices that have none (resumes an "
                         "interrupted load), 'log' appends the log entries, 'finish' writes the accounting rows, "
                         "signs a checkpoint and analyzes (so the log can load beside the visits)")
    ap.add_argument("--until", default=None, metavar="HH:MM",
                    help="with --phase visits or log: start no office or log group after this UTC time (a "
                         "time-boxed load on a busy machine; what is loaded stays consistent and indexed)")
    ap.add_argument("--load-only", action="store_true", help="with --load: build, do not measure")
    ap.add_argument("--no-heavy", action="store_true", help="skip the report build and the self-check")
    ap.add_argument("--heavy-only", action="store_true", help="only the report build and the self-check")
    args = ap.parse_args()
    if not (args.load or args.reuse):
        ap.error("say --load (build, then measure) or --reuse (measure what is there)")
    stages = db_names(args.prefix, args.offices)
    if args.only:
        stages = [st for st in stages if st[0] in args.only.split(",")]
    until = float("inf")
    if args.until:  # HH:MM UTC today
        hh, mm = (int(x) for x in args.until.split(":"))
        until = dt.datetime.now(dt.UTC).replace(hour=hh, minute=mm, second=0, microsecond=0).timestamp()
    if args.load and args.phase != "all":
        for db, n in stages:
            share = n / args.offices
            engine = build_engine(url_of(db))
            meta = meta_get(engine)
            if args.phase == "visits":
                load_appointments(url_of(db), engine, meta["appointments"], KeyRing.from_json(meta["ring"]),
                                  dt.datetime.fromisoformat(meta["loaded_at"]), args.jobs, until)
            elif args.phase == "log":
                append_log(url_of(db), int(args.log_entries * share), meta["accounting"], meta["appointments"],
                           meta["ring"], meta["signer"], args.jobs, until=until)
                meta_set(engine, {"entries": int(args.log_entries * share)})
            else:
                finish_log(url_of(db), meta["accounting"], meta["appointments"], meta["ring"], meta["signer"])
                with engine.begin() as c:
                    c.execute(text("ANALYZE"))
            engine.dispose()
        return 0
    if args.load:
        for db, n in stages:
            share = n / args.offices
            t0 = time.perf_counter()
            load(db, n, int(args.appointments * share), int(args.log_entries * share),
                 int(args.accounting * share), args.jobs)
            print(f"load time {db}: {time.perf_counter() - t0:.0f} s\n", flush=True)
        if args.load_only:
            return 0
    missing = [db for db, _ in stages if not exists(db)]
    if missing:
        print(f"not loaded: {', '.join(missing)}; run with --load first", file=sys.stderr)
        return 2
    results: dict[str, dict[str, tuple[float, float]]] = {}
    t0 = time.perf_counter()
    for db, n in stages:
        results[db] = measure(db, args.runs, not args.no_heavy, light=not args.heavy_only)
        print(f"measured {db} ({n:,} offices) in {time.perf_counter() - t0:.0f} s", flush=True)
    return report(results, stages)


if __name__ == "__main__":
    raise SystemExit(main())
