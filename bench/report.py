"""Benchmark: build a transparency report for a period with 1,000,000 log entries.

Not a test. Fills a fresh log (a SQLite file in a temporary directory, or the database at
``--url``) through the log service's batched `append` with synthetic disclosure entries in the
gate's format (decisions, releases, accounting entries, refusals, holds, policy changes: no
personal data), signs a checkpoint, then times what `safeslot report build` does: read every
entry (one streamed statement), hash it into the tree and check the signed root, compute,
suppress, sign, render JSON, CSV and HTML. In the same run it times the baseline, a plain
streamed ``SELECT`` of the same rows' bytes, and prints entries/s and the ratio to it;
``--bundled`` also times the build as it was (one entry-bundle query per 256 entries).
Target at network scale: 10M entries < 300 s (>= 33,000 entries/s).

    flock /work/tools/.bench.lock .venv/bin/python bench/report.py [--entries 1000000] [--url postgresql+psycopg://...]
        [--reuse DIR] [--bundled]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import resource
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

from safeslot import migrate
from safeslot.db import build_engine, build_sessionmaker
from safeslot.reports import render, service
from safeslot.reports.compute import stamp  # the gate's time format (disclosure/logbook.rfc3339)
from safeslot.reports.schemas import Period
from safeslot.transparency import service as log
from safeslot.transparency.note import Signer

ORIGIN = "bench.example/log"
AGENCIES = [f"Agency {c}" for c in "ABCDEFGHIJKL"]
INSTRUMENTS = ["administrative_warrant", "administrative_subpoena", "clerk_subpoena", "head_of_agency_request",
               "court_order", "judicial_warrant", "consent", "sharing_agreement", "emergency"]
PURPOSES = ["criminal", "civil_immigration", "other_civil", "program_integrity"]
CATS = ["identity", "contact", "appointment_schedule", "visit_history", "language_accommodation"]


def synthetic(n: int, start: dt.datetime, span: dt.timedelta, seed: int = 7,
              first_request: int = 0) -> Iterator[dict[str, Any]]:
    """About n entries in log order: a request yields a decision, and often a release plus accounting.
    Request ids run from ``first_request + 1`` (a generator per chunk of a larger log: bench/scale.py)."""
    rnd = random.Random(seed)
    made, rid = 0, first_request
    step = span / n
    when = start
    while made < n:
        rid += 1
        roll = rnd.random()
        when += step
        t = stamp(when)
        if roll < 0.05:
            yield {"event": "disclosure.request_refused", "time": t, "agency": rnd.choice(AGENCIES),
                   "instrument_type": rnd.choice(INSTRUMENTS)}
            made += 1
            continue
        if roll < 0.051:
            yield {"event": "legal_hold.created", "time": t, "hold_id": rid, "agency": rnd.choice(AGENCIES)}
            made += 1
            continue
        if roll < 0.0512:
            yield {"event": "policy.change", "time": t, "change_id": rid, "step": "adopted", "profile": "state",
                   "policy_set_hash": f"{rid:064x}"}
            made += 1
            continue
        asked = rnd.sample(CATS, rnd.randint(1, 3))
        people = rnd.randint(1, 4)
        allow = rnd.random() < 0.6
        yield {"event": "disclosure.decision", "time": t, "request_id": rid, "agency": rnd.choice(AGENCIES),
               "instrument_type": rnd.choice(INSTRUMENTS), "purpose": rnd.choice(PURPOSES), "people": people,
               "policy_set_hash": "ab" * 32, "profile": "federal",
               # a list, not an object keyed by category: the log refuses a key named "contact"
               "categories": [{"category": c, "outcome": "allow" if allow else "deny"} for c in asked]}
        made += 1
        if allow and made < n and rnd.random() < 0.8:
            when += step
            kept = asked if rnd.random() < 0.7 else asked[:1]
            commitments = [f"{rid:060x}{i:04x}" for i in range(people)]
            yield {"event": "disclosure.release", "time": stamp(when), "request_id": rid,
                   "agency": "Agency A", "instrument_type": "court_order", "categories": kept, "people": people,
                   "policy_set_hash": "ab" * 32, "package_sha256": "cd" * 32, "commitments": commitments}
            made += 1
            for c in commitments:
                if made >= n:
                    break
                yield {"event": "disclosure.accounting", "time": stamp(when), "request_id": rid,
                       "commitment": c}
                made += 1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=20_000)
    ap.add_argument("--url", default=None, help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--reuse", default=None, help="a directory of an earlier run: time the build only")
    ap.add_argument("--bundled", action="store_true", help="also time the build reading one entry bundle per query")
    args = ap.parse_args()
    tmp = args.reuse or tempfile.mkdtemp(prefix="safeslot-bench-report-")
    url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
    engine = build_engine(url)
    migrate.upgrade(engine)
    sm = build_sessionmaker(engine)
    signer = Signer.generate(ORIGIN)
    now = dt.datetime(2027, 1, 2, tzinfo=dt.UTC)
    period = Period.parse("2026H2")

    t0 = time.perf_counter()
    if args.reuse:  # a new key: sign a new checkpoint over one more entry (after the period)
        with sm() as s, s.begin():
            log.append_raw(s, [{"event": "policy.change", "time": stamp(now), "step": "proposed"}], now=now)
            cp = log.checkpoint(s, signer, now, origin=ORIGIN)
        print(f"reusing {cp.size:,} entries in {url}")
    else:
        fill(sm, args.entries, args.batch, period, now)
        with sm() as s, s.begin():
            cp = log.checkpoint(s, signer, now, origin=ORIGIN)
        fill_s = time.perf_counter() - t0
        print(f"filled the log: {cp.size:,} entries in {fill_s:.1f} s ({cp.size / fill_s:,.0f} appends/s, "
              f"{engine.dialect.name}, batches of {args.batch:,})")
    report_build(sm, signer, period, Path(tmp), bundled=args.bundled)


def fill(sm: Any, entries: int, size: int, period: Period, now: dt.datetime) -> None:
    batch: list[dict[str, Any]] = []
    for e in synthetic(entries, period.start, period.end - period.start - dt.timedelta(hours=1)):
        batch.append(e)
        if len(batch) == size:
            with sm() as s, s.begin():
                log.append_raw(s, batch, now=now)
            batch = []
    if batch:
        with sm() as s, s.begin():
            log.append_raw(s, batch, now=now)


class BundledLog(service.LocalLog):
    """The build as it was: one entry-bundle query per 256 entries (run with the cycle collector on)."""

    def entry_chunks(self, published: int, size: int) -> Iterator[Sequence[bytes]]:
        return service.bundled_chunks(self, published, size)


def plain_read(sm: Any, size: int) -> tuple[float, float]:
    """The baseline: the same rows' bytes by one plain streamed SELECT, in index order, nothing done with them.
    (wall seconds, this process's CPU seconds)."""
    t0, c0 = time.perf_counter(), time.process_time()
    with sm() as s, s.begin():
        dbapi = s.connection().connection.driver_connection
        if s.get_bind().dialect.name == "postgresql":  # as the build reads: a binary server-side cursor
            cur = dbapi.cursor(name="bench_plain_read", binary=True)
            cur.execute("SELECT data FROM log_entry WHERE idx < %s ORDER BY idx", (size,))
        else:
            cur = dbapi.cursor()
            cur.execute("SELECT data FROM log_entry WHERE idx < ? ORDER BY idx", (size,))
        while cur.fetchmany(service.CHUNK):
            pass
        cur.close()
    return time.perf_counter() - t0, time.process_time() - c0


def report_build(sm: Any, signer: Signer, period: Period, out: Path, bundled: bool = False) -> None:
    with sm() as s:
        size = log.published_size(s)
    base_s, base_cpu = plain_read(sm, size)
    if bundled:
        t0, c0 = time.perf_counter(), time.process_time()
        with sm() as s, s.begin(), mock.patch.object(service, "_no_cycle_collection", contextlib.nullcontext):
            old = service.compute_from_log(BundledLog(s), signer.verifier(), ORIGIN, period)
        old_s, old_cpu = time.perf_counter() - t0, time.process_time() - c0
    t1, c1 = time.perf_counter(), time.process_time()
    with sm() as s, s.begin():
        report = service.compute_from_log(service.LocalLog(s), signer.verifier(), ORIGIN, period)
    t2 = time.perf_counter()
    signature = service.sign(report, signer)
    sha = render.sha256(report)
    (out / "report.json").write_bytes(render.to_json(report, signature))
    (out / "report.csv").write_bytes(render.to_csv(report))
    (out / "report.html").write_bytes(render.to_html(report, signature, sha=sha))
    t3, c3 = time.perf_counter(), time.process_time()
    build_s, n = t3 - t1, report.entries_read
    print(f"plain SELECT of the same rows: {base_s:.1f} s ({n / base_s:,.0f} entries/s; {base_cpu:.1f} s CPU here)")
    if bundled:
        same = "same figures" if old.to_json() == report.to_json() else "DIFFERENT FIGURES"
        print(f"build, one query per entry bundle (before): {old_s:.1f} s ({n / old_s:,.0f} entries/s, "
              f"{old_s / base_s:.2f}x the plain SELECT; {old_cpu:.1f} s CPU here; {same})")
    print(f"report build: {build_s:.1f} s for {n:,} entries ({n / build_s:,.0f} entries/s, "
          f"{build_s / base_s:.2f}x the plain SELECT; {c3 - c1:.1f} s CPU here; read + check root + compute: "
          f"{t2 - t1:.1f} s; sign + render: {t3 - t2:.2f} s)")
    print(f"requests counted: {report.summary['requests']}; peak memory of this process "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB; files in {out}; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
