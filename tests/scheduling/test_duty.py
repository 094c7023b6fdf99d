"""The duty rule (scheduling/duty.py): whether a person is on duty for a visit, their weekly windows, days
away, and the per-weekday masks the slot search uses instead of asking person by person.

Pure functions, no database; the stories that book and search through them are in test_staff_hours.py.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from safeslot.scheduling import service
from safeslot.scheduling.duty import Duty, DutyMasks, local_visit, merge, off_duty

TZ = service.zone("America/New_York")
TUESDAY = 1


def test_a_visit_is_covered_only_when_it_lies_inside_one_window_of_its_weekday() -> None:
    d = Duty(1, True, {TUESDAY: ((dt.time(9), dt.time(12)),)}, ((dt.date(2027, 3, 9), dt.date(2027, 3, 10)),))
    at = dt.datetime(2027, 3, 2, 11, 30, tzinfo=TZ)
    assert d.on_duty(local_visit(at, at + dt.timedelta(minutes=30), TZ))  # 11:30-12:00: ends at closing
    assert not d.on_duty(local_visit(at, at + dt.timedelta(minutes=45), TZ))  # runs past 12:00
    assert not d.on_duty(local_visit(at - dt.timedelta(hours=3), at - dt.timedelta(hours=2), TZ))  # 08:30
    wednesday = at + dt.timedelta(days=1)
    assert not d.on_duty(local_visit(wednesday, wednesday + dt.timedelta(minutes=15), TZ))  # no Wednesday hours
    away = at + dt.timedelta(days=7)  # Tuesday 9 March, inside the absence
    assert not d.on_duty(local_visit(away, away + dt.timedelta(minutes=15), TZ))
    office_hours = Duty(2, False, {}, ((away.date(), away.date()),))  # works when the office is open, but away
    assert office_hours.on_duty(local_visit(at, at + dt.timedelta(minutes=15), TZ))
    assert not office_hours.on_duty(local_visit(away, away + dt.timedelta(minutes=15), TZ))
    late = dt.datetime(2027, 3, 2, 23, 45, tzinfo=TZ)  # crosses midnight: never inside one window
    assert not Duty(3, True, {TUESDAY: ((dt.time(0), dt.time(23, 59)),)}).on_duty(
        local_visit(late, late + dt.timedelta(minutes=30), TZ))


def test_touching_windows_are_joined_and_overlapping_ones_refused() -> None:
    t = dt.time
    assert merge([(1, t(12), t(15)), (1, t(9), t(12)), (0, t(9), t(10))]) == [(0, t(9), t(10)), (1, t(9), t(15))]
    with pytest.raises(ValueError, match="overlap"):
        merge([(1, t(9), t(12)), (1, t(11), t(13))])
    with pytest.raises(ValueError, match="opens"):
        merge([(1, t(12), t(9))])


def test_the_search_masks_agree_with_the_rule_one_visit_at_a_time() -> None:
    """DutyMasks (cached per weekday and day) gives the same people off duty as ``off_duty`` per visit,
    across a daylight-saving change."""
    rng = random.Random(11)
    duties = {}
    for who in range(12):
        windows: dict[int, tuple[tuple[dt.time, dt.time], ...]] = {}
        for wd in range(7):
            if rng.random() < 0.7:  # one window, or two with a gap (touching ones are joined when saved)
                q = sorted(rng.sample(range(6 * 4, 20 * 4), 4))
                pairs = [(q[0], q[1]), (q[2], q[3])] if rng.random() < 0.5 else [(q[0], q[3])]
                windows[wd] = tuple((dt.time(a // 4, a % 4 * 15), dt.time(b // 4, b % 4 * 15)) for a, b in pairs)
        first = dt.date(2027, 3, 1) + dt.timedelta(days=rng.randrange(30))
        absences = ((first, first + dt.timedelta(days=rng.randrange(3))),) if rng.random() < 0.5 else ()
        duties[who] = Duty(who, rng.random() < 0.8, windows, absences)
    bits = {who: 1 << who for who in range(12)}
    for minutes in (15, 45, 90):
        masks = DutyMasks(duties, bits, minutes, TZ)
        start = dt.datetime(2027, 3, 1, 5, 0, tzinfo=dt.UTC)  # 14 March 2027 is the spring-forward day
        while start < dt.datetime(2027, 3, 31, tzinfo=dt.UTC):
            visit = local_visit(start, start + dt.timedelta(minutes=minutes), TZ)
            expected = sum(bits[w] for w in off_duty(duties, range(12), visit))
            assert masks.mask(start) == expected, (start, minutes)
            start += dt.timedelta(minutes=15)
