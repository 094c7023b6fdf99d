"""The scheduling rules that need no database (scheduling/rules.py): time zones, the booking window,
confirmation codes read over the phone, the 15-minute units a visit holds, and the lock order."""

from __future__ import annotations

import datetime as dt

import pytest

from safeslot.kit.errors import InvalidInput
from safeslot.scheduling import rules
from safeslot.scheduling.errors import TimeOutOfRange

NY = rules.zone("America/New_York")
NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)


def test_an_office_time_zone_must_be_a_real_iana_name() -> None:
    assert rules.valid_zone("America/Chicago") == "America/Chicago"
    with pytest.raises(InvalidInput, match="IANA"):
        rules.valid_zone("Central Time")


def test_a_code_is_ten_readable_characters_and_forgives_how_it_is_read_back() -> None:
    codes = {rules.new_code() for _ in range(200)}
    assert len(codes) == 200  # unguessable, so never repeated in a handful
    assert all(len(c) == rules.CODE_LENGTH and set(c) <= set(rules.CROCKFORD) for c in codes)
    assert rules.format_code("ABCDE12345") == "ABCDE-12345"
    # read over the phone: lower case, a hyphen or space, I and L for 1, O for 0
    assert rules.normalise_code("abcde-i2l4o") == "ABCDE12140"
    assert rules.normalise_code(" 0abc d ") == "0ABCD"


def test_a_wall_time_lost_to_the_spring_change_has_no_instant() -> None:
    assert rules.local_to_utc(dt.date(2027, 3, 14), dt.time(2, 30), NY) is None  # clocks jump 02:00 -> 03:00
    assert rules.local_to_utc(dt.date(2027, 3, 14), dt.time(3, 0), NY) == dt.datetime(2027, 3, 14, 7, tzinfo=dt.UTC)
    assert rules.local_to_utc(dt.date(2027, 3, 1), dt.time(9), NY) == dt.datetime(2027, 3, 1, 14, tzinfo=dt.UTC)


def test_bookings_open_from_now_to_the_end_of_the_window() -> None:
    rules.check_window(NOW + dt.timedelta(minutes=15), NOW)
    rules.check_window(NOW + rules.BOOKING_WINDOW, NOW)
    with pytest.raises(TimeOutOfRange, match="passed"):
        rules.check_window(NOW, NOW)
    with pytest.raises(TimeOutOfRange, match=f"{rules.BOOKING_WINDOW.days} days ahead"):
        rules.check_window(NOW + rules.BOOKING_WINDOW + dt.timedelta(minutes=15), NOW)


def test_a_visit_holds_its_people_for_each_quarter_hour_it_covers() -> None:
    start = dt.datetime(2027, 3, 2, 15, 0, tzinfo=dt.UTC)
    assert rules.units(start, start + dt.timedelta(minutes=45)) == (
        start, start + dt.timedelta(minutes=15), start + dt.timedelta(minutes=30))
    assert rules.units(start, start) == ()


def test_two_overlapping_visits_share_a_lock_and_distant_ones_do_not() -> None:
    a = dt.datetime(2027, 3, 2, 15, 45, tzinfo=dt.UTC)
    first = rules.lock_keys(7, a, a + dt.timedelta(minutes=30))  # 15:45-16:15: two hours
    second = rules.lock_keys(7, a + dt.timedelta(minutes=15), a + dt.timedelta(minutes=45))
    assert len(first) == 2 and set(first) & set(second)
    assert not set(first) & set(rules.lock_keys(7, a + dt.timedelta(hours=3), a + dt.timedelta(hours=4)))
    assert not set(first) & set(rules.lock_keys(8, a, a + dt.timedelta(minutes=30)))  # another office
    assert rules.lock_keys(7, a, a + dt.timedelta(minutes=15)) == first[:1]  # ends at 16:00: one hour
    assert all(rules.office_of_lock(k) == rules.office_lock_key(7) for k in first)


def test_locks_are_taken_office_first_then_hours_ascending_and_a_long_writer_takes_the_office_alone() -> None:
    start = dt.datetime(2027, 3, 2, 9, tzinfo=dt.UTC)
    short = rules.lock_keys(2, start, start + dt.timedelta(hours=2))
    other = rules.lock_keys(1, start, start + dt.timedelta(hours=1))
    order = rules.lock_order([*short, *other])
    assert order == [(rules.office_lock_key(1), False), (rules.office_lock_key(2), False),
                     *[(k, True) for k in sorted([*other, *short])]]
    year = rules.lock_keys(2, start, start + dt.timedelta(hours=rules.MAX_HOUR_LOCKS + 1))
    assert rules.lock_order(year) == [(rules.office_lock_key(2), True)]


def test_english_needs_no_interpreter_and_a_regional_tag_needs_its_language() -> None:
    assert rules.interpreter_language(None) is None
    assert rules.interpreter_language("en-US") is None
    assert rules.interpreter_language("es-MX") == "es"


def test_a_visit_is_sealed_with_the_key_of_its_utc_month() -> None:
    late_evening = dt.datetime(2027, 3, 31, 21, 0, tzinfo=NY)  # 1 April in UTC
    assert rules.data_key_month(late_evening) == "2027-04"
