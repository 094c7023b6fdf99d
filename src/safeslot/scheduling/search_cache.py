"""An in-process cache of computed slot searches, keyed by the database's availability versions.

Every write that can change a search's answer bumps a counter in the same transaction,
by database triggers (migration 0481), whatever code path or app server writes:
``availability_office`` for the office's setup (services, staff, their skills, languages,
hours and absences, office hours, closures, the start grid) and ``availability_hour`` for
who is held in each UTC hour. A search reads, in one statement, the office's counter and
the sum of the counters of the hours its visits could touch (``versions``); the answer computed in
the same snapshot is stored under that key. A later
search uses it only if the key it reads is the same, which it is exactly when no
transaction that touched those hours or that setup has committed since (counters only
go up by one per bump, never down, so a sum cannot come back). Rules and the reasons
they are enough: docs/decisions.md "Slot search cache".

- Only answers computed in a read-only transaction are stored (``db.read_transaction``):
  an answer computed inside a transaction that wrote could be rolled back while its
  version numbers are reused by another transaction.
- Within one read-only transaction every read sees one snapshot (SQLite's, PostgreSQL REPEATABLE READ),
  so the key and the data it keys always agree.
- A hit costs one statement: the office and service found by slug are remembered (``Place``) with the
  setup version they were read at, and used only while the office's setup version is still that one.
- Answers are stored for whole local days (from the first day's midnight), and what is
  already past is dropped when answering, so the clock does not change the key.
- The cache is per process (several app servers each keep their own; each checks the
  shared counters), bounded by the starts it holds (``MAX_STARTS``, least recently used out first).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from safeslot.db import READ_ONLY_OPTION
from safeslot.scheduling.models import AvailabilityHour, AvailabilityOffice

MAX_STARTS = 200_000  # starts kept in all (~200 bytes each: some 40 MB); a week of 15-minute starts is ~200

Key = tuple[int, int, str | None, dt.datetime, dt.datetime]  # office, service, language, from, to (UTC)


@dataclass(frozen=True, slots=True)
class Place:
    """What a search needs of its office and service, as read at the office's setup version ``setup``.
    Renaming, re-zoning or deleting either bumps that version, so the place is used only while it holds."""

    office_id: int
    service_id: int
    timezone: str
    minutes: int
    setup: int

Version = tuple[int, int, int]
MAX_PLACES = 10_000  # (office, service) pairs remembered; a network has some 1,200 offices and a few services each
T = TypeVar("T")


def hour_of(moment: dt.datetime) -> int:
    """The UTC hour a 15-minute unit lies in, as the triggers number it (epoch seconds // 3600)."""
    return int(moment.timestamp()) // 3600


_HOURS = (select(func.coalesce(func.sum(AvailabilityHour.version), 0), func.count())
          .where(AvailabilityHour.office_id == bindparam("office_id"), AvailabilityHour.hour >= bindparam("first"),
                 AvailabilityHour.hour <= bindparam("last")))
# built once: constructing the statement cost more than running it (as repository._held_masks_query)
_VERSIONS = _HOURS.add_columns(select(func.coalesce(func.max(AvailabilityOffice.version), 0)).where(
    AvailabilityOffice.office_id == bindparam("office_id")).scalar_subquery())


def versions(session: Session, office_id: int, first: dt.datetime, end: dt.datetime) -> Version:
    """The key of the office's availability for visits held in [first, end): its setup version, and the sum
    and count of the version rows of the hours in between (one indexed read)."""
    row = session.execute(_VERSIONS, {"office_id": office_id, "first": hour_of(first),
                                      "last": hour_of(end - dt.timedelta(microseconds=1))}).one()
    return int(row[2]), int(row[0]), int(row[1])


def read_only(session: Session) -> bool:
    """Whether the session's transaction is ``db.read_transaction``'s (nothing written, nothing to roll back)."""
    return bool(session.connection().get_execution_options().get(READ_ONLY_OPTION))


class SearchCache:
    """Computed searches by (office, service, language, UTC range), each with the version it was computed at."""

    def __init__(self, max_starts: int = MAX_STARTS) -> None:
        self.max_starts = max_starts
        self.starts = 0
        self._entries: OrderedDict[Key, tuple[Version, Sequence[object]]] = OrderedDict()
        self._places: dict[tuple[str, str], Place] = {}  # (office slug, service slug): a look-up saved per search
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_compute(
        self, key: Key, version: Version, compute: Callable[[], Sequence[T]], store: bool
    ) -> Sequence[T]:
        """The answer stored for ``key`` if it was computed at ``version``; else ``compute()``, kept when
        ``store`` (a read-only transaction: see the module docstring)."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] == version:
                self._entries.move_to_end(key)
                self.hits += 1
                return found[1]  # type: ignore[return-value]  # stored by compute() for this very key
            self.misses += 1
        value = compute()
        if store:
            with self._lock:
                old = self._entries.pop(key, None)
                self.starts += len(value) - (len(old[1]) if old else 0)
                self._entries[key] = (version, value)
                while self.starts > self.max_starts and len(self._entries) > 1:
                    self.starts -= len(self._entries.popitem(last=False)[1][1])
        return value

    def place(self, office_slug: str, service_slug: str) -> Place | None:
        return self._places.get((office_slug, service_slug))

    def remember(self, office_slug: str, service_slug: str, place: Place) -> None:
        with self._lock:
            if len(self._places) >= MAX_PLACES:
                self._places.clear()
            self._places[(office_slug, service_slug)] = place

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._places.clear()
            self.starts = 0
