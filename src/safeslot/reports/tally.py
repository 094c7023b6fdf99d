"""Reading the log into raw counts: entries in, per-request state out. No database, no clock, no I/O.

`tally(entries, period)` folds the transparency log's entries, in log order, into a `Tally`: each
request with its outcome as at the end of the period, the holds and agreements standing, the
events and policy changes of the period. The counts are raw (small numbers not yet suppressed):
`compute.py` turns them into the published tables, and only tests read a `Tally` directly.
The counting rules are in compute.py's docstring and docs/transparency-report.md.

Entries come as decoded JSON objects, read by the field names of the typed models in
`transparency/entries.py` (`tests/reports/test_entry_fields.py` checks, branch by branch, that each
name read is a field of that kind's model). They are not parsed into the models: the fold reads every
entry of the log, a strict parse costs several times the fold, and a log may hold entries the models
refuse (written by other software, or raw by tools) that the report still counts, under fixed labels.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from safeslot.reports.schemas import (
    DENY_OUTCOMES,
    KIND_OF_EVENT,
    REVIEW_DENY,
    REVIEW_NARROW,
    WITHDRAWN_STATES,
    Period,
)

UNKNOWN = "not stated"


_STAMP = "%Y-%m-%dT%H:%M:%SZ"  # the gate's format (disclosure/logbook.rfc3339)


def stamp(when: dt.datetime) -> str:
    """A UTC time as the log writes it; such strings compare in time order."""
    return when.astimezone(dt.UTC).strftime(_STAMP)


def _time(entry: dict[str, Any]) -> str | None:
    """The entry's time as a UTC stamp, truncated to the second (bounds are whole seconds,
    so truncation never moves an entry across one). The gate's own format is taken as is."""
    raw = entry.get("time")
    if raw.__class__ is str and len(raw) == 20 and raw[19] == "Z" and raw[10] == "T":
        return str(raw)
    if not isinstance(raw, str):
        return None
    try:
        when = dt.datetime.fromisoformat(raw)
    except ValueError:
        return None
    return stamp(when if when.tzinfo else when.replace(tzinfo=dt.UTC))


def _categories(value: Any) -> dict[str, str | None]:
    """Category -> policy outcome (None when the entry lists categories without outcomes)."""
    res: dict[str, str | None] = {}
    if value.__class__ is list:
        for item in value:
            if item.__class__ is dict:
                cat, outcome = item.get("category"), item.get("outcome")
                res[cat if cat.__class__ is str else str(cat)] = outcome if outcome is None else str(outcome)
            else:
                res[str(item)] = None
    elif isinstance(value, dict):
        for cat, v in value.items():
            outcome = v.get("outcome") if isinstance(v, dict) else v
            res[str(cat)] = str(outcome) if outcome is not None else None
    return res


# A request's categories repeat (a few hundred combinations in a log of millions of requests): each
# request holds the one shared, read-only copy, so millions of requests do not hold millions of dicts.
_ASKED: dict[tuple[tuple[str, str | None], ...], Mapping[str, str | None]] = {}
_RELEASED: dict[frozenset[str], frozenset[str]] = {}
_SHARED_MAX = 10_000  # a log of ever new combinations: stay bounded


def _asked(value: Any) -> Mapping[str, str | None]:
    cats = _categories(value)
    key = tuple(cats.items())
    found = _ASKED.get(key)
    if found is None:
        if len(_ASKED) >= _SHARED_MAX:
            _ASKED.clear()
        found = _ASKED[key] = cats
    return found


def _released(value: Any) -> frozenset[str]:
    cats = frozenset(_categories(value))
    found = _RELEASED.get(cats)
    if found is None:
        if len(_RELEASED) >= _SHARED_MAX:
            _RELEASED.clear()
        found = _RELEASED[cats] = cats
    return found


def _count(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, list):
        return len(value)
    return 0


@dataclass(slots=True)
class Request:
    agency: str
    instrument: str
    purpose: str
    people: int
    nda: bool | None
    emergency: bool
    asked: Mapping[str, str | None] = field(default_factory=dict)  # shared between requests: never changed
    refused: bool = False
    denied: bool = False
    narrowed_by_review: bool = False
    withdrawn: bool = False
    released: frozenset[str] | None = None
    released_people: int = 0

    def outcome(self) -> str:
        if self.refused or self.denied:
            return "denied"
        if self.released is not None:
            if self.released >= set(self.asked) and self.released_people >= self.people:
                return "released"
            return "narrowed"
        if self.withdrawn:
            return "withdrawn"
        if self.asked and all((o or "").lower() in DENY_OUTCOMES for o in self.asked.values()):
            return "denied"
        return "pending"

    def category_outcome(self, category: str) -> str:
        policy = (self.asked.get(category) or "").lower()
        if self.refused or self.denied or policy in DENY_OUTCOMES:
            return "denied"
        if self.released is not None:
            return "released" if category in self.released else "narrowed"
        if self.withdrawn:
            return "withdrawn"
        return "pending"


@dataclass
class Tally:
    """Raw counts before suppression (never published as such)."""

    requests: dict[str, Request] = field(default_factory=dict)
    holds: dict[str, bool] = field(default_factory=dict)  # id -> in force
    agreements: dict[str, dict[str, Any]] = field(default_factory=dict)
    events_in_period: Counter[str] = field(default_factory=Counter)
    policy_changes: list[dict[str, Any]] = field(default_factory=list)
    privileged: Counter[str] = field(default_factory=Counter)  # event name -> count in the period
    reviewer_grants: int = 0
    entries_read: int = 0
    entries_skipped: int = 0
    last_time: str | None = None


# A report carries registry ids and enumerated values only. Anything else an entry
# holds (a typed agency name in an old entry, a value no gate writes) is counted under a
# fixed label instead, so no free text reaches the report or its CSV.
_REGISTRY_REF = re.compile(r"agency-[0-9]{1,12}")
_ENUMERATED = re.compile(r"[a-z][a-z_]{0,39}")
UNREGISTERED = "unregistered"


def _agency(value: object) -> str:
    if value is None or value == "":
        return UNKNOWN
    text = str(value)
    return text if _REGISTRY_REF.fullmatch(text) else UNREGISTERED


def _enumerated(value: object) -> str:
    text = str(value or "")
    return text if _ENUMERATED.fullmatch(text) else UNKNOWN


# A log repeats a few dozen agencies and codes millions of times: each string is checked once.
_AGENCY_SEEN: dict[str, str] = {}
_ENUMERATED_SEEN: dict[str, str] = {}


def _checked(value: object, check: Callable[[object], str], seen: dict[str, str]) -> str:
    if type(value) is not str:
        return check(value)
    label = seen.get(value)
    if label is None:
        if len(seen) >= _SHARED_MAX:
            seen.clear()
        label = seen[value] = check(value)
    return label


def _new_request(entry: dict[str, Any]) -> Request:
    instrument = _checked(entry.get("instrument_type"), _enumerated, _ENUMERATED_SEEN)
    nda = entry.get("nondisclosure_order")
    return Request(
        agency=_checked(entry.get("agency"), _agency, _AGENCY_SEEN),
        instrument=instrument,
        purpose=_checked(entry.get("purpose"), _enumerated, _ENUMERATED_SEEN),
        people=_count(entry.get("subjects", 0)),
        nda=None if nda is None else bool(nda),
        emergency=bool(entry.get("emergency")) or instrument == "emergency",
        asked=_asked(entry.get("categories")),
    )


def tally(entries: Iterable[dict[str, Any]], period: Period) -> Tally:
    """Fold the log, in order, into raw counts for `period`."""
    t = Tally()
    refused_seq = 0
    start, end = stamp(period.start), stamp(period.end)
    kinds = KIND_OF_EVENT
    requests = t.requests
    in_period = t.events_in_period
    for entry in entries:
        t.entries_read += 1
        kind = kinds.get(entry.get("event"))  # type: ignore[arg-type]
        if kind is None or kind == "accounting":  # accounting entries hold only commitments
            t.entries_skipped += kind is None
            continue
        when = _time(entry)
        if when is None:
            t.entries_skipped += 1
            continue
        if t.last_time is None or when > t.last_time:
            t.last_time = when
        if when >= end:
            continue  # as at the end of the period
        inside = when >= start
        if inside:
            in_period[kind] += 1
        rid = entry.get("request_id")
        key = None if rid is None else str(rid)
        if kind == "refused":
            if key is None:  # refused before a request existed: each refusal is one request
                refused_seq += 1
                key = f"refused-{refused_seq}"
            if inside and key not in t.requests:
                req = _new_request(entry)
                req.refused = True
                t.requests[key] = req
            elif key in t.requests:
                t.requests[key].refused = True
        elif kind == "decision":
            if key is None:
                t.entries_skipped += 1
                continue
            found = requests.get(key)
            if found is None:
                if not inside:
                    continue  # received in an earlier period: counted there
                found = requests[key] = _new_request(entry)
                continue
            # A reviewer's act is logged as a decision with "stage": "review" (disclosure/review.py).
            acts = {str(entry.get("outcome") or "").lower(), str(entry.get("action") or "").lower()}
            if entry.get("stage") == "review":
                found.denied = found.denied or bool(acts & REVIEW_DENY)
                found.narrowed_by_review = found.narrowed_by_review or bool(acts & REVIEW_NARROW)
            else:
                asked = _asked(entry.get("categories"))
                if asked:
                    found.asked = asked
        elif kind in {"review", "release", "withdrawn"}:
            known = requests.get(key) if key is not None else None
            if known is None:
                continue
            if kind == "review":
                action = str(entry.get("action") or "").lower()
                known.denied = known.denied or action in REVIEW_DENY
                known.narrowed_by_review = known.narrowed_by_review or action in REVIEW_NARROW
            elif kind == "release":
                known.released = _released(entry.get("categories"))
                known.released_people = _count(entry.get("subjects", 0))
            elif kind == "withdrawn":
                status = str(entry.get("status") or "withdrawn").lower()
                known.withdrawn = known.withdrawn or status in WITHDRAWN_STATES
        elif kind in {"hold_created", "hold_lifted"}:
            hold = str(entry.get("hold_id"))
            t.holds[hold] = kind == "hold_created"
        elif kind.startswith("agreement_"):
            aid = str(entry.get("agreement_id"))
            ag = t.agreements.setdefault(aid, {"active": True, "expires_at": None})
            if kind in {"agreement_created", "agreement_reinstated"}:
                ag["active"] = True
            elif kind in {"agreement_suspended", "agreement_expired"}:
                ag["active"] = False
            expires = entry.get("expires_at")
            if isinstance(expires, str):
                ag["expires_at"] = expires
        elif kind == "privileged" and inside:
            name = str(entry.get("event"))
            t.privileged[name] += 1
            if name == "identity.role_granted" and entry.get("role") in {"privacy_officer", "counsel"}:
                t.reviewer_grants += 1
        elif kind == "policy_change" and inside:
            t.policy_changes.append({
                "time": when,
                "step": str(entry.get("step") or "adopted"),
                "profile": str(entry.get("profile") or UNKNOWN),
                "policy_set_hash": str(entry.get("policy_set_hash") or ""),
            })
    return t
