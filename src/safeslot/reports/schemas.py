"""The shapes the report reads and writes.

The entries the report reads are the typed kinds of `transparency/entries.py` (documented in
docs/log-entries.md); `compute` reads their fields by the models' own names, and
`tests/reports/test_entry_fields.py` checks every name it reads is a field of the model of its
event. `EVENTS` groups the log's event names into what the report counts. The published report's JSON shape is the
`Report` dataclass (fields documented in docs/transparency-report.md).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Final

from safeslot.reports.errors import BadPeriod

# --- what the log says ------------------------------------------------------------------------
# Event names: our name -> the names in the log.
EVENTS: Final[dict[str, frozenset[str]]] = {
    "refused": frozenset({"disclosure.request_refused"}),
    "decision": frozenset({"disclosure.decision"}),
    "review": frozenset({"disclosure.review"}),
    "release": frozenset({"disclosure.release"}),
    "accounting": frozenset({"disclosure.accounting"}),
    "withdrawn": frozenset({"disclosure.withdrawn", "disclosure.expired", "disclosure.closed"}),
    "hold_created": frozenset({"legal_hold.created"}),
    "hold_lifted": frozenset({"legal_hold.lifted"}),
    "agreement_created": frozenset({"sharing_agreement.created"}),
    "agreement_suspended": frozenset({"sharing_agreement.suspended"}),
    "agreement_reinstated": frozenset({"sharing_agreement.reinstated"}),
    "agreement_renewed": frozenset({"sharing_agreement.renewed"}),
    "agreement_expired": frozenset({"sharing_agreement.expired"}),
    "policy_change": frozenset({"policy.change"}),
    "report": frozenset({"report.published"}),
    # Privileged identity events (identity/events.py): counted, never people.
    "privileged": frozenset({
        "identity.change_proposed", "identity.change_rejected", "identity.change_withdrawn",
        "identity.role_granted", "identity.admin_bootstrapped", "identity.role_removed",
        "identity.agency_registered", "identity.official_verified", "identity.agency_key_approved",
        "identity.agency_key_claimed", "identity.hold_lift_approved", "identity.agreement_suspension_approved",
        "identity.agreement_reinstatement_approved", "identity.account_deactivated", "identity.factors_reset",
        "identity.account_enrolled", "identity.office_opened", "identity.office_closed",
    }),
}
# Standing counts of privileged events in the period: report key -> the log's event names.
PRIVILEGED_COUNTS: Final[dict[str, frozenset[str]]] = {
    "privileged_changes_proposed": frozenset({"identity.change_proposed"}),
    "privileged_changes_rejected": frozenset({"identity.change_rejected", "identity.change_withdrawn"}),
    "privileged_roles_granted": frozenset({"identity.role_granted", "identity.admin_bootstrapped"}),
    "privileged_roles_removed": frozenset({"identity.role_removed"}),
    "agencies_registered": frozenset({"identity.agency_registered"}),
    "officials_verified": frozenset({"identity.official_verified"}),
    "agency_keys_issued": frozenset({"identity.agency_key_approved"}),
    "accounts_deactivated": frozenset({"identity.account_deactivated"}),
    "factor_resets": frozenset({"identity.factors_reset"}),
    "offices_opened": frozenset({"identity.office_opened"}),
    "offices_closed": frozenset({"identity.office_closed"}),
}
KIND_OF_EVENT: Final[dict[str, str]] = {name: kind for kind, names in EVENTS.items() for name in names}

# Decision outcomes in the log -> denied or not.
DENY_OUTCOMES: Final = frozenset({"deny", "denied"})
# Review actions in the log.
REVIEW_DENY: Final = frozenset({"deny", "denied"})
REVIEW_NARROW: Final = frozenset({"narrow", "narrowed"})
WITHDRAWN_STATES: Final = frozenset({"withdrawn", "expired"})


# --- what the report says ------------------------------------------------------------------
OUTCOMES: Final = ("denied", "narrowed", "released", "withdrawn", "pending")
OUTCOME_LABELS: Final = {
    "denied": "Denied",
    "narrowed": "Partly given (narrowed)",
    "released": "Given as asked",
    "withdrawn": "Withdrawn or expired",
    "pending": "Pending",
}
FORMAT: Final = "safeslot-transparency-report/v1"

_PERIOD = re.compile(r"^(\d{4})(?:(H[12])|(Q[1-4])|-(0[1-9]|1[0-2]))?$")


@dataclass(frozen=True)
class Period:
    """A reporting period: a year (`2026`), half (`2026H2`), quarter (`2026Q3`) or month (`2026-07`)."""

    label: str
    start: dt.datetime
    end: dt.datetime  # exclusive

    @classmethod
    def parse(cls, text: str) -> Period:
        m = _PERIOD.match(text.strip())
        if not m:
            raise BadPeriod(text)
        year = int(m.group(1))
        if m.group(2):
            first, months = (1 if m.group(2) == "H1" else 7), 6
        elif m.group(3):
            first, months = 3 * (int(m.group(3)[1]) - 1) + 1, 3
        elif m.group(4):
            first, months = int(m.group(4)), 1
        else:
            first, months = 1, 12
        start = dt.datetime(year, first, 1, tzinfo=dt.UTC)
        last = first + months
        end = dt.datetime(year + (last - 1) // 12, (last - 1) % 12 + 1, 1, tzinfo=dt.UTC)
        return cls(text.strip(), start, end)


@dataclass
class Table:
    """One published table. Cells are numbers, the range text or "hidden" (never a raw small number)."""

    id: str
    title: str
    description: str
    row_header: str
    columns: list[str]
    rows: list[dict[str, Any]]  # {"label": str, "cells": [...], "total": ...}
    totals: dict[str, Any]  # {"cells": [...], "total": ...}
    suppressed: bool = True


@dataclass
class CheckpointRef:
    origin: str
    size: int
    root_hash: str  # base64, as in the checkpoint


@dataclass
class Report:
    """The published report. `to_json()` is what is hashed, signed and logged."""

    period: str
    period_start: str
    period_end: str
    complete: bool  # the checkpoint's entries reach past the period's end
    summary: dict[str, Any]
    tables: list[Table]
    standing: dict[str, int]
    policy_changes: list[dict[str, Any]]
    entries_read: int
    entries_skipped: int
    suppression_rule: str
    checkpoint: CheckpointRef | None = None
    format: str = FORMAT
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        tables = [Table(**t) for t in data["tables"]]
        cp = data.get("checkpoint")
        rest = {k: v for k, v in data.items() if k not in {"tables", "checkpoint"}}
        return cls(tables=tables, checkpoint=CheckpointRef(**cp) if cp else None, **rest)
