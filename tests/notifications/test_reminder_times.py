"""When reminders fall due, across daylight-saving changes, and what they say (pure: no database)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeslot.notifications.reminders import compose_text, current_reminder, due_times

NY = ZoneInfo("America/New_York")
UTC = dt.UTC


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NY)  # type: ignore[misc]


def test_two_days_before_keeps_the_wall_clock_time_across_spring_forward() -> None:
    # Monday 15 March 2027, 10:00 EDT; the clocks went forward on Sunday 14 March
    start = local(2027, 3, 15, 10, 0)
    dues = dict(due_times(start.astimezone(UTC), "America/New_York", [2], [2]))
    assert dues["2d"].astimezone(NY) == local(2027, 3, 13, 10, 0)  # Saturday 10:00 EST
    assert start - dues["2d"] == dt.timedelta(hours=47)
    assert dues["2h"].astimezone(NY) == local(2027, 3, 15, 8, 0)


def test_two_days_before_keeps_the_wall_clock_time_across_fall_back() -> None:
    # Monday 8 November 2027, 10:00 EST; the clocks went back on Sunday 7 November
    start = local(2027, 11, 8, 10, 0)
    dues = dict(due_times(start.astimezone(UTC), "America/New_York", [2], [2]))
    assert dues["2d"].astimezone(NY) == local(2027, 11, 6, 10, 0)  # Saturday 10:00 EDT
    assert start - dues["2d"] == dt.timedelta(hours=49)


def test_hours_before_are_real_hours_even_over_the_change() -> None:
    start = local(2027, 3, 14, 9, 0)  # Sunday, clocks went forward at 02:00
    dues = dict(due_times(start.astimezone(UTC), "America/New_York", [], [8]))
    assert start - dues["8h"] == dt.timedelta(hours=8)
    assert dues["8h"].astimezone(NY).hour == 0  # 8 real hours before 09:00 EDT is 00:00 EST


def test_a_wall_time_lost_to_spring_forward_is_read_after_the_gap() -> None:
    start = local(2027, 3, 16, 2, 30)  # two days before is 02:30 on 14 March, which did not exist
    dues = dict(due_times(start.astimezone(UTC), "America/New_York", [2], []))
    assert dues["2d"].astimezone(NY) == local(2027, 3, 14, 3, 30)


def test_only_the_latest_due_reminder_is_sent_and_only_if_it_fell_due_after_booking() -> None:
    start = local(2027, 3, 5, 10, 0).astimezone(UTC)
    booked = local(2027, 3, 1, 9, 0).astimezone(UTC)
    two_days = local(2027, 3, 3, 10, 0).astimezone(UTC)
    assert current_reminder(start, booked, "America/New_York", [2], [2], two_days - dt.timedelta(seconds=1)) is None
    assert current_reminder(start, booked, "America/New_York", [2], [2], two_days)[0] == "2d"  # type: ignore[index]
    assert current_reminder(start, booked, "America/New_York", [2], [2],
                            start - dt.timedelta(minutes=30))[0] == "2h"  # type: ignore[index]
    assert current_reminder(start, booked, "America/New_York", [2], [2], start) is None
    # booked yesterday for tomorrow: no "two days before", but the two-hour one
    late = local(2027, 3, 4, 12, 0).astimezone(UTC)
    assert current_reminder(start, late, "America/New_York", [2], [2], late) is None
    assert current_reminder(start, late, "America/New_York", [2], [2], start - dt.timedelta(hours=1))[0] == "2h"  # type: ignore[index]


@given(st.datetimes(min_value=dt.datetime(2027, 1, 1), max_value=dt.datetime(2030, 12, 31)),
       st.sampled_from(["America/New_York", "America/Los_Angeles", "Europe/Madrid", "America/Phoenix"]))
def test_a_days_before_reminder_is_always_between_one_and_three_days_before(naive: dt.datetime, zone: str) -> None:
    start = naive.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    [(_, due)] = due_times(start, zone, [2], [])
    assert dt.timedelta(hours=46) <= start - due <= dt.timedelta(hours=50)


WORDS_NEVER = ("immigra", "citizen", "ciudadan", "benefit", "beneficio", "social security", "seguro social",
               "password", "contraseña", "ssn", "verify your", "verifique su", "http")


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("kind", ["phone", "email"])
def test_reminder_words_are_scam_safe_and_in_the_booking_language(lang: str, kind: str) -> None:
    stop_url = "https://office.example/reminders/stop/12-abc"
    subject, text = compose_text(lang, "Central Office", "100 Example Plaza", local(2027, 3, 15, 10, 0),
                                 "555-0100", kind, stop_url)
    assert "555-0100" in text and "Central Office" in text and "100 Example Plaza" in text
    lower = (subject + text).lower().replace(stop_url, "")
    for word in WORDS_NEVER:
        assert word not in lower, word
    if kind == "phone":
        assert "STOP" in text and stop_url not in text
    else:
        assert stop_url in text
    if lang == "es":
        assert "lunes" in text and "Recordatorio" in subject and "oficina" in text
    else:
        assert "Monday" in text and "Reminder" in subject
