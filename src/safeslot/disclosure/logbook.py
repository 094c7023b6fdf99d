"""The one place the disclosure gate writes to the transparency log.

Entries are appended in the caller's transaction (invariant "no disclosure without a record"): if the
append fails, the caller's transaction fails and nothing is decided or released.
Entries hold no personal data: event, time, request id, agency, instrument type,
categories, number of people, policy-set hash and per-person commitments. Each entry is
one of the typed kinds of `transparency/entries.py` (documented in docs/log-entries.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from safeslot.transparency import interfaces as log

UNREGISTERED = "unregistered"


def agency_ref(agency_id: int | None) -> str:
    """How the log names a recipient: its registry id (`agency-3`), never a typed name (
    no free text leaves through the log). An agency the registry does not hold is `unregistered`."""
    return f"agency-{agency_id}" if agency_id is not None else UNREGISTERED


def rfc3339(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(session: Session, entry: log.EntryBase, now: dt.datetime | None = None) -> int:
    """Append one entry; returns its log index."""
    return record_many(session, [entry], now)[0]


def record_many(session: Session, batch: Sequence[log.EntryBase], now: dt.datetime | None = None) -> list[int]:
    """Append entries in order, in the caller's transaction; returns their log indexes."""
    return log.append(session, batch, now=now)


def new_salt() -> bytes:
    return log.new_salt()


def commitment(salt: bytes, person_id: str, request_id: int) -> str:
    """Hex SHA-256(salt ‖ person id ‖ request id) (docs/transparency-log.md)."""
    return log.commitment(salt, person_id, str(request_id))
