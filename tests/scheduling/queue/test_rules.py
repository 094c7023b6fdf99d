"""The queue's pure core: calling order, qualification, place and estimate (no database, no clock)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from safeslot.scheduling.queue import rules
from safeslot.scheduling.queue.rules import Desk, Waiting

T0 = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(minutes=10)
M = dt.timedelta(minutes=1)


def walk_in(i: int, minute: int, service: int = 1, language: str | None = None) -> Waiting:
    return Waiting(i, service, language, "walk-in", None, T0 + minute * M)


def appointment(i: int, checked_in: int, due: int, service: int = 1, language: str | None = None) -> Waiting:
    return Waiting(i, service, language, "appointment", T0 + due * M, T0 + checked_in * M)


def test_due_appointments_then_walk_ins_by_arrival_then_early_appointments() -> None:
    tickets = [walk_in(1, -20), appointment(2, -30, 40), walk_in(3, -5), appointment(4, -1, 8), appointment(5, -2, -3)]
    order = [t.id for t in rules.call_order(tickets, T0, WINDOW)]
    assert order == [5, 4, 1, 3, 2]


def test_a_desk_calls_its_services_in_its_languages_or_a_language_nobody_covers() -> None:
    desk = Desk(frozenset({1}), frozenset({"en", "es"}))
    assert rules.can_call(desk, walk_in(1, 0, 1, "es"), frozenset())
    assert not rules.can_call(desk, walk_in(1, 0, 2), frozenset())
    assert not rules.can_call(desk, walk_in(1, 0, 1, "vi"), frozenset())
    assert rules.can_call(desk, walk_in(1, 0, 1, "vi"), frozenset({(1, "vi")}))


tickets = st.lists(
    st.builds(
        Waiting, id=st.integers(1, 10_000), service_id=st.integers(1, 3),
        language=st.sampled_from([None, "es", "vi"]), kind=st.sampled_from(["walk-in", "appointment"]),
        due_at=st.integers(-60, 120).map(lambda m: T0 + m * M),
        queued_at=st.integers(-120, 0).map(lambda m: T0 + m * M),
    ).map(lambda t: t if t.kind == "appointment" else Waiting(t.id, t.service_id, t.language, t.kind, None,
                                                              t.queued_at)),
    max_size=30, unique_by=lambda t: t.id,
)
desks = st.builds(Desk, services=st.frozensets(st.integers(1, 3)),
                  languages=st.frozensets(st.sampled_from(["en", "es", "vi"])).map(lambda s: s | {"en"}))


@given(tickets, desks)
def test_candidates_are_exactly_the_callable_tickets_in_calling_order(ts: list[Waiting], desk: Desk) -> None:
    found = rules.candidates(desk, ts, frozenset(), T0, WINDOW)
    assert {t.id for t in found} == {t.id for t in ts if rules.can_call(desk, t, frozenset())}
    keys = [rules.priority(t, T0, WINDOW) for t in found]
    assert keys == sorted(keys)
    # no walk-in ever goes before another walk-in who came earlier
    walk_ins = [t for t in found if t.kind == "walk-in"]
    assert walk_ins == sorted(walk_ins, key=lambda t: (t.queued_at, t.id))
    # an appointment due within the window goes before every walk-in
    due = [i for i, t in enumerate(found) if t.kind == "appointment" and t.due_at <= T0 + WINDOW]  # type: ignore[operator]
    first_walk_in = next((i for i, t in enumerate(found) if t.kind == "walk-in"), len(found))
    assert all(i < first_walk_in for i in due)


@given(tickets)
def test_the_place_counts_only_the_same_service_ahead(ts: list[Waiting]) -> None:
    order = rules.call_order(ts, T0, WINDOW)
    for position, t in enumerate(order):
        same_before = sum(1 for u in order[:position] if u.service_id == t.service_id)
        assert rules.ahead_of(t, ts, T0, WINDOW) == same_before


def test_the_estimate_is_a_range_from_the_offices_own_pace() -> None:
    history = [6.0, 7.0, 8.0, 8.0, 9.0, 10.0, 12.0]
    e = rules.estimate(4, history, 15, desks=2, min_samples=5)
    assert e.from_history and e.median_service == 8.0
    # quartiles 7.5 and 9.5: 4 ahead * 7.5 / 2 desks = 15; (4 + 1) * 9.5 / 2 = 23.75, rounded up to 25
    assert (e.low, e.high) == (15, 25)
    assert e.low < e.high
    fallback = rules.estimate(0, [5.0], 15, desks=1, min_samples=5)
    assert not fallback.from_history and (fallback.low, fallback.high) == (0, 15)


@given(st.integers(0, 40), st.lists(st.floats(1, 90), max_size=40), st.integers(1, 8))
def test_more_people_ahead_never_shortens_the_estimate(ahead: int, history: list[float], desks: int) -> None:
    now = rules.estimate(ahead, history, 15, desks, 5)
    later = rules.estimate(ahead + 1, history, 15, desks, 5)
    assert 0 <= now.low < now.high and later.low >= now.low and later.high >= now.high
    assert now.low % 5 == 0 and now.high % 5 == 0


def test_wait_bands_and_tally_hold_counts_only() -> None:
    assert [rules.wait_band(m) for m in (None, 0, 4.9, 5, 29, 30, 59.9, 60, 300)] == [
        "", "0-5", "0-5", "5-15", "15-30", "30-60", "30-60", "60+", "60+"]
    counts = rules.tally([rules.Finished(1, "walk-in", "es", "done", 7), rules.Finished(1, "walk-in", "es", "done", 9),
                          rules.Finished(1, "walk-in", "", "noshow", None)])
    assert counts == {(1, "walk-in", "es", "done", "5-15"): 2, (1, "walk-in", "", "noshow", ""): 1}
