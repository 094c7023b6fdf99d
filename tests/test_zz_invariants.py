"""Whole-database invariant checks, run at the end of the suite (file name sorts last).

No disclosure without a record: for every disclosure request there is a `disclosure.decision` log
entry, and for every release a `disclosure.release` entry with the package's SHA-256 and
one `disclosure.accounting` entry per accounting row. The check reads the whole database
(the demo is played first so there is something to check) and is shown to catch a
request or a release slipped in behind the gate's back.
"""

from __future__ import annotations

import datetime as dt
import io
import json

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.disclosure import demo
from safeslot.disclosure.models import AccountingEntry, DisclosureRequest, Release
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import demo as scheduling_demo
from safeslot.transparency.models import LogEntry


def violations(session: Session) -> list[str]:
    """Every request and release without its log entries; empty when the invariant holds."""
    logged = [json.loads(row) for row in session.scalars(select(LogEntry.data).order_by(LogEntry.idx))]
    decided = {e.get("request_id") for e in logged if e["event"] == "disclosure.decision"}
    released = {(e.get("request_id"), e.get("package_sha256")) for e in logged if e["event"] == "disclosure.release"}
    by_index = dict(enumerate(logged))
    found = [f"request {r.id} has no decision in the log"
             for r in session.scalars(select(DisclosureRequest)) if r.id not in decided]
    found += [f"release of request {r.request_id} is not in the log"
              for r in session.scalars(select(Release)) if (r.request_id, r.package_sha256) not in released]
    for a in session.scalars(select(AccountingEntry)):
        entry = by_index.get(a.log_index, {})
        if entry.get("event") != "disclosure.accounting" or entry.get("commitment") != a.commitment:
            found.append(f"accounting entry {a.id} is not in the log at {a.log_index}")
    return found


def test_every_request_and_release_is_in_the_log(session: Session, settings: Settings) -> None:
    scheduling_demo.load(session, dt.date.today(), weeks=2)
    demo.load(session, settings, Console(file=io.StringIO()))
    session.flush()
    assert session.scalars(select(Release)).first() is not None
    assert violations(session) == []

    # Try to break it: a request and a release written behind the gate's back are caught.
    request = session.scalars(select(DisclosureRequest)).first()
    assert request is not None
    sneaky = DisclosureRequest(**{c.key: getattr(request, c.key) for c in DisclosureRequest.__table__.columns
                                  if c.key != "id"})
    session.add(sneaky)
    session.flush()
    release = session.scalars(select(Release)).one()
    release.package_sha256 = "0" * 64
    session.flush()
    problems = violations(session)
    assert f"request {sneaky.id} has no decision in the log" in problems
    assert f"release of request {release.request_id} is not in the log" in problems


def test_no_person_is_in_two_overlapping_visits(session: Session, keyring: KeyRing) -> None:
    """Over the whole database, no staff member serves or interprets two visits at once, and
    every visit still to come holds its people for each of its units. Shown to catch a breach."""
    from safeslot.scheduling import service as scheduling
    from safeslot.scheduling.models import Appointment
    from safeslot.scheduling.schemas import BookingIn
    from tests.conftest import NOW
    from tests.scheduling.invariants import people_violations

    scheduling_demo.load(session, NOW.date(), weeks=1)
    at = dt.datetime(2027, 3, 2, 15, 0, tzinfo=dt.UTC)
    for i, (slug, language) in enumerate([("apply", None), ("card", "vi"), ("interview", "es"), ("apply", "vi")]):
        scheduling.book(session, keyring, BookingIn(office="central", service=slug, starts_at=at,
                                                    name=f"Test Person {i}", language=language), NOW)
    session.flush()
    assert people_violations(session) == []

    # Try to break it: a visit written behind the service's back, on a person already serving then.
    first = session.scalars(select(Appointment).order_by(Appointment.id)).first()
    assert first is not None
    sneaky = Appointment(**{c.key: getattr(first, c.key) for c in Appointment.__table__.columns
                            if c.key not in ("id", "code")}, code="SNEAKY0000")
    session.add(sneaky)
    session.flush()
    problems = people_violations(session)
    assert f"staff {first.staff_id} is in appointments {first.id} and {sneaky.id} at once" in problems
    assert any(p.startswith(f"appointment {sneaky.id} does not hold staff") for p in problems)
