"""The pure report: log entries in, published figures out. No database, no clock, no I/O.

`compute(entries, period)` reads the entries of the transparency log in log order
(tally.py folds them into per-request state) and returns the `Report` for the period,
already suppressed (suppress.py): raw small numbers never leave these modules except
through `tally` (for tests).

Counting rules (also in docs/transparency-report.md):

* A request is counted once, in the period of its first entry (the policy decision,
  or the refusal at intake), with its outcome **as at the end of the period**, so a
  report for a closed period says the same thing whenever it is rebuilt.
* Outcome: denied (refused at intake, every category denied by policy, or denied by
  a reviewer); released (every category and person asked for); narrowed (a release
  with fewer categories or people than asked for); withdrawn (withdrawn or expired
  before a release); pending (anything else).
* Per data category: denied (by policy or reviewer), released, narrowed (allowed by
  policy but not in the release), withdrawn, pending.
* Legal holds and sharing agreements "in force" are those standing at the period's
  end, from every entry since the log began; policy changes are those adopted (or
  proposed) during the period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from safeslot.reports import suppress as sup
from safeslot.reports.schemas import OUTCOME_LABELS, OUTCOMES, PRIVILEGED_COUNTS, Period, Report, Table
from safeslot.reports.tally import UNKNOWN, Request, Tally, stamp, tally

__all__ = ["UNKNOWN", "Tally", "compute", "stamp", "tally"]


def _in_force(ag: dict[str, Any], end: dt.datetime) -> bool:
    if not ag["active"]:
        return False
    expires = ag.get("expires_at")
    if not expires:
        return True
    try:
        when = dt.datetime.fromisoformat(expires)
    except ValueError:
        return True
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)) >= end


def _label(value: str | bool | None) -> str:
    if isinstance(value, str):
        return value
    return "yes" if value else "no" if value is False else UNKNOWN


def _rows(counts: dict[str, list[int]]) -> tuple[list[str], list[list[int]]]:
    labels = sorted(counts)
    return labels, [counts[k] for k in labels]


def _aggregate(reqs: Iterable[Request]) -> dict[str, dict[str, list[int]]]:
    """One pass over the requests: each outcome computed once, every table filled."""
    width = len(OUTCOMES)
    index = {o: i for i, o in enumerate(OUTCOMES)}
    out: dict[str, dict[str, list[int]]] = {
        k: {} for k in ("agency", "instrument", "purpose", "nda", "emergency", "people", "category")}
    agency, instrument, purpose, nda, emergency, people, category = out.values()
    for r in reqs:
        o = index[r.outcome()]
        for table, label in ((agency, r.agency), (instrument, r.instrument), (purpose, r.purpose),
                             (nda, _label(r.nda)), (emergency, _label(r.emergency))):
            row = table.get(label)
            if row is None:
                row = table[label] = [0] * width
            row[o] += 1
        prow = people.get(r.agency)
        if prow is None:
            prow = people[r.agency] = [0] * width
        prow[o] += r.people
        for cat in r.asked:
            crow = category.get(cat)
            if crow is None:
                crow = category[cat] = [0] * width
            crow[index[r.category_outcome(cat)]] += 1
    return out


def _table(tid: str, title: str, description: str, row_header: str, labels: list[str],
           done: sup.Suppressed, columns: list[str] | None = None) -> Table:
    return Table(
        id=tid, title=title, description=description, row_header=row_header,
        columns=columns or [OUTCOME_LABELS[o] for o in OUTCOMES],
        rows=[{"label": label, "cells": [c.public() for c in cells], "total": total.public()}
              for label, cells, total in zip(labels, done.cells, done.row_totals, strict=True)],
        totals={"cells": [c.public() for c in done.column_totals] or [0] * len(OUTCOMES),
                "total": done.total.public()},
    )


def _share(part: Any, whole: Any) -> str:
    if isinstance(part, int) and isinstance(whole, int):
        return f"{100 * part / whole:.1f}%" if whole else "0.0%"
    return "not shown (small numbers)"


NDA_LABELS = {"yes": "Under a non-disclosure order", "no": "No non-disclosure order",
              UNKNOWN: "Not stated in the log"}
EMERGENCY_LABELS = {"yes": "Emergency (5 U.S.C. 552a(b)(8))", "no": "Not an emergency"}


def compute(entries: Iterable[dict[str, Any]], period: Period) -> Report:
    """The published report for `period` from the log's entries, in log order."""
    t = tally(entries, period)
    agg = _aggregate(t.requests.values())
    linked = [_rows(agg[a]) for a in ("agency", "instrument", "purpose", "nda", "emergency")]
    done = sup.suppress_linked([cells for _, cells in linked])
    (agency_l, _), (instr_l, _), (purpose_l, _), (nda_l, _), (em_l, _) = linked
    people_l, people_cells = _rows(agg["people"])
    people = sup.suppress(people_cells)
    cat_l, cat_cells = _rows(agg["category"])
    cats = sup.suppress(cat_cells)
    tables = [
        _table("by-agency", "Requests by requesting agency", "Each request counted once, by its outcome.",
               "Agency", agency_l, done[0]),
        _table("people-by-agency", "People named in requests, by agency",
               "The number of people the requests named (a person named twice counts twice).",
               "Agency", people_l, people),
        _table("by-instrument", "Requests by legal instrument", "The written instrument the request came with.",
               "Instrument", instr_l, done[1]),
        _table("by-purpose", "Requests by stated purpose", "The purpose stated on the instrument.",
               "Purpose", purpose_l, done[2]),
        _table("by-category", "Data categories asked for, by outcome",
               "A request asking for three categories counts once in each.", "Data category", cat_l, cats),
        _table("nondisclosure", "Requests under a non-disclosure order",
               "Orders that forbid telling the person, for now.", "Order",
               [NDA_LABELS.get(x, x) for x in nda_l], done[3]),
        _table("emergency", "Emergency requests", "Requests for the health or safety of the person.",
               "Emergency", [EMERGENCY_LABELS.get(x, x) for x in em_l], done[4]),
    ]
    total = done[0].total.public() if done[0].cells else 0
    nda_yes = next((row["total"] for row in tables[5].rows if row["label"] == NDA_LABELS["yes"]), 0)
    em_yes = next((row["total"] for row in tables[6].rows if row["label"] == EMERGENCY_LABELS["yes"]), 0)
    summary = {
        "requests": total,
        "people_named": people.total.public() if people.cells else 0,
        "under_nondisclosure_order": nda_yes,
        "share_under_nondisclosure_order": _share(nda_yes, total),
        "emergency_requests": em_yes,
        "outcomes": dict(zip(OUTCOMES, tables[0].totals["cells"], strict=True)),
    }
    end = period.end
    standing = {
        "legal_holds_in_force": sum(t.holds.values()),
        "legal_holds_created": t.events_in_period["hold_created"],
        "legal_holds_lifted": t.events_in_period["hold_lifted"],
        "sharing_agreements_in_force": sum(_in_force(a, end) for a in t.agreements.values()),
        "sharing_agreements_created": t.events_in_period["agreement_created"],
        "sharing_agreements_suspended": t.events_in_period["agreement_suspended"],
        "sharing_agreements_renewed": t.events_in_period["agreement_renewed"],
        "sharing_agreements_expired": t.events_in_period["agreement_expired"],
        "policy_changes": len(t.policy_changes),
        **{key: sum(t.privileged[n] for n in names) for key, names in PRIVILEGED_COUNTS.items()},
        "reviewer_roles_granted": t.reviewer_grants,
    }
    return Report(
        period=period.label,
        period_start=period.start.isoformat().replace("+00:00", "Z"),
        period_end=period.end.isoformat().replace("+00:00", "Z"),
        complete=t.last_time is not None and t.last_time >= stamp(period.end),
        summary=summary,
        tables=tables,
        standing=standing,
        policy_changes=t.policy_changes,
        entries_read=t.entries_read,
        entries_skipped=t.entries_skipped,
        suppression_rule=sup.RULE,
    )
