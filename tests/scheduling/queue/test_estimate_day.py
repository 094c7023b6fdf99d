"""A simulated office day checks the wait estimate against what happened (SQLite and PostgreSQL).

On the Friday before, two desks served 30 people (service times drawn from a log-normal with a
median of 8 minutes); today 40 walk-ins arrive about every 4½ minutes over three
hours and the same two desks call them through ``call_next``. At each check-in the
ticket page's estimate is recorded; afterwards it is compared with each person's
real wait. The random draws are seeded: the day is the same on every run.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
from dataclasses import dataclass

from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling.models import Office
from safeslot.scheduling.queue import service as queue
from safeslot.scheduling.queue import views
from safeslot.scheduling.queue.models import QueueTicket
from tests.conftest import NOW
from tests.scheduling.queue.conftest import SETTINGS, desk

DESKS = ("Desk A", "Desk E")  # both serve "card"; Desks B and C could, but are not calling today
M = dt.timedelta(minutes=1)


def _service_minutes(rng: random.Random) -> float:
    return max(2.0, rng.lognormvariate(2.08, 0.35))  # median e^2.08 ≈ 8 minutes


@dataclass
class Seen:
    ticket: QueueTicket
    low: int
    high: int


def _day(session: Session, ring: KeyRing, office: Office, start: dt.datetime, arrivals: list[float],
         rng: random.Random, estimates: list[Seen] | None) -> None:
    """Run one day minute by minute: arrivals check in, free desks call next, visits end after their draw."""
    members = {name: desk(session, name).id for name in DESKS}
    busy: dict[str, tuple[QueueTicket, dt.datetime]] = {}
    pending = sorted(arrivals)
    minute = 0
    while pending or busy or views.waiting(session, office, start + minute * M):
        now = start + minute * M
        while pending and pending[0] <= minute:
            pending.pop(0)
            ticket = queue.check_in_walk_in(session, ring, "central", "card", None, None, now)
            if estimates is not None:
                shown = views.ticket_status(session, ticket, now, SETTINGS).estimate
                assert shown is not None
                estimates.append(Seen(ticket, shown.low, shown.high))
        for name in DESKS:
            if name in busy and busy[name][1] <= now:
                queue.finish(session, office, busy.pop(name)[0].id, members[name], "done", now)
            if name not in busy:
                called = queue.call_next(session, office, members[name], name, now, SETTINGS)
                if called is not None:
                    busy[name] = (called, now + dt.timedelta(minutes=_service_minutes(rng)))
        minute += 1
        assert minute < 24 * 60, "the simulated day never ended"


def test_the_estimate_holds_against_a_simulated_day(session: Session, keyring: KeyRing, office: Office) -> None:
    rng = random.Random(16)
    yesterday = NOW - dt.timedelta(days=3)  # the Friday before
    _day(session, keyring, office, yesterday, [i * 4.0 for i in range(30)], rng, None)
    arrivals, t = [], 0.0
    while len(arrivals) < 40:
        arrivals.append(t)
        t += rng.expovariate(1 / 4.5)
    seen: list[Seen] = []
    _day(session, keyring, office, NOW, arrivals, rng, seen)

    waits = [((s.ticket.first_called_at or NOW) - s.ticket.checked_in_at) / M for s in seen]
    inside = sum(1 for s, w in zip(seen, waits, strict=True) if s.low - 1 <= w <= s.high + 1)
    errors = [abs((s.low + s.high) / 2 - w) for s, w in zip(seen, waits, strict=True)]
    print(f"simulated day: {len(seen)} walk-ins, waits up to {max(waits):.0f} min (median "
          f"{statistics.median(waits):.0f}); {inside}/{len(seen)} inside the shown range; "
          f"median error of the range's middle {statistics.median(errors):.1f} min; median width "
          f"{statistics.median(s.high - s.low for s in seen)} min")
    assert max(waits) >= 15, "the day had a real queue to estimate"
    assert inside >= 0.7 * len(seen), "most people waited within the range they were shown"
    assert statistics.median(errors) <= 6
    assert statistics.median(s.high - s.low for s in seen) <= 20, "a range too wide to help nobody"
    # the same day judged by a careless estimate (the booked 15 minutes for each person ahead, on all
    # four desks that serve the service) fails the test: it is not a test that cannot fail
    careless = [(a * 15 / 4, (a + 1) * 15 / 4) for a in _aheads(seen)]
    careless_inside = sum(1 for (lo, hi), w in zip(careless, waits, strict=True) if lo - 1 <= w <= hi + 1)
    assert careless_inside < 0.7 * len(seen)


def _aheads(seen: list[Seen]) -> list[int]:
    """People ahead at each check-in, recovered from the order of arrivals and calls."""
    out = []
    for s in seen:
        out.append(sum(1 for other in seen if other.ticket.checked_in_at <= s.ticket.checked_in_at
                       and other.ticket.id != s.ticket.id
                       and (other.ticket.first_called_at or NOW) > s.ticket.checked_in_at))
    return out
