"""Calendar files for an appointment (RFC 5545 iCalendar, RFC 5546 iTIP methods).

- UID is derived from the appointment (a keyed hash of its id), so every
  version of the file updates the same calendar entry and the UID reveals
  neither the name nor the confirmation code.
- SEQUENCE is the appointment's ``sequence``; the scheduling service raises it
  on every reschedule and on cancellation (RFC 5546 §2.1.4: a higher SEQUENCE
  replaces the earlier version).
- METHOD:REQUEST for a booked or moved appointment; METHOD:CANCEL with
  STATUS:CANCELLED when it was cancelled (RFC 5546 §3.2.5).
- DTSTART/DTEND carry the office's TZID and the file holds its VTIMEZONE
  (RFC 5545 §3.6.5), so the time is right in any calendar.
- No name, contact, accommodation or code in the file: a calendar is often
  synced to other services (invariant "collect the minimum").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone  # type: ignore[import-untyped]

PRODID = "-//safeslot//public booking//EN"


@dataclass(frozen=True)
class CalendarEntry:
    appointment_id: int
    sequence: int
    status: str
    starts_at: dt.datetime  # aware
    ends_at: dt.datetime
    timezone: str
    summary: str
    location: str
    description: str
    stamp: dt.datetime


def uid(appointment_id: int, secret: str, host: str) -> str:
    digest = hmac.new(secret.encode(), f"appointment:{appointment_id}".encode(), hashlib.sha256).hexdigest()
    return f"{digest[:32]}@{host}"


def build(entry: CalendarEntry, *, secret: str, host: str) -> bytes:
    tz = ZoneInfo(entry.timezone)
    cancelled = entry.status == "cancelled"
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if cancelled else "REQUEST")
    start = entry.starts_at.astimezone(tz)
    cal.add_component(
        Timezone.from_tzinfo(tz, entry.timezone, first_date=start.date().replace(month=1, day=1),
                             last_date=start.date().replace(month=12, day=31))
    )
    event = Event()
    event.add("uid", uid(entry.appointment_id, secret, host))
    event.add("sequence", entry.sequence)
    event.add("dtstamp", entry.stamp.astimezone(dt.UTC))
    event.add("dtstart", start)
    event.add("dtend", entry.ends_at.astimezone(tz))
    event.add("summary", entry.summary)
    event.add("location", entry.location)
    event.add("description", entry.description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    cal.add_component(event)
    return bytes(cal.to_ical())
