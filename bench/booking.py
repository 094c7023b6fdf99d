"""Bench: bookings per second over HTTP on PostgreSQL, against pgbench doing the same transaction.

Run from the repository root (PostgreSQL on 127.0.0.1:5432, user postgres, trust; `wrk` and `pgbench` installed):

    .venv/bin/python bench/booking.py [--clients 32] [--seconds 10] [--seal-cost]

It creates a throwaway database ``safeslot_bench`` with one office per run (so
every run starts from the same state): 40 staff who all serve a 15-minute
service, open 06:00-22:00 UTC every day, ~100 days of starts. A booking is what
the app does: take the office hour's advisory lock, then ``fastsql.BOOK_SQL`` —
find the first free qualified person, claim the Idempotency-Key, insert the
appointment and the person's hold — and COMMIT.

Runs, all in the same invocation:
- pgbench, the same transaction one per commit (32 clients);
- pgbench, the same statements batched as the app batches (8 bookings, their
  locks taken in key order, one COMMIT), reported in bookings/s;
- HTTP (wrk, 32 connections, every request its own Idempotency-Key) against
  uvicorn with ``--workers 1`` and ``--workers 2``;
- full-slot mode: 90 % of requests on starts where every person is taken; pgbench
  runs the failing transaction (the same statement on a full start), and HTTP
  with ``--workers 1`` and ``2``.
Targets: HTTP >= 0.5 of batched pgbench, p99 < 50 ms; full-slot answers >= 0.5 of
pgbench's failing transaction, p99 < 50 ms; 0 deadlocks (pg_stat_database of
this database); 0 overbooked people (no one in two overlapping visits). Exits 1
when an invariant breaks or a request gets anything but 201 or 409.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.orm import Session

from safeslot import migrate
from safeslot.db import build_engine
from safeslot.scheduling import fastpath, fastsql, service
from safeslot.scheduling.rules import lock_keys

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DB = "safeslot_bench"  # --database changes it (a shared server: name it after yourself)
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB}"
PG = URL.replace("+psycopg", "")
SERVER_LOGS = ("/var/log/postgresql/postgresql-*-main.log",)  # where Debian's PostgreSQL logs (stderr)
STAFF = 40
STARTS_PER_DAY = 64  # 06:00 … 21:45, every 15 minutes
DAYS = 100
FULL_STARTS = 16  # the full-slot mode's taken starts
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
RUNS = ("pg1", "pg8", "http1", "http2", "pgfail", "full1", "full2", "plain1")

LUA = """
local starts = {%(starts)s}
local full = {%(full)s}
local threads = {}
local created = 0
function setup(thread)
  created = created + 1
  thread:set("tid", created)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(tid * 7919 + %(seed)d)
  counter = 0
  made = 0
  refused = 0
  other = 0
end
function request()
  counter = counter + 1
  local at
  if #full > 0 and math.random() < 0.9 then at = full[math.random(#full)] else at = starts[math.random(#starts)] end
  local body = '{"office":"%(office)s","service":"visit","starts_at":"' .. at .. '","name":"Test Person A"}'
  return wrk.format("POST", "/api/v1/appointments",
    {["Content-Type"] = "application/json", ["Idempotency-Key"] = "%(run)s-" .. tid .. "-" .. counter}, body)
end
function response(status, headers, body)
  if status == 201 then made = made + 1 elseif status == 409 then refused = refused + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local m, r, o = 0, 0, 0
  for _, t in ipairs(threads) do m = m + t:get("made"); r = r + t:get("refused"); o = o + t:get("other") end
  local e = summary.errors
  io.write(string.format('RESULT {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p99_us":%%d,"made":%%d,' ..
    '"refused":%%d,"other":%%d,"socket_errors":%%d}\\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), m, r, o, e.connect + e.read + e.write + e.timeout))
end
"""


def _book_sql(start: str, end: str, units: str, key: str, probe: bool = False) -> str:
    """fastsql.BOOK_SQL with pgbench's per-transaction values in place of the app's parameters (``probe``: as
    the app refuses a start it just found full, booking no one, under the hour's lock shared)."""
    values = {
        "$27::boolean": "true" if probe else "false",
        "$1::text": key, "$10::text": "md5(random()::text)",
        "$11::text": "'%(answer)s'", "$12::timestamptz": "now()",
        "$13::text": "upper(substr(md5(random()::text), 1, 10))",
        "$14::text": "NULL::text", "$15::bytea": "'\\x%(sealed)s'::bytea",
        "$16::text": "(md5(random()::text) || md5(random()::text))", "$17::bytea": "NULL::bytea",
        "$18::bytea": "NULL::bytea", "$19::boolean": "false", "$20::text": "'visit'",
        "$21::timestamptz[]": units, "$6::text::int[]": "'%(servers)s'::int[]",
        "$7::text::bool[]": "'%(speaks)s'::bool[]",
        "$8::text": "NULL::text", "$9::text::int[]": "'{}'::int[]", "$26::text::bigint[]": "'{}'::bigint[]",
        # the working-hours check (fastsql.ON_DUTY): the visit's local day, weekday and times
        "$22::date": f"({start})::date", "$23::int": f"(extract(isodow from {start})::int - 1)",
        "$24::time": f"({start})::time", "$25::time": f"({end})::time",
    }
    sql = fastsql.BOOK_SQL
    for placeholder, value in values.items():
        sql = sql.replace(placeholder, value)
    for placeholder, value in (("$1", "NULL"), ("$2", "%(office)d"), ("$3", "%(service)d"), ("$4", start), ("$5", end)):
        sql = re.sub(re.escape(placeholder) + r"\b", value, sql)
    if re.search(r"\$\d", sql):  # BOOK_SQL changed: pgbench must run the very statement the app runs
        raise SystemExit(f"bench/booking.py: a parameter of BOOK_SQL is not replaced: {sql}")
    return " ".join(sql.split()) + ";"


def _start(n: int) -> tuple[str, str, str, str]:
    """start, end, units and Idempotency-Key of the transaction's n-th booking, from pgbench variables."""
    return (f"to_timestamp(:t{n})", f"to_timestamp(:t{n} + 900)", f"ARRAY[to_timestamp(:t{n})]",
            f"('pg-' || :client_id || '-' || :r{n})")


def pgbench_script(batch: int, fail: bool, facts: dict[str, object]) -> str:
    lines = []
    for n in range(batch):
        if fail:
            lines.append(f"\\set f{n} random(0, {FULL_STARTS - 1})")
            lines.append(f"\\set t{n} {facts['t0']} + :f{n} * 900")
            lines.append(f"\\set k{n} {facts['k0']} + :t{n} / 3600")
        else:
            lines.append(f"\\set d{n} random(1, {DAYS - 1})")
            lines.append(f"\\set q{n} random(0, {STARTS_PER_DAY - 1})")
            lines.append(f"\\set t{n} {facts['t0']} + :d{n} * 86400 + :q{n} * 900")
            lines.append(f"\\set k{n} {facts['k0']} + :t{n} / 3600")
        lines.append(f"\\set r{n} random(1, 9000000000000000000)")
    keys = ", ".join(f":k{n}" for n in range(batch))
    # the office's staff lock (shared; its key, hour 0, sorts first) and the hour locks, ascending, as the app
    # (the failing transaction: the app's probe of a start it just found full takes the hour's lock shared too)
    hour_lock = "pg_advisory_xact_lock_shared" if fail else "pg_advisory_xact_lock"
    lock = ("SELECT count(CASE WHEN k & 1048575 = 0 THEN pg_advisory_xact_lock_shared(k) "
            f"ELSE {hour_lock}(k) END) FROM (SELECT DISTINCT k FROM unnest(ARRAY["
            f"{facts['k0']}, {keys}]::bigint[]) AS k ORDER BY k) AS s;")
    if batch > 1:
        # the app's batch: one pipeline and one Sync, no BEGIN or COMMIT (one implicit transaction, committed
        # at the Sync): the locks, then the bookings (asyncpg fetchmany). So does pgbench.
        lines += ["\\startpipeline", lock]
        for n in range(batch):
            start, end, units, key = _start(n)
            lines.append(_book_sql(start, end, units, key, fail) % facts)
        lines.append("\\endpipeline")
        return "\n".join(lines) + "\n"
    start, end, units, key = _start(0)
    lines += ["BEGIN;", lock, _book_sql(start, end, units, key, fail) % facts, "END;"]
    return "\n".join(lines) + "\n"


PORT: int | None = None  # --port: serve on this one (a shared machine hands out port ranges)
PROFILE: Path | None = None  # --profile: py-spy's collapsed stacks of the server, one file per HTTP run


def free_port() -> int:
    if PORT is not None:
        return PORT
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(runs: list[str]) -> dict[str, dict[str, object]]:
    """One office per run, the same in every way; the full-slot runs' first FULL_STARTS starts all taken."""
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    engine = build_engine(URL)
    migrate.upgrade(engine)
    first = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)
    facts: dict[str, dict[str, object]] = {}
    with Session(engine) as s, s.begin():
        for run in runs:
            office = service.add_office(s, f"bench-{run}", "Bench office", "1 Example Street", "UTC")
            svc = service.add_service(s, office, "visit", "Visit", "A 15-minute visit.", 15)
            staff = [service.add_staff(s, office, f"Desk {i}", ["en"], ["visit"]) for i in range(STAFF)]
            for weekday in range(7):
                service.set_hours(s, office, weekday, dt.time(6, 0), dt.time(22, 0))
            service.generate_slots(s, office, first, first + dt.timedelta(days=DAYS))
            t0 = dt.datetime.combine(first, dt.time(6, 0), dt.UTC)
            facts[run] = {
                "office": office.id, "service": svc.id, "slug": office.slug, "t0": int(t0.timestamp()),
                # the office's lock base: a visit's lock is base + its UTC hour (rules.lock_keys)
                "k0": lock_keys(office.id, t0, t0 + dt.timedelta(minutes=15))[0] - int(t0.timestamp()) // 3600,
                "servers": "{" + ",".join(str(m.id) for m in staff) + "}",
                "speaks": "{" + ",".join("t" for _ in staff) + "}",
                "starts": [(t0 + dt.timedelta(days=d, minutes=15 * q)).isoformat()
                           for d in range(1, DAYS) for q in range(STARTS_PER_DAY)],
                "full": [(t0 + dt.timedelta(minutes=15 * q)).isoformat() for q in range(FULL_STARTS)],
            }
    engine.dispose()
    answer = json.dumps({"code": "ABCDE-FGHJK", "status": "booked", "office": "bench-pg1", "service": "visit",
                         "starts_at": "2027-03-09T10:00:00Z", "ends_at": "2027-03-09T10:15:00Z",
                         "language": None, "reminders_opt_in": False, "sequence": 0}, separators=(",", ":"))
    sealed = os.urandom(2 + 1 + 9 + 12 + 13 + 16).hex()  # the size of a sealed "Test Person A"
    with psycopg.connect(PG, autocommit=True) as conn:
        for f in facts.values():
            f["answer"] = answer.replace(":", "=")  # same size; pgbench would read ":00" as a variable
            f["sealed"] = sealed
            # every person taken at the first FULL_STARTS starts (the full-slot mode's 90 %)
            conn.execute("""
                WITH made AS (
                  INSERT INTO appointment (code, office_id, service_id, slot_id, starts_at, ends_at, status, language,
                    name_enc, name_index, accommodation_enc, contact_enc, reminders_opt_in, sequence, created_at,
                    updated_at, staff_id)
                  SELECT 'F' || lpad((row_number() OVER ())::text, 5, '0') || lpad(%(o)s::text, 4, '0'), %(o)s,
                    %(s)s, c.id, c.starts_at, c.starts_at + interval '15 minutes', 'booked', NULL, '\\x00', 'x', NULL,
                    NULL, false, 0, now(), now(), st.id
                  FROM slot_capacity c CROSS JOIN staff st
                  WHERE c.service_id = %(s)s AND st.office_id = %(o)s AND c.starts_at < to_timestamp(%(t)s) + %(n)s
                  RETURNING id, staff_id, starts_at)
                INSERT INTO staff_hold (staff_id, starts_at, office_id, appointment_id, role)
                SELECT staff_id, starts_at, %(o)s, id, 'serve' FROM made""",
                {"o": f["office"], "s": f["service"], "t": f["t0"], "n": dt.timedelta(minutes=15 * FULL_STARTS)})
        conn.execute("VACUUM ANALYZE")
    return facts


def start_server(tmp: Path, workers: int, plaintext: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "SAFESLOT_ENVIRONMENT": "demo",
        "SAFESLOT_DATABASE__URL": URL,
        "SAFESLOT_DATABASE__POOL_SIZE": "8",
        "SAFESLOT_CRYPTO__KEY_FILE": str(tmp / "field-keys.json"),
        "SAFESLOT_LOG__SIGNING_KEY_FILE": str(tmp / "log-signing.key"),
        "SAFESLOT_RATE_LIMITS__ENABLED": "false",  # the bench is one address booking thousands a second
    }
    env.pop(fastpath.PLAINTEXT_FLAG, None)
    if plaintext:
        env[fastpath.PLAINTEXT_FLAG] = "1"
    # what production runs: `safeslot serve` (uvloop, httptools with the request-head deadline)
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "safeslot"), "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # a worker imports the whole app: slow on a busy machine
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the server did not become healthy")


def wrk(base: str, f: dict[str, object], clients: int, seconds: int, run: str, tmp: Path,
        full: bool) -> dict[str, float]:
    script = tmp / f"{run}.lua"
    starts = f["starts"]
    assert isinstance(starts, list)
    full_starts = f["full"] if full else []
    assert isinstance(full_starts, list)
    script.write_text(LUA % {"starts": ",".join(json.dumps(s) for s in starts),
                             "full": ",".join(json.dumps(s) for s in full_starts),
                             "seed": len(run) * 31, "run": run, "office": f["slug"]})
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s", "-s", str(script), base],
        check=True, capture_output=True, text=True,
    ).stdout
    found = re.search(r"^RESULT (.*)$", out, re.M)
    if found is None:
        raise SystemExit(f"wrk gave no result:\n{out}")
    r = json.loads(found.group(1))
    return {
        "rps": r["requests"] / (r["duration_us"] / 1e6), "p50_ms": r["p50_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
        "made": r["made"], "refused": r["refused"], "failed": r["other"] + r["socket_errors"],
        "requests": r["requests"],
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants (the uvicorn workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def http_run(tmp: Path, f: dict[str, object], clients: int, seconds: int, workers: int, full: bool,
             tag: str, plaintext: bool = False) -> dict[str, float]:
    proc, base = start_server(tmp, workers, plaintext)
    try:
        wrk(base, f, clients, 2, f"warm-{tag}", tmp, full)
        spy = None
        if PROFILE is not None:  # sampling from outside: the server runs unchanged (its CPU includes none of it)
            spy = subprocess.Popen(
                ["py-spy", "record", "--pid", str(proc.pid), "--subprocesses", "--nonblocking", "--rate", "200",
                 "--duration", str(seconds), "--format", "raw", "-o", str(PROFILE / f"{tag}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cpu = cpu_seconds(proc.pid)
        result = wrk(base, f, clients, seconds, f"run-{tag}", tmp, full)
        if spy is not None:
            spy.wait(timeout=60)
        # the app's CPU per answer: load-independent, unlike answers/s (every µs is taken from PostgreSQL)
        result["cpu_us"] = (cpu_seconds(proc.pid) - cpu) * 1e6 / max(1, result["requests"])
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def pgbench(script_text: str, clients: int, seconds: int, tmp: Path, name: str) -> float:
    script = tmp / f"{name}.sql"
    script.write_text(script_text)
    out = subprocess.run(
        ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", str(script),
         "-h", "127.0.0.1", "-U", "postgres", DB],
        check=False, capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"pgbench failed:\n{out.stdout}\n{out.stderr}")
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out.stdout)
    if found is None:
        raise SystemExit(f"pgbench gave no tps:\n{out.stdout}")
    return float(found.group(1))


def log_size() -> dict[str, int]:
    return {str(p): p.stat().st_size for pattern in SERVER_LOGS for p in Path("/").glob(pattern.lstrip("/"))}


def logged_deadlocks(since: dict[str, int]) -> int | None:
    """'deadlock detected' lines of this database in the server log written since ``since``; None when no log
    could be read (not checked: never counted as 0)."""
    found = None
    for name, size in since.items():
        try:
            with open(name, "rb") as log:
                log.seek(size)
                text = log.read().decode("utf-8", "replace")
        except OSError:
            continue
        found = (found or 0) + sum(f"@{DB} " in line and "deadlock detected" in line for line in text.splitlines())
    return found


def deadlocks() -> int:
    with psycopg.connect(PG) as conn:
        row = conn.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = %s", (DB,)).fetchone()
        return int(row[0]) if row else 0


def overbooked() -> tuple[int, int, int]:
    """(people in two overlapping visits, visits whose person is not held, appointments)."""
    with psycopg.connect(PG) as conn:
        over = conn.execute("""
            SELECT count(*) FROM (
              SELECT starts_at, max(ends_at) OVER (PARTITION BY staff_id ORDER BY starts_at, id
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS busy_until
              FROM appointment WHERE status IN ('booked', 'checked-in') AND staff_id IS NOT NULL) AS x
            WHERE starts_at < busy_until""").fetchone()
        unheld = conn.execute("""
            SELECT count(*) FROM appointment a WHERE a.status = 'booked' AND NOT EXISTS (
              SELECT 1 FROM staff_hold h WHERE h.appointment_id = a.id AND h.staff_id = a.staff_id)""").fetchone()
        made = conn.execute("SELECT count(*) FROM appointment").fetchone()
        assert over is not None and unheld is not None and made is not None
        return int(over[0]), int(unheld[0]), int(made[0])


def _line(label: str, r: dict[str, float], base: float | None) -> str:
    ratio = f"{r['rps'] / base:.2f}" if base else "n/a"
    return (f"{label:34} {r['rps']:8.0f} answers/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  "
            f"ratio {ratio}  201 {int(r['made'])}  409 {int(r['refused'])}  other {int(r['failed'])}  "
            f"app CPU {r['cpu_us']:.0f} µs/answer")


HTTP_RUNS = {"http1": (1, False), "http2": (2, False), "full1": (1, True), "full2": (2, True)}
BASELINE = {"http1": "pg8", "http2": "pg8", "full1": "pgfail", "full2": "pgfail", "plain1": "pg8"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--seal-cost", action="store_true", help="also run --workers 1 with sealing off")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--database", default=DB, help=f"the throwaway database (default {DB}; created and dropped)")
    parser.add_argument("--only", help="while working: a comma-separated subset of " + ",".join(RUNS[:-1])
                        + " (the targets are judged only on a full run)")
    parser.add_argument("--port", type=int, help="serve the app on this port (default: any free one)")
    parser.add_argument("--profile", type=Path, help="a folder: write py-spy's samples of the server there "
                        "(collapsed stacks, one file per HTTP run; py-spy on PATH)")
    args = parser.parse_args()
    _use_database(args.database)
    global PORT, PROFILE
    PORT, PROFILE = args.port, args.profile
    if PROFILE is not None:
        PROFILE.mkdir(parents=True, exist_ok=True)
    runs = [r for r in RUNS if r != "plain1" or args.seal_cost]
    if args.only:
        runs = [r for r in runs if r in args.only.split(",")]
    c, secs = args.clients, args.seconds
    pg: dict[str, float] = {}
    http: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        print(f"preparing {DB}: {len(runs)} offices of {STAFF} staff, {DAYS} days ...", flush=True)
        facts = prepare(runs)
        dead_before, log_before = deadlocks(), log_size()
        print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
        for run, batch, fail, what in (("pg1", 1, False, "one booking per commit"),
                                       ("pg8", 8, False, "8 bookings per commit"),
                                       ("pgfail", 1, True, "the failing transaction (a full start)")):
            if run in runs:
                print(f"pgbench, {what}, {c} clients, {secs} s ...", flush=True)
                pg[run] = pgbench(pgbench_script(batch, fail, facts[run]), c, secs, tmp, run) * batch
        for run, (workers, full) in HTTP_RUNS.items():
            if run in runs:
                print(f"HTTP {'full-slot mode' if full else 'bookings'}, --workers {workers}, {c} connections, "
                      f"{secs} s ...", flush=True)
                http[run] = http_run(tmp, facts[run], c, secs, workers, full, run)
        if "plain1" in runs:
            print("HTTP bookings, --workers 1, sealing off ...", flush=True)
            http["plain1"] = http_run(tmp, facts["plain1"], c, secs, 1, False, "plain1", plaintext=True)
        dead, dead_logged = deadlocks() - dead_before, logged_deadlocks(log_before)
        over, unheld, made = overbooked()
    print()
    for run, label, unit in (("pg1", "pgbench, one booking per commit:", "bookings/s"),
                             ("pg8", "pgbench, 8 per commit (as the app):", "bookings/s"),
                             ("pgfail", "pgbench, failing transaction:", "answers/s")):
        if run in pg:
            print(f"{label:34} {pg[run]:8.0f} {unit}")
    for run, r in http.items():
        label = {"http1": "HTTP bookings, --workers 1:", "http2": "HTTP bookings, --workers 2:",
                 "full1": "HTTP 90 % full, --workers 1:", "full2": "HTTP 90 % full, --workers 2:",
                 "plain1": "HTTP bookings, sealing off:"}[run]
        line = _line(label, r, pg.get(BASELINE[run]))
        if run.startswith("http") and "pg1" in pg:
            line += f"  (vs one per commit {r['rps'] / pg['pg1']:.2f})"
        if run == "plain1" and "http1" in http:
            line += f"  encryption cost {(1 - http['http1']['rps'] / r['rps']) * 100:.1f} %"
        print(line)
    print(f"deadlocks in {DB} during the runs: {dead} (pg_stat_database), "
          + ("not checked in the server log (none readable: " + ", ".join(SERVER_LOGS) + ")" if dead_logged is None
             else f"{dead_logged} (server log)"))
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"overbooked people: {over}; booked visits whose person is not held: {unheld}; appointments {made}")
    failed = sum(int(r["failed"]) for r in http.values())
    ok = over == 0 and unheld == 0 and failed == 0 and dead == 0 and not dead_logged

    def met(names: tuple[str, str]) -> str:
        if not all(n in http and BASELINE[n] in pg for n in names):
            return "not judged (partial run)"
        return "met" if all(http[n]["rps"] / pg[BASELINE[n]] >= TARGET_RATIO and http[n]["p99_ms"] < TARGET_P99_MS
                            for n in names) else "NOT met"

    print(f"targets (>= {TARGET_RATIO} of pgbench, p99 < {TARGET_P99_MS:.0f} ms): bookings "
          f"{met(('http1', 'http2'))}; full-slot answers {met(('full1', 'full2'))}")
    if not args.keep:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    return 0 if ok else 1


def _use_database(name: str) -> None:
    global DB, URL, PG
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit("--database: lower-case letters, digits and _ only")
    DB = name
    URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB}"
    PG = URL.replace("+psycopg", "")


if __name__ == "__main__":
    raise SystemExit(main())
