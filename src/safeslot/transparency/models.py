"""Transparency log tables: append-only, enforced by triggers (migration 0003).

* ``log_entry``  one row per leaf: the RFC 8785 canonical JSON entry and its
  RFC 9162 leaf hash. The leaf hash doubles as the level-0 "aligned subtree".
* ``log_node``   the hash of every complete aligned subtree of level >= 1
  (level L, index N covers leaves ``[N * 2**L, (N + 1) * 2**L)``), written by
  `merkle.CompactRange` as appends complete them. Proofs and tiles read
  O(log n) of these rows; nothing is ever recomputed from all the leaves.
* ``log_head``   a single row (id 1): the sequencer. Appenders lock it
  (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` write
  lock) so there is one writer at a time. It is the only mutable row.
* ``log_checkpoint``  every checkpoint the log signed (C2SP signed note).
* ``log_cosignature`` witness cosignature lines, per checkpoint size.
* ``log_verification`` every run of the office's own verification (`service.self_verify`):
  when, by whom, the checkpoint it checked and the outcome; the auditor's "last verification".

UPDATE and DELETE on log_entry, log_node, log_checkpoint, log_cosignature and log_verification
are refused by the database itself, so a bug or a careless operator cannot
rewrite history without first removing the triggers (which a verifier or a
witness then detects).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from safeslot.db import Base, UTCDateTime

MAX_ENTRY_BYTES = 65_535  # tlog-tiles entry bundles use a uint16 length prefix


class LogEntry(Base):
    __tablename__ = "log_entry"
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    __table_args__ = (CheckConstraint(f"length(data) <= {MAX_ENTRY_BYTES}", name="entry_size"),)


class LogNode(Base):
    __tablename__ = "log_node"
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogHead(Base):
    __tablename__ = "log_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class LogCheckpoint(Base):
    __tablename__ = "log_checkpoint"
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LogCosignature(Base):
    __tablename__ = "log_cosignature"
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(200), primary_key=True)
    line: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LogVerification(Base):
    """One run of the office's own verification of its log; a failed run stays on record."""

    __tablename__ = "log_verification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    method: Mapped[str] = mapped_column(String(16))  # "console" (an auditor's button) or "cli" (log self-check)
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    size: Mapped[int] = mapped_column(BigInteger)  # the checkpoint size checked (0: no checkpoint could be read)
    root: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(String(500))
    # the newest successful run, where every self-check starts (migration 0530)
    __table_args__ = (Index("ix_log_verification_last_ok", "id", postgresql_where=text("ok AND size > 0"),
                            sqlite_where=text("ok AND size > 0")),)
