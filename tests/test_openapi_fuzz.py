"""Schemathesis over the app's own OpenAPI document: no 5xx, and every answer matches its declared schema.

Runs on both databases, against the demo office with a fixed clock, inside a
transaction that is rolled back. Every operation in the document is covered,
including ones other domains add later, with positive and negative data: at least
3 examples per operation and kind, more for the foundation's own. The operations
are dealt into SHARDS tests so pytest-xdist spreads them over its workers (one
test of them all was the suite's longest, and the slowest worker sets the wall
time). The long run is `make fuzz` (bench/fuzz.py): >= 20,000 cases with every
credential.

Two savings, neither changing what is sent (docs/decisions.md, "The fuzz generates once"):

* Generation is deterministic (``derandomize``) and does not depend on the answers, so a shard's cases
  are generated once per process and the other database is sent the same cases. Both databases' tests
  of a shard are one ``xdist_group``, so they run in the same process.
* An operation with nothing to negate (only free-form string path parameters, no body) made
  Hypothesis give up only after 459 rejected attempts: 60% of this file's time. It gives up sooner
  here (``GIVE_UP``), and the test prints which operations had nothing to negate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from hypothesis.internal.conjecture import engine as hypothesis_engine
from hypothesis.internal.conjecture.engine import _invalid_thresholds
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from safeslot.scheduling import demo as scheduling_demo

BUDGET = 160  # examples per database, over all operations and both modes (at least 3 per operation and mode)
SCHEDULING = ("/api/v1/appointments", "/api/v1/slots", "/api/v1/offices")  # the foundation's own: more examples
SCHEDULING_EXAMPLES = 6
SHARDS = 4  # tests the operations are dealt into, in a fixed order (every operation is in exactly one)
# Not only "no 500": every status code and media type the server sends must be in the document.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# Hypothesis gives up on an operation once it is 99% sure that fewer than 1% of its attempts make a case
# (459 attempts without one). Here: 99% sure that fewer than 5% do (89 attempts), through the engine's
# own formula; monkeypatch fails loudly if a Hypothesis release renames these.
GIVE_UP = _invalid_thresholds(r=0.05, c=0.99)

# (shard, method, path, mode) -> the cases generated in this process, or None: nothing to negate
_GENERATED: dict[tuple[int, str, str, str], list[schemathesis.Case] | None] = {}


@pytest.fixture
def office_weeks() -> int:
    return 1  # the demo office with a week of starts (tests/conftest.py)


def _operations(app: object) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda op: (op.path, op.method.upper()))


def _generate(operation: Any, mode: GenerationMode, examples: int) -> list[schemathesis.Case] | None:
    """The cases Hypothesis makes for one operation and mode, each sent (and checked) as it is made."""
    cases: list[schemathesis.Case] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=examples, deadline=None, database=None, derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        cases.append(case)
        case.call_and_validate(checks=CHECKS)

    try:
        run()
    except Unsatisfiable:  # nothing to negate (no parameters, or only free-form strings)
        return None
    return cases


@pytest.mark.parametrize("shard", [pytest.param(k, marks=pytest.mark.xdist_group(f"fuzz-{k}")) for k in range(SHARDS)])
def test_no_server_errors_and_answers_match_the_schema(
    app_factory: Callable[..., TestClient], office: str, shard: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hypothesis_engine, "INVALID_THRESHOLD_BASE", GIVE_UP[0])
    monkeypatch.setattr(hypothesis_engine, "INVALID_PER_VALID", GIVE_UP[1])
    assert office == scheduling_demo.OFFICE
    app = app_factory().app
    operations = _operations(app)
    assert any(op.path == "/api/v1/appointments" and op.method.upper() == "POST" for op in operations)
    per_operation = max(3, BUDGET // (2 * len(operations)))
    failures: list[str] = []
    skipped: list[str] = []
    for operation in operations[shard::SHARDS]:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            key = (shard, operation.method.upper(), operation.path, mode.value)
            label = f"{operation.method.upper()} {operation.path} ({mode.value})"
            examples = SCHEDULING_EXAMPLES if operation.path.startswith(SCHEDULING) else per_operation
            try:
                if key not in _GENERATED:
                    _GENERATED[key] = _generate(operation, mode, examples)
                else:  # the other database already had them generated: send the same cases here
                    for case in _GENERATED[key] or ():
                        case.call_and_validate(checks=CHECKS, app=app)
            except Exception as exc:  # collect them all, then fail once with every finding
                _GENERATED.pop(key, None)
                failures.append(f"{label}: {exc}")
                continue
            if _GENERATED[key] is None:
                skipped.append(label)
    print(f"nothing to negate in {len(skipped)} operations: {', '.join(skipped)}")
    if failures:
        pytest.fail("\n\n".join(failures[:10]), pytrace=False)
