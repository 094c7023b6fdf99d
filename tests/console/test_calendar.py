"""Calendar files (RFC 5545 / RFC 5546), as a calendar program reads them."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from icalendar import Calendar

from safeslot.console.public.calendar import CalendarEntry, build

ENTRY = CalendarEntry(
    appointment_id=7, sequence=0, status="booked",
    starts_at=dt.datetime(2027, 7, 1, 13, 30, tzinfo=dt.UTC), ends_at=dt.datetime(2027, 7, 1, 14, 0, tzinfo=dt.UTC),
    timezone="America/New_York", summary="Apply for benefits · Central Benefits Office",
    location="100 Example Plaza, Springfield", description="Bring your letters.",
    stamp=dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC),
)


def _parse(data: bytes) -> tuple[Calendar, Calendar]:
    cal = Calendar.from_ical(data)
    return cal, next(c for c in cal.walk("VEVENT"))


def test_a_booking_is_a_request_in_the_office_zone() -> None:
    cal, event = _parse(build(ENTRY, secret="s", host="example.org"))
    assert cal["METHOD"] == "REQUEST" and event["STATUS"] == "CONFIRMED" and event["SEQUENCE"] == 0
    start = event.decoded("DTSTART")
    assert start.tzinfo is not None and str(start.tzinfo) == "America/New_York"
    assert start.hour == 9 and start.minute == 30  # 13:30 UTC is 9:30 EDT on July 1
    zones = [tz["TZID"] for tz in cal.walk("VTIMEZONE")]
    assert zones == ["America/New_York"]
    assert b"DTSTART;TZID=America/New_York:20270701T093000" in build(ENTRY, secret="s", host="example.org")


def test_the_uid_stays_while_the_sequence_grows_and_a_cancel_says_so() -> None:
    _, first = _parse(build(ENTRY, secret="s", host="example.org"))
    moved = replace(ENTRY, sequence=1, starts_at=ENTRY.starts_at + dt.timedelta(days=1),
                    ends_at=ENTRY.ends_at + dt.timedelta(days=1))
    _, second = _parse(build(moved, secret="s", host="example.org"))
    cal, third = _parse(build(replace(moved, sequence=2, status="cancelled"), secret="s", host="example.org"))
    assert first["UID"] == second["UID"] == third["UID"]
    assert (first["SEQUENCE"], second["SEQUENCE"], third["SEQUENCE"]) == (0, 1, 2)
    assert cal["METHOD"] == "CANCEL" and third["STATUS"] == "CANCELLED"


def test_the_uid_depends_on_the_appointment_and_the_secret_only() -> None:
    _, a = _parse(build(ENTRY, secret="s", host="example.org"))
    _, renamed = _parse(build(replace(ENTRY, summary="Other"), secret="s", host="example.org"))
    _, other = _parse(build(replace(ENTRY, appointment_id=8), secret="s", host="example.org"))
    _, elsewhere = _parse(build(ENTRY, secret="t", host="example.org"))
    assert a["UID"] == renamed["UID"]
    assert len({a["UID"], other["UID"], elsewhere["UID"]}) == 3
    assert str(a["UID"]).endswith("@example.org")
