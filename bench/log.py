"""Transparency-log benchmark (not a test): batched appends and proof latency.

    .venv/bin/python bench/log.py [--entries 1000000] [--batch 10000] [--backends sqlite,postgresql]

For each backend: a throwaway database (SQLite in a temporary directory;
PostgreSQL database ``safeslot_bench_log`` on 127.0.0.1:5432, dropped after),
migrated by Alembic; appends through `service.append` (canonical JSON,
leaf hash, CompactRange, COPY/executemany), one transaction per batch; then a
signed checkpoint and the p50/p99 of inclusion and consistency proofs read from
storage at the full size. The same entries are also hashed with plain
``hashlib.sha256`` in the same run, and the ratio is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import rfc8785
from sqlalchemy import create_engine, text

from safeslot import migrate
from safeslot.db import build_engine, build_sessionmaker, transaction
from safeslot.transparency import merkle, selfcheck, service
from safeslot.transparency.note import Signer

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DB = "safeslot_bench_log"
NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
ORIGIN = "bench.safeslot.test/log"


def make_entries(n: int, start: int = 0) -> list[dict[str, Any]]:
    # The shape of a disclosure.decision entry (docs/log-entries.md), ~420 bytes.
    return [
        {
            "event": "disclosure.decision",
            "time": "2027-03-01T14:00:00Z",
            "request_id": f"req-{i}",
            "agency": "Example Agency",
            "instrument_type": "court_order",
            "categories": [{"category": "contact", "outcome": "deny"}, {"category": "identity", "outcome": "allow"}],
            "subjects": 1,
            "policy_set_hash": hashlib.sha256(b"policy").hexdigest(),
            "commitments": [hashlib.sha256(i.to_bytes(8, "big")).hexdigest()],
        }
        for i in range(start, start + n)
    ]


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def run(url: str, n: int, batch: int, proofs: int) -> dict[str, float]:
    engine = build_engine(url)
    migrate.upgrade(engine)
    maker = build_sessionmaker(engine)
    append_s = 0.0
    for start in range(0, n, batch):
        entries = make_entries(min(batch, n - start), start)  # built outside the timer
        t0 = time.perf_counter()
        with transaction(maker) as s:
            service.append_raw(s, entries, now=NOW)
        append_s += time.perf_counter() - t0

    signer = Signer.generate(ORIGIN)
    with transaction(maker) as s:
        cp = service.checkpoint(s, signer, NOW, origin=ORIGIN)
    rng = random.Random(42)
    incl: list[float] = []
    cons: list[float] = []
    with maker() as s:
        for _ in range(proofs):
            i = rng.randrange(n)
            t = time.perf_counter()
            pr = service.inclusion(s, i, n)
            incl.append(time.perf_counter() - t)
            merkle.verify_inclusion(i, n, pr.leaf_hash, pr.proof, cp.root)
        for _ in range(proofs):
            old = rng.randrange(1, n)
            t = time.perf_counter()
            service.consistency(s, old, n)
            cons.append(time.perf_counter() - t)
    # The auditor's "Verify the log now" / `safeslot log self-check`: every entry and tile, end to end.
    t = time.perf_counter()
    with transaction(maker) as s:
        run_ = selfcheck.self_verify(s, signer.verifier(), ORIGIN, NOW, method="cli")
    verify_s = time.perf_counter() - t
    assert run_.ok and run_.size == n, run_.detail
    engine.dispose()
    return {
        "verify_s": verify_s,
        "append_s": append_s,
        "appends_per_s": n / append_s,
        "incl_p50_ms": p(incl, 50) * 1e3,
        "incl_p99_ms": p(incl, 99) * 1e3,
        "cons_p50_ms": p(cons, 50) * 1e3,
        "cons_p99_ms": p(cons, 99) * 1e3,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--proofs", type=int, default=2_000)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg-admin", default=PG_ADMIN)
    args = ap.parse_args()

    # Baseline: plain hashlib.sha256 over the same entries' bytes, in the same run.
    sha_s = 0.0
    total = 0
    for start in range(0, args.entries, args.batch):
        entries = make_entries(min(args.batch, args.entries - start), start)
        datas = [service.canonical_json(e) for e in entries]
        if start == 0:
            assert datas[:100] == [rfc8785.dumps(e) for e in entries[:100]]
        total += sum(map(len, datas))
        t = time.perf_counter()
        for d in datas:
            hashlib.sha256(d).digest()
        sha_s += time.perf_counter() - t
    print(f"entries: {args.entries:,}, batch {args.batch:,}, mean entry {total / args.entries:.0f} bytes")
    print(f"plain hashlib.sha256 over the entries: {sha_s:.3f} s ({args.entries / sha_s:,.0f}/s)")

    for backend in args.backends.split(","):
        if backend == "sqlite":
            tmp = tempfile.mkdtemp(prefix="safeslot-bench-")
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            res = run(url, args.entries, args.batch, args.proofs)
            Path(tmp, "bench.db").unlink(missing_ok=True)
        else:
            admin = create_engine(args.pg_admin, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
                c.execute(text(f'CREATE DATABASE "{PG_DB}"'))
            try:
                res = run(args.pg_admin.rsplit("/", 1)[0] + f"/{PG_DB}", args.entries, args.batch, args.proofs)
            finally:
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
                admin.dispose()
        print(
            f"{backend:10s} append {res['append_s']:.1f} s = {res['appends_per_s']:,.0f} appends/s "
            f"({res['append_s'] / sha_s:.0f}x plain sha256); "
            f"inclusion p50 {res['incl_p50_ms']:.3f} ms p99 {res['incl_p99_ms']:.3f} ms; "
            f"consistency p50 {res['cons_p50_ms']:.3f} ms p99 {res['cons_p99_ms']:.3f} ms; "
            f"self-check of every entry {res['verify_s']:.1f} s ({res['verify_s'] / sha_s:.0f}x plain sha256)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
