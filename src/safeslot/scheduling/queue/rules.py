"""The queue's pure core: who is called next, where a ticket stands, how long it may wait, the day's counts.

No database and no clock: the service passes rows and ``now`` in. Tested exhaustively
in tests/scheduling/queue/test_rules.py (including Hypothesis properties).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

WAIT_BANDS = ((5, "0-5"), (15, "5-15"), (30, "15-30"), (60, "30-60"))
ROUND_MINUTES = 5


@dataclass(frozen=True, slots=True)
class Waiting:
    """A waiting ticket as the calling order sees it."""

    id: int
    service_id: int
    language: str | None  # the primary subtag a visit needs beyond English, or None
    kind: str  # "walk-in" or "appointment"
    due_at: dt.datetime | None
    queued_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Desk:
    """What the person at a desk may serve: services by id and languages (primary subtags)."""

    services: frozenset[int]
    languages: frozenset[str]


def priority(ticket: Waiting, now: dt.datetime, window: dt.timedelta) -> tuple[int, dt.datetime, int]:
    """Sort key of the calling order.

    0. appointments due within the window (or overdue), by their time;
    1. walk-ins, in arrival order;
    2. appointments checked in early, by their time (called early only when nobody else waits).
    """
    if ticket.kind == "appointment" and ticket.due_at is not None:
        group = 0 if ticket.due_at <= now + window else 2
        return group, ticket.due_at, ticket.id
    return 1, ticket.queued_at, ticket.id


def can_call(desk: Desk, ticket: Waiting, uncovered: frozenset[tuple[int, str]]) -> bool:
    """A desk calls a ticket of a service it serves, in a language it speaks.

    ``uncovered`` holds the (service, language) pairs that no active staff member
    of the office serves in that language: such a ticket goes to any desk of the
    service (with an interpreter) rather than waiting forever.
    """
    if ticket.service_id not in desk.services:
        return False
    if ticket.language is None or ticket.language in desk.languages:
        return True
    return (ticket.service_id, ticket.language) in uncovered


def call_order(tickets: Iterable[Waiting], now: dt.datetime, window: dt.timedelta) -> list[Waiting]:
    return sorted(tickets, key=lambda t: priority(t, now, window))


def candidates(
    desk: Desk, tickets: Iterable[Waiting], uncovered: frozenset[tuple[int, str]], now: dt.datetime,
    window: dt.timedelta,
) -> list[Waiting]:
    """The tickets this desk may call, first one first."""
    return [t for t in call_order(tickets, now, window) if can_call(desk, t, uncovered)]


def ahead_of(ticket: Waiting, tickets: Iterable[Waiting], now: dt.datetime, window: dt.timedelta) -> int:
    """How many waiting tickets of the same service will be called before this one."""
    mine = priority(ticket, now, window)
    return sum(1 for t in tickets if t.service_id == ticket.service_id and t.id != ticket.id
               and priority(t, now, window) < mine)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A wait shown as a range of whole minutes (rounded to 5), and what it was computed from."""

    low: int
    high: int
    median_service: float
    desks: int
    from_history: bool


def estimate(
    ahead: int, service_minutes: Sequence[float], default_minutes: float, desks: int, min_samples: int
) -> Estimate:
    """Wait until called: the people ahead, served by ``desks`` in parallel at the office's own pace.

    The pace is the median of recent service times; the range runs from the lower
    quartile for those ahead to the upper quartile for those ahead plus the people
    now at the desks (a desk frees up after a partly served visit). With fewer than
    ``min_samples`` finished visits, the service's booked duration stands in.
    """
    desks = max(1, desks)
    history = len(service_minutes) >= min_samples
    samples = sorted(service_minutes) if history else [float(default_minutes)]
    median = statistics.median(samples)
    if len(samples) >= 4:
        q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    else:
        q1 = q3 = median
    low = ahead * q1 / desks
    high = (ahead + 1) * q3 / desks
    low_r = int(math.floor(low / ROUND_MINUTES) * ROUND_MINUTES)
    high_r = int(math.ceil(high / ROUND_MINUTES) * ROUND_MINUTES)
    return Estimate(low_r, max(high_r, low_r + ROUND_MINUTES), median, desks, history)


def wait_band(minutes: float | None) -> str:
    """The band a wait falls in, for counts; "" when the person was never called."""
    if minutes is None:
        return ""
    for limit, label in WAIT_BANDS:
        if minutes < limit:
            return label
    return "60+"


@dataclass(frozen=True, slots=True)
class Finished:
    """A ticket reduced to what the day's figures count: no name, no number, no time of day."""

    service_id: int
    kind: str
    language: str
    outcome: str
    waited_minutes: float | None


CountKey = tuple[int, str, str, str, str]  # service, kind, language, outcome, wait band


def tally(rows: Iterable[Finished]) -> Counter[CountKey]:
    return Counter((r.service_id, r.kind, r.language, r.outcome, wait_band(r.waited_minutes)) for r in rows)
