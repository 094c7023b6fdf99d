"""Bench: bookings per second over HTTP on PostgreSQL, against pgbench doing the same transaction.

Run from the repository root (PostgreSQL on 127.0.0.1:5432, user postgres, trust; `wrk` installed):

    .venv/bin/python bench/booking.py [--clients 32] [--seconds 10]

It creates a throwaway database ``safeslot_bench``, migrates it, loads the demo
office with capacity raised so that no slot fills up, and starts the server
(uvicorn, uvloop + httptools, access log off, SAFESLOT_ENVIRONMENT=demo) in its
own process. ``wrk`` (another process) books at random demo slots with N
connections, every request with its own Idempotency-Key. In the same run
``pgbench`` runs the equivalent transaction with the same number of clients:
claim an idempotency key, take a place with the conditional UPDATE on
slot_capacity, insert the appointment. pgbench runs before and after the HTTP
runs and the mean is the baseline.

The HTTP runs alternate (twice each by default): names sealed (AES-GCM, as
always), and sealing switched off by SAFESLOT_BENCH_PLAINTEXT=1 (honoured only
in the demo environment, only by the fast path), to show what encryption costs.
The blind name index is written in both modes: it is how names are found, not
a part of encryption, and both modes must insert the same index entries.
Figures per mode are the mean of its runs.

Afterwards it checks that nothing was overbooked: no slot has booked > capacity
and the number of appointments equals the sum of booked places. Exits 1 if not,
or if any request failed.
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
from safeslot.scheduling import demo, service

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DB = "safeslot_bench"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB}"
TARGET_RATIO = 0.40
TARGET_P99_MS = 50.0

LUA = """
local starts = {%(starts)s}
local counter = 0
local created = 0
function setup(thread)
  created = created + 1
  thread:set("tid", created)
end
function init(args)
  math.randomseed(tid * 7919 + %(seed)d)
end
function request()
  counter = counter + 1
  local body = '{"office":"central","service":"card","starts_at":"' .. starts[math.random(#starts)] ..
    '","name":"Bench Example"}'
  return wrk.format("POST", "/api/v1/appointments",
    {["Content-Type"] = "application/json", ["Idempotency-Key"] = "%(run)s-" .. tid .. "-" .. counter}, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p99_us":%%d,"non2xx":%%d,' ..
    '"socket_errors":%%d}\\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""

PGBENCH = """\\set sid random(%(lo)d, %(hi)d)
BEGIN;
INSERT INTO idempotency_record (scope, key, request_hash, status_code, body, created_at)
  VALUES ('book', 'pg-' || gen_random_uuid()::text, md5(random()::text), 201, '%(answer)s', now());
UPDATE slot_capacity SET booked = booked + 1 WHERE id = :sid AND booked < capacity;
INSERT INTO appointment (code, office_id, service_id, slot_id, starts_at, ends_at, status, language, name_enc,
  name_index, accommodation_enc, contact_enc, reminders_opt_in, sequence, created_at, updated_at)
  SELECT upper(substr(md5(random()::text), 1, 10)), office_id, service_id, id, starts_at,
    starts_at + interval '15 minutes', 'booked', NULL, '\\x%(sealed)s'::bytea,
    md5(random()::text) || md5(random()::text), NULL, NULL, false, 0,
    now(), now()
  FROM slot_capacity WHERE id = :sid;
END;
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare() -> tuple[list[str], tuple[int, int]]:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    engine = build_engine(URL)
    migrate.upgrade(engine)
    today = dt.datetime.now(dt.UTC).date()
    with Session(engine) as s, s.begin():
        demo.load(s, today, weeks=8)
    engine.dispose()
    with psycopg.connect(URL.replace("+psycopg", ""), autocommit=True) as conn:
        # large capacity: the run measures throughput, not how fast slots fill up
        conn.execute("UPDATE slot_capacity SET capacity = 1000000")
        conn.execute("UPDATE interpreter_capacity SET capacity = 1000000")
        tz = service.zone("America/New_York")
        rows = conn.execute(
            "SELECT s.starts_at FROM slot_capacity s JOIN service v ON v.id = s.service_id "
            "WHERE v.slug = 'card' AND s.starts_at > now() + interval '1 day' ORDER BY s.starts_at"
        ).fetchall()
        lo, hi = conn.execute("SELECT min(id), max(id) FROM slot_capacity").fetchone()  # type: ignore[misc]
        conn.execute("VACUUM ANALYZE")
    return [r[0].astimezone(tz).isoformat() for r in rows], (int(lo), int(hi))


def start_server(tmp: Path, plaintext: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "SAFESLOT_ENVIRONMENT": "demo",
        "SAFESLOT_DATABASE__URL": URL,
        "SAFESLOT_DATABASE__POOL_SIZE": "8",
        "SAFESLOT_CRYPTO__KEY_FILE": str(tmp / "field-keys.json"),
        "SAFESLOT_LOG__SIGNING_KEY_FILE": str(tmp / "log-signing.key"),
    }
    env.pop("SAFESLOT_BENCH_PLAINTEXT", None)
    if plaintext:
        env["SAFESLOT_BENCH_PLAINTEXT"] = "1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "safeslot.asgi:app", "--host", "127.0.0.1", "--port", str(port),
         "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
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


def wrk(base: str, starts: list[str], clients: int, seconds: int, run: str, tmp: Path) -> dict[str, float]:
    script = tmp / f"{run}.lua"
    script.write_text(LUA % {"starts": ",".join(json.dumps(s) for s in starts), "seed": len(run) * 31, "run": run})
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s", "-s", str(script), base],
        check=True, capture_output=True, text=True,
    ).stdout
    found = re.search(r"^RESULT (.*)$", out, re.M)
    if found is None:
        raise SystemExit(f"wrk gave no result:\n{out}")
    r = json.loads(found.group(1))
    return {
        "rps": r["requests"] / (r["duration_us"] / 1e6),
        "p50_ms": r["p50_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "failed": r["non2xx"] + r["socket_errors"],
        "requests": r["requests"],
    }


def http_run(tmp: Path, starts: list[str], clients: int, seconds: int, plaintext: bool) -> dict[str, float]:
    proc, base = start_server(tmp, plaintext)
    try:
        tag = "plain" if plaintext else "sealed"
        wrk(base, starts, clients, 3, f"warm-{tag}", tmp)
        return wrk(base, starts, clients, seconds, f"run-{tag}", tmp)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def pgbench(ids: tuple[int, int], clients: int, seconds: int, tmp: Path) -> float:
    script = tmp / "booking.sql"
    answer = json.dumps({"code": "ABCDE-FGHJK", "status": "booked", "office": "central", "service": "card",
                         "starts_at": "2027-03-09T10:00:00-05:00", "ends_at": "2027-03-09T10:15:00-05:00",
                         "language": None, "reminders_opt_in": False, "sequence": 0}, separators=(",", ":"))
    answer = answer.replace(":", "=")  # same size; pgbench would read ":00" as a variable
    sealed = os.urandom(2 + 1 + 9 + 12 + 13 + 16).hex()  # the size of a sealed "Bench Example"
    # name_index: 64 random hex characters per row, like the app's blind index (a constant would let
    # PostgreSQL's B-tree deduplication make pgbench's index inserts unrealistically cheap)
    script.write_text(PGBENCH % {"lo": ids[0], "hi": ids[1], "answer": answer, "sealed": sealed})
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


def _mean(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: sum(r[k] for r in runs) / len(runs) for k in runs[0]}


def overbooking() -> tuple[int, int, int]:
    with psycopg.connect(URL.replace("+psycopg", "")) as conn:
        over = conn.execute("SELECT count(*) FROM slot_capacity WHERE booked > capacity").fetchone()
        booked = conn.execute("SELECT coalesce(sum(booked), 0) FROM slot_capacity").fetchone()
        made = conn.execute("SELECT count(*) FROM appointment").fetchone()
        assert over is not None and booked is not None and made is not None
        return int(over[0]), int(booked[0]), int(made[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="HTTP runs per mode (sealed, unsealed), alternating")
    parser.add_argument("--keep", action="store_true", help="keep the safeslot_bench database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        print(f"preparing {DB} (demo office, 8 weeks, capacity raised) ...", flush=True)
        starts, ids = prepare()
        print(f"pgbench, {args.clients} clients, {args.seconds} s ...", flush=True)
        tps_before = pgbench(ids, args.clients, args.seconds, tmp)
        # sealed and unsealed alternate, so that drift (table growth, other load) hits both alike
        runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
        for plaintext in [False, True] * args.rounds:
            label = "sealing off" if plaintext else "names sealed"
            print(f"HTTP bookings ({label}), {args.clients} connections, {args.seconds} s ...", flush=True)
            runs[plaintext].append(http_run(tmp, starts, args.clients, args.seconds, plaintext=plaintext))
        sealed, plain = _mean(runs[False]), _mean(runs[True])
        print("pgbench again ...", flush=True)
        tps_after = pgbench(ids, args.clients, args.seconds, tmp)
        over, booked, made = overbooking()
    tps = (tps_before + tps_after) / 2
    print()
    print(f"pgbench, same transaction:     {tps:8.0f} TPS  (before {tps_before:.0f}, after {tps_after:.0f})")
    for label, r in (("HTTP, names sealed:", sealed), ("HTTP, sealing off (bench):", plain)):
        print(f"{label:30} {r['rps']:8.0f} bookings/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  "
              f"ratio {r['rps'] / tps:.2f}  failed {int(r['failed'])}")
    cost = 1 - sealed["rps"] / plain["rps"]
    print(f"encryption cost:               {cost * 100:8.1f} % of throughput (Identity budget: <= 15 %)")
    print(f"overbooked slots: {over}; appointments {made}, places booked {booked}")
    ok = over == 0 and made == booked and sealed["failed"] == 0 and plain["failed"] == 0
    met = sealed["rps"] / tps >= TARGET_RATIO and sealed["p99_ms"] < TARGET_P99_MS
    print(f"target (ratio >= {TARGET_RATIO}, p99 < {TARGET_P99_MS:.0f} ms): {'met' if met else 'NOT met'}")
    if not args.keep:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
