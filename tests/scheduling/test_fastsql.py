"""What the fast path's booking statement answers means for the person booking (scheduling/fastsql.py,
``outcome``): a booking made; the same request sent again with its Idempotency-Key gets the first answer;
the key sent with another body, a time not on the grid or a claim still in flight go to the sync path,
which words them; a full time or a missing interpreter is a refusal; a start only probed is retried. The
statement itself runs against PostgreSQL in tests/scheduling/test_fastpath.py and its plan in
tests/test_query_plans.py."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from safeslot.scheduling.assignment import Candidates
from safeslot.scheduling.fastsql import arrays, outcome

ROW = {"made": None, "prior_hash": None, "prior_status": None, "prior_body": None, "slot_exists": True,
       "picked": None, "open": True, "any_server": True}


def _booking(key: str | None = None, body_hash: str | None = None, probe: bool = False) -> Any:
    return SimpleNamespace(key=key, body_hash=body_hash, probe=probe)


@pytest.mark.parametrize(("booking", "row", "meaning"), [
    (_booking(), {"made": 41}, ("made", None)),
    (_booking("k", "h1"), {"prior_hash": "h1", "prior_status": 201, "prior_body": '{"code":"X"}'},
     ("replay", (201, b'{"code":"X"}'))),
    (_booking("k", "h2"), {"prior_hash": "h1", "prior_status": 201}, None),  # the key, another body
    (_booking(), {"slot_exists": False}, None),  # not a start on the grid: the sync path lists times
    (_booking("k", "h1"), {"picked": 7}, None),  # claimed elsewhere, still in flight
    (_booking(), {"open": False}, ("refused", "slot")),
    (_booking(), {"any_server": False}, ("refused", "slot")),
    (_booking(), {"open": True, "any_server": True}, ("refused", "interpreter")),
    (_booking(probe=True), {}, ("retry", None)),  # found full before, not full now: book it later
    (_booking(probe=True), {"open": False}, ("refused", "slot")),
])
def test_each_answer_of_the_booking_statement_means_one_thing(booking: Any, row: dict[str, Any],
                                                               meaning: tuple[str, Any] | None) -> None:
    assert outcome(booking, {**ROW, **row}) == meaning


def test_the_plans_people_go_as_array_literals_in_preference_order() -> None:
    c = Candidates("card", "es", servers=(12, 3, 40), speaks=(True, False, True), interpreters=(7,))
    assert arrays(c) == ("{12,3,40}", "{t,f,t}", "{7}")
    assert arrays(Candidates("card", None, (), (), ())) == ("{}", "{}", "{}")
