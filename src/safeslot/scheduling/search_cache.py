"""An in-process cache of computed slot searches, keyed by the database's availability versions.

Every write that can change a search's answer bumps a counter in the same transaction,
by database triggers (migration 0481), whatever code path or app server writes:
``availability_office`` for the office's setup (services, staff, their skills, languages,
hours and absences, office hours, closures, the start grid) and ``availability_hour`` for
who is held in each UTC hour. A search reads, in one statement, the office's counter and
the counters of the hours its visits could touch (``read_hours``); its key is the office's counter and
the sum and count of the hours' (``Hours.between``), and the answer computed in
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
- Each local day of an answer is stored on its own too, keyed by the hours its own visits touch: when the
  whole range's key has moved (a booking), only the days whose key moved are computed again. An answer is
  its days' lists (``Days``), the very lists stored for the days it did not compute, never changed once made:
  the API writes each list's JSON once and joins the days' (endpoints.py).
- The people of an (office, service, language) — candidates, bits, working hours (``search_reads.Setup``)
  — are kept at the office's setup version they were read at, and used only while it is still that one.
- The cache is per process (several app servers each keep their own; each checks the
  shared counters), bounded by the starts it holds (``MAX_STARTS``, least recently used out first).
"""

from __future__ import annotations

import datetime as dt
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from safeslot.db import READ_ONLY_OPTION
from safeslot.scheduling.rules import zone
from safeslot.scheduling.search_reads import Setup, hour_versions

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
    service_slug: str

Version = tuple[int, int, int]
MAX_PLACES = 10_000  # (office, service) pairs remembered; a network has some 1,200 offices and a few services each
MAX_SETUPS = 10_000  # (office, service, language) people remembered, each at its setup version


class Timed(Protocol):
    @property
    def starts_at(self) -> dt.datetime: ...


T = TypeVar("T", bound=Timed)
Days = tuple[Sequence[T], ...]  # an answer: its local days' starts, one list per day, in time order


def _count(days: Days[Any]) -> int:
    return sum(len(day) for day in days)


def hour_of(moment: dt.datetime) -> int:
    """The UTC hour a 15-minute unit lies in, as the triggers number it (epoch seconds // 3600)."""
    return int(moment.timestamp()) // 3600


@lru_cache(maxsize=1024)
def local_days(
    timezone: str, first: dt.datetime, hi: dt.datetime, minutes: int
) -> tuple[tuple[dt.datetime, dt.datetime, tuple[int, int]], ...]:
    """The local days of [first, hi) (local midnights, as UTC): each one's UTC range and the first and last UTC
    hour its visits touch (``hour_of``): what an answer's days are keyed by. The same ranges come again and again."""
    tz, length, out = zone(timezone), dt.timedelta(minutes=minutes), []
    day, a = first.astimezone(tz).date(), first
    while a < hi:
        day += dt.timedelta(days=1)
        b = min(dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC), hi)
        out.append((a, b, (hour_of(a), hour_of(b + length - dt.timedelta(microseconds=1)))))
        a = b
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Hours:
    """The version rows a search read, in one statement and one snapshot (search_reads.hour_versions):
    the office's setup version and, of its hours in the searched range that have a row, each hour and the
    running sum of their versions, so that each day's key costs two bisections (an eight-week search has 56)."""

    setup: int
    hours: Sequence[int]  # the hours that have a row, ascending
    sums: Sequence[int]  # sums[i]: the sum of the versions of hours[:i] (one more than ``hours``)

    @classmethod
    def of(cls, setup: int, hours: Sequence[int], versions: Sequence[int]) -> Hours:
        """From the hours that have a row, ascending, and their versions."""
        return cls(setup, hours, list(accumulate(versions, initial=0)))

    def version(self, first: int, last: int) -> Version:
        """The key of visits held in hours [first, last]: the setup version, and the sum and count of those
        hours' rows (a row only ever goes up, by one per bump, so neither comes back to an earlier value)."""
        lo, hi = bisect_left(self.hours, first), bisect_right(self.hours, last)
        return self.setup, self.sums[hi] - self.sums[lo], hi - lo

    def between(self, first: dt.datetime, end: dt.datetime) -> Version:
        """The key of visits held in [first, end)."""
        return self.version(hour_of(first), hour_of(end - dt.timedelta(microseconds=1)))


def read_hours(session: Session, office_id: int, first: dt.datetime, end: dt.datetime) -> Hours:
    """The version rows of the office's availability for visits held in [first, end) (one indexed read)."""
    return Hours.of(*hour_versions(session, office_id, hour_of(first), hour_of(end - dt.timedelta(microseconds=1))))


def read_only(session: Session) -> bool:
    """Whether the session's transaction is ``db.read_transaction``'s (nothing written, nothing to roll back)."""
    return bool(session.connection().get_execution_options().get(READ_ONLY_OPTION))


class SearchCache:
    """Computed searches by (office, service, language, UTC range), each with the version it was computed at."""

    def __init__(self, max_starts: int = MAX_STARTS) -> None:
        self.max_starts = max_starts
        self.starts = 0
        self._entries: OrderedDict[Key, tuple[Version, Days[Any]]] = OrderedDict()
        self._places: dict[tuple[str, str], Place] = {}  # (office slug, service slug): a look-up saved per search
        self._setups: dict[tuple[int, int, str | None], tuple[int, Setup]] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_compute(
        self, key: Key, version: Version, days: Callable[[], Sequence[tuple[Key, Version]]],
        compute: Callable[[dt.datetime, dt.datetime], Sequence[T]], store: bool,
    ) -> Days[T]:
        """The answer stored for ``key`` if it was computed at ``version``: its local days' starts, a list per
        day in time order. Else it is put together from its local days (``days()``: each one's key and the
        version of the hours its visits touch): a day stored at its version is reused, the others are
        computed — each run of consecutive ones by one ``compute(from, to)`` — so that a booking recomputes
        its own day, not the week. The days and the whole are kept when ``store`` (a read-only transaction:
        see the module docstring). A day's list is never changed once made, so a caller may key what it
        derives from one (its written JSON) by the list itself."""
        with self._lock:
            found: Days[T] | None = self._get(key, version)
            if found is not None:
                self.hits += 1
                return found
            self.misses += 1
            parts: list[tuple[Key, Version, Days[T] | None]] = [(d, v, self._get(d, v)) for d, v in days()]
        out: list[Sequence[T]] = []
        new: list[tuple[Key, Version, Sequence[T]]] = []
        i = 0
        while i < len(parts):
            j = i
            while j < len(parts) and parts[j][2] is None:
                j += 1
            if j > i:  # days i .. j-1 are not stored at their version: one computation for them
                computed = compute(parts[i][0][3], parts[j - 1][0][4])
                k = 0
                for day, v, _ in parts[i:j]:
                    piece: list[T] = []
                    while k < len(computed) and computed[k].starts_at < day[4]:
                        piece.append(computed[k])
                        k += 1
                    new.append((day, v, piece))
                    out.append(piece)
            if j < len(parts):
                out.extend(parts[j][2] or ())
            i = j + 1
        whole = tuple(out)
        if store:
            with self._lock:
                for day, v, kept in new:
                    self._put(day, v, (kept,))
                if len(parts) != 1 or parts[0][0] != key:
                    self._put(key, version, whole)
        return whole

    def _get(self, key: Key, version: Version) -> Days[Any] | None:
        found = self._entries.get(key)  # stored by get_or_compute for this very key (and so of its type)
        if found is None or found[0] != version:
            return None
        self._entries.move_to_end(key)
        return found[1]

    def _put(self, key: Key, version: Version, value: Days[Any]) -> None:
        old = self._entries.pop(key, None)
        self.starts += _count(value) - (_count(old[1]) if old else 0)
        self._entries[key] = (version, value)
        while self.starts > self.max_starts and len(self._entries) > 1:
            self.starts -= _count(self._entries.popitem(last=False)[1][1])

    def setup(self, key: tuple[int, int, str | None], version: int) -> Setup | None:
        """The people of an (office, service, language) as read at the office's setup version ``version``."""
        found = self._setups.get(key)
        return found[1] if found is not None and found[0] == version else None

    def keep_setup(self, key: tuple[int, int, str | None], version: int, setup: Setup) -> None:
        """Only for a setup read in a read-only transaction, with ``version`` read in its snapshot."""
        with self._lock:
            if len(self._setups) >= MAX_SETUPS:
                self._setups.clear()
            self._setups[key] = (version, setup)

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
            self._setups.clear()
            self.starts = 0
