"""Bench: the policy decision for a request naming 1,000 people and 5 data categories.

Run from the repository root: `.venv/bin/python bench/decide.py [--runs N]`.

Prints the p50 over the runs of `PolicyEngine.decide` (building the facts included) and,
as the project rule asks, its ratio against a baseline measured in the same run:
`hashlib.sha256` over the serialized request (the facts plus the 1,000 subject
references). The budget is 100 ms for the decision.

For comparison it also times deciding person by person (1,000 calls of 5 categories),
which is what decide() deliberately does not do: no rule depends on which person is
named, so the decision is made once per request (see the module docstring of
safeslot.disclosure.policy). Exits 1 if the decision is not the expected one.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from safeslot.disclosure.policy import (
    Category,
    HoldSets,
    InstrumentType,
    Outcome,
    PolicyEngine,
    Purpose,
    RequestFacts,
    SignerType,
)

ROOT = Path(__file__).resolve().parents[1]
SUBJECTS = 1_000
BUDGET_MS = 100.0


def p50_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm caches and the allocator; not counted
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--profile", default="state", choices=["federal", "state"])
    args = parser.parse_args()

    engine = PolicyEngine.load(ROOT / "policies", args.profile)
    # Opaque references, as the service holds them; the policy core never sees them.
    subjects = [f"subject-{i:04d}" for i in range(SUBJECTS)]
    # A hold on one category, so the answer mixes allows and a named deny.
    holds = HoldSets(
        agencies=frozenset({"other-agency"}),
        purposes=frozenset({Purpose.CIVIL_IMMIGRATION}),
        categories=frozenset({Category.LANGUAGE_ACCOMMODATION}),
    )

    def facts_for(count: int) -> RequestFacts:
        return RequestFacts(
            instrument_type=InstrumentType.COURT_ORDER,
            signer_type=SignerType.JUDGE,
            purpose=Purpose.CRIMINAL,
            agency="fbi",
            categories=tuple(Category),
            named_categories=frozenset(Category),
            subject_count=count,
            holds=holds,
        )

    def decide_request() -> object:
        return engine.decide(facts_for(len(subjects)))

    def decide_per_subject() -> object:
        return [engine.decide(facts_for(1)) for _ in subjects]

    decision = engine.decide(facts_for(len(subjects)))
    expected = dict.fromkeys(Category, Outcome.ALLOW) | {
        Category.LANGUAGE_ACCOMMODATION: Outcome.DENY
    }
    got = {d.category: d.outcome for d in decision.categories}
    if got != expected:
        print(f"WRONG DECISION: {got}", file=sys.stderr)
        return 1

    serialized = json.dumps(
        dataclasses.asdict(facts_for(len(subjects))) | {"subjects": subjects},
        default=sorted,  # frozensets
        sort_keys=True,
    ).encode()

    decide_ms = p50_ms(decide_request, args.runs)
    baseline_ms = p50_ms(lambda: hashlib.sha256(serialized).digest(), args.runs)
    per_subject_ms = p50_ms(decide_per_subject, max(3, args.runs // 5))

    verdict = "ok" if decide_ms < BUDGET_MS else "OVER BUDGET"
    print(
        f"decide: {SUBJECTS:,} subjects x {len(Category)} categories, "
        f"profile {args.profile}, p50 of {args.runs} runs"
    )
    print(
        f"  decide()                    {decide_ms:9.3f} ms  (budget {BUDGET_MS:.0f} ms: {verdict})"
    )
    size = f"{len(serialized):,} bytes serialized"
    print(f"  baseline sha256             {baseline_ms:9.3f} ms  ({size})")
    print(f"  ratio decide / baseline     {decide_ms / baseline_ms:9.1f} x")
    print(
        f"  per-subject decide() x{SUBJECTS:,} {per_subject_ms:9.3f} ms  "
        f"(ratio {per_subject_ms / baseline_ms:,.0f} x; for comparison, not how decide works)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
