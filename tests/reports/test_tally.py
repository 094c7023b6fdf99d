"""Reading the log into raw counts (reports/tally.py): each request's state as at the end of the period,
from its entries in log order. Pure: entries in, counts out; the published tables are in test_compute.py."""

from __future__ import annotations

import datetime as dt

from safeslot.reports.compute import compute
from safeslot.reports.schemas import Period
from safeslot.reports.tally import stamp, tally
from tests.reports import entries as E

H2 = Period.parse("2026H2")
T0 = dt.datetime(2026, 8, 3, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def test_outcome_is_as_at_the_end_of_the_period() -> None:
    end = H2.end
    log = [E.decision(1, end - DAY), E.release(1, end + DAY, ("appointment_schedule",))]
    t = tally(log, H2)
    assert [r.outcome() for r in t.requests.values()] == ["pending"]
    assert compute(log, Period.parse("2027H1")).summary["requests"] == 0  # counted in the period it arrived


def test_outcomes_denied_by_review_withdrawn_and_narrowed_by_people() -> None:
    log = [E.decision(1, T0), E.review_deny(1, T0 + DAY),
           E.decision(2, T0, people=3), E.release(2, T0 + DAY, ("appointment_schedule",), people=2),
           E.decision(3, T0), {"event": "disclosure.withdrawn", "time": E.iso(T0 + DAY), "request_id": 3},
           E.decision(4, T0, allow=("identity", "contact"))]
    t = tally(log, H2)
    assert {k: r.outcome() for k, r in t.requests.items()} == {"1": "denied", "2": "narrowed", "3": "withdrawn",
                                                               "4": "pending"}


def test_the_log_time_format_compares_in_time_order_whatever_the_zone() -> None:
    ny = dt.timezone(dt.timedelta(hours=-5))
    assert stamp(dt.datetime(2026, 8, 3, 4, 30, tzinfo=ny)) == "2026-08-03T09:30:00Z"
    assert stamp(T0) < stamp(T0 + dt.timedelta(seconds=1)) < stamp(T0 + DAY)


def test_an_entry_outside_the_period_or_of_an_unknown_kind_is_not_counted() -> None:
    log = [E.decision(1, H2.start - DAY), E.decision(2, T0), {"event": "something.new", "time": E.iso(T0)}]
    assert list(tally(log, H2).requests) == ["2"]
