"""Cost of chaining the staff access log, as ratios against a same-run baseline.

    .venv/bin/python bench/chain.py [--days 200] [--reads 30] [--backends sqlite,postgresql]

Each "day list" is one transaction writing ``--reads`` access records, as a clerk's
day list does (privacy.service.record_access). The same rows go, in the same run
and database, to an unchained copy of the table (same columns and indexes, no chain
columns, no hook): the ratio is what the chain costs per transaction (the hash of each
row, the sequencer lock, the last link read). Then `chain.walk_table` over the whole
chain, against reading the copy with no hashing: the self-check's cost per record.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import create_engine, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from safeslot import chain, migrate
from safeslot.db import UTCDateTime, build_engine, build_sessionmaker, transaction
from safeslot.identity.models import StaffAccount
from safeslot.privacy.models import AccessRecord

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DB = "safeslot_bench_chain"
NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)

class _Plain(DeclarativeBase):
    pass


class PlainRecord(_Plain):
    """The access log's columns and indexes, unchained: the baseline."""

    __tablename__ = "access_record_plain"
    __table_args__ = (sa.Index("ix_plain_staff_at", "staff_id", "at"), sa.Index("ix_plain_at", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(sa.Integer)
    record_type: Mapped[str] = mapped_column(sa.String(32))
    record_id: Mapped[str] = mapped_column(sa.String(64))
    purpose: Mapped[str] = mapped_column(sa.String(32))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


PLAIN = PlainRecord.__table__


def run(url: str, days: int, reads: int) -> dict[str, float]:
    engine = build_engine(url)
    migrate.upgrade(engine)
    PLAIN.create(engine)  # type: ignore[attr-defined]
    maker = build_sessionmaker(engine)
    with transaction(maker) as s:  # one staff account to point at
        staff = StaffAccount(username="bench", display_name="Bench", password_hash="x", totp_enc=b"x",  # noqa: S106  (never signs in)
                             roles="auditor", created_at=NOW)
        s.add(staff)
        s.flush()
        staff_id = staff.id
    chained_s = plain_s = 0.0
    for day in range(days):  # alternate, so both see the same machine
        rows = [{"staff_id": staff_id, "record_type": "appointment", "record_id": str(day * reads + i),
                 "purpose": "front_desk", "at": NOW + dt.timedelta(days=day, seconds=i)} for i in range(reads)]
        t = time.perf_counter()
        with transaction(maker) as s:
            s.add_all([AccessRecord(**r) for r in rows])
        chained_s += time.perf_counter() - t
        t = time.perf_counter()
        with transaction(maker) as s:
            s.add_all([PlainRecord(**r) for r in rows])  # the same ORM path, without the chain
        plain_s += time.perf_counter() - t
    with engine.connect() as conn:
        t = time.perf_counter()
        w = chain.walk_table(conn, "access_record")
        walk_s = time.perf_counter() - t
        t = time.perf_counter()
        n = sum(1 for _ in conn.execute(sa.select(PLAIN).order_by(PLAIN.c.id)).mappings())
        read_s = time.perf_counter() - t
    assert w.count == n == days * reads
    engine.dispose()
    return {"chained_ms": chained_s / days * 1e3, "plain_ms": plain_s / days * 1e3,
            "write_ratio": chained_s / plain_s, "walk_us_per_record": walk_s / n * 1e6,
            "read_us_per_record": read_s / n * 1e6, "walk_ratio": walk_s / read_s}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=200)
    ap.add_argument("--reads", type=int, default=30)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg-admin", default=PG_ADMIN)
    args = ap.parse_args()
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as d:
                r = run(f"sqlite:///{Path(d) / 'bench.db'}", args.days, args.reads)
        else:
            admin = create_engine(args.pg_admin, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{PG_DB}"'))
            try:
                r = run(args.pg_admin.rsplit("/", 1)[0] + f"/{PG_DB}", args.days, args.reads)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
                admin.dispose()
        print(f"{backend}: a day list of {args.reads} reads: chained {r['chained_ms']:.2f} ms, unchained "
              f"{r['plain_ms']:.2f} ms, ratio {r['write_ratio']:.2f}; walking the chain "
              f"{r['walk_us_per_record']:.1f} µs/record vs reading {r['read_us_per_record']:.1f} µs/record, "
              f"ratio {r['walk_ratio']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
