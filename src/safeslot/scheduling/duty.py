"""Staff working hours: who is on duty for a visit (pure), and the moment a visit is in office time.

A staff member without their own hours (``Staff.own_hours`` false) works whenever the
office is open: the start-time grid already keeps visits inside opening hours. One
with their own hours is on duty for a visit only when the whole visit, in office
local time, lies inside one of their windows of that weekday and the day is not in
one of their absences. Touching windows are merged when saved (``merge``), so "inside
one window" is the same as "inside their hours".

The same rule is applied in four places, all from the values computed here:
- slot search (``DutyMasks``: one bit mask of people off duty per start, cached by
  weekday and local times, so eight weeks cost a few hundred look-ups);
- the sync booking path and reassignment (``repository.off_duty``, read in the
  booking's transaction after its locks);
- the PostgreSQL fast path's ``BOOK_SQL``, which re-checks the chosen people against
  the ``staff_hours`` and ``staff_absence`` tables with the ``LocalVisit`` values of the plan.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from zoneinfo import ZoneInfo

Window = tuple[dt.time, dt.time]


@dataclass(frozen=True, slots=True)
class LocalVisit:
    """A visit in office local time: its day, weekday and wall-clock start and end (``end`` on the same day
    or the visit crosses midnight, which no one's hours allow)."""

    day: dt.date
    weekday: int
    start: dt.time
    end: dt.time
    same_day: bool


def local_visit(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> LocalVisit:
    a, b = start.astimezone(tz), end.astimezone(tz)
    same = b.date() == a.date() and b.time() > a.time()
    return LocalVisit(a.date(), a.weekday(), a.time().replace(tzinfo=None), b.time().replace(tzinfo=None), same)


@dataclass(frozen=True, slots=True)
class Duty:
    """When a staff member works, beyond the office's hours: their own windows per weekday (Monday = 0)
    when ``own`` (else every open hour), less their absent days (inclusive ranges)."""

    staff_id: int
    own: bool
    windows: Mapping[int, tuple[Window, ...]]
    absences: tuple[tuple[dt.date, dt.date], ...] = ()

    def absent(self, day: dt.date) -> bool:
        return any(first <= day <= last for first, last in self.absences)

    def covers(self, visit: LocalVisit) -> bool:
        """Whether the whole visit is inside their hours (absences aside)."""
        return not self.own or (visit.same_day and any(
            opens <= visit.start and visit.end <= closes for opens, closes in self.windows.get(visit.weekday, ())
        ))

    def on_duty(self, visit: LocalVisit) -> bool:
        return self.covers(visit) and not self.absent(visit.day)


def merge(windows: Iterable[tuple[int, dt.time, dt.time]]) -> list[tuple[int, dt.time, dt.time]]:
    """Windows sorted, touching ones joined (09-12 and 12-15 become 09-15); ValueError on overlap or order."""
    out: list[tuple[int, dt.time, dt.time]] = []
    for weekday, opens, closes in sorted(windows):
        if not opens < closes:
            raise ValueError("opens before closes")
        if out and out[-1][0] == weekday and opens < out[-1][2]:
            raise ValueError("overlap")
        if out and out[-1][0] == weekday and opens == out[-1][2]:
            out[-1] = (weekday, out[-1][1], closes)
        else:
            out.append((weekday, opens, closes))
    return out


def off_duty(duties: Mapping[int, Duty], people: Iterable[int], visit: LocalVisit) -> set[int]:
    """Those of ``people`` who are not on duty for the visit (own hours, or absent)."""
    return {who for who in people if (d := duties.get(who)) is not None and not d.on_duty(visit)}


class DutyMasks:
    """For slot search: the bit mask (``slots.candidate_bits``) of candidates off duty for a visit of
    ``minutes`` starting at a UTC instant.

    Per weekday, the day is cut at every opening and closing of anyone's windows; each piece has the
    mask of those whose hours cover it. A visit is covered by a person's hours exactly when every
    piece it overlaps is (touching windows are joined when saved, so no one is covered across a gap),
    so its mask is the AND of one or two pieces' masks: a bisection, not a loop over people. Masks
    are also cached per (weekday, local start, local end), and absences per local day."""

    def __init__(self, duties: Mapping[int, Duty], bits: Mapping[int, int], minutes: int, tz: ZoneInfo) -> None:
        mine = [(d, bits[who]) for who, d in duties.items() if who in bits]
        self.any = bool(mine)
        self.length = dt.timedelta(minutes=minutes)
        self.tz = tz
        self.own = sum(bit for d, bit in mine if d.own)  # everyone whose hours are their own
        self.cuts: list[list[float]] = []
        self.pieces: list[list[int]] = []
        for weekday in range(7):
            spans = [(_minutes(o), _minutes(c), bit) for d, bit in mine if d.own for o, c in d.windows.get(weekday, ())]
            cuts = sorted({m for a, b, _ in spans for m in (a, b)})
            self.cuts.append(cuts)
            self.pieces.append([sum(bit for a, b, bit in spans if a <= lo and hi <= b)
                                for lo, hi in pairwise(cuts)])
        self.absences = [(first, last, bit) for d, bit in mine for first, last in d.absences]
        self.weekly: dict[tuple[int, float, float], int] = {}
        self.daily: dict[tuple[int, int, int], int] = {}

    def __bool__(self) -> bool:
        return self.any

    def _covered(self, weekday: int, lo: float, hi: float) -> int:
        cuts, pieces = self.cuts[weekday], self.pieces[weekday]
        i = bisect_right(cuts, lo) - 1
        if i < 0 or hi > cuts[-1]:
            return 0
        covered = -1
        while i < len(pieces) and cuts[i] < hi:
            covered &= pieces[i]
            i += 1
        return covered

    def mask(self, start: dt.datetime) -> int:
        a = start.astimezone(self.tz)
        b = (start + self.length).astimezone(self.tz)
        lo = a.hour * 60 + a.minute + a.second / 60
        hi = b.hour * 60 + b.minute + b.second / 60 if b.day == a.day else 24 * 60 + 1.0  # past midnight: never
        key = (a.weekday(), lo, hi)
        off = self.weekly.get(key)
        if off is None:
            off = self.weekly[key] = self.own & ~self._covered(*key)
        day = (a.year, a.month, a.day)
        away = self.daily.get(day)
        if away is None:
            on = dt.date(*day)
            away = self.daily[day] = sum({bit for first, last, bit in self.absences if first <= on <= last})
        return off | away


def _minutes(t: dt.time) -> float:
    return t.hour * 60 + t.minute + t.second / 60


def duties_from_rows(
    own: Collection[int], windows: Iterable[tuple[int, int, dt.time, dt.time]],
    absences: Iterable[tuple[int, dt.date, dt.date]],
) -> dict[int, Duty]:
    """``Duty`` per staff member who keeps their own hours or has an absence, from the ids of those who
    keep their own hours, (staff, weekday, opens, closes) and (staff, first day, last day) rows; the
    others work whenever the office is open and have no entry."""
    keeps = set(own)
    by_day: dict[int, dict[int, list[Window]]] = {}
    for who, weekday, opens, closes in windows:
        if who in keeps:
            by_day.setdefault(who, {}).setdefault(weekday, []).append((opens, closes))
    away: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for who, first, last in absences:
        away.setdefault(who, []).append((first, last))
    return {who: Duty(who, who in keeps, {wd: tuple(sorted(ws)) for wd, ws in by_day.get(who, {}).items()},
                      tuple(sorted(away.get(who, ()))))
            for who in keeps | set(away)}
