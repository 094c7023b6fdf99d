"""Requests refused before the gate, as counts by reason.

A POST to the intake that the authorization middleware refuses — no credentials, an
invalid credential, an official whose verification is missing, a role that may not file —
never reaches intake, so no `disclosure.request_refused` entry is written for it. It is
counted here per hour and reason (`disclosure_gate_refusal`), and each hour that has
closed is appended to the transparency log once, as

    {"event": "disclosure.refused_before_gate", "period": "2027-03-01T14", "counts": {...}}

with enumerated reasons only: who tried, from where and with what is never kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.disclosure import logbook
from safeslot.disclosure.models import GateRefusal
from safeslot.transparency.interfaces import RefusedBeforeGate

REASONS: Final = {
    "unauthenticated": "no_credentials",
    "credential-invalid": "invalid_credentials",
    "official-not-verified": "unverified_official",
    "role-refused": "wrong_role",
    "csrf-refused": "invalid_credentials",
}


def reason_for(slug: str) -> str:
    return REASONS.get(slug, "other")


def period_of(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H")


def count(session: Session, slug: str, now: dt.datetime) -> None:
    """Count one refusal in this hour, then log every earlier hour not yet logged."""
    period, reason = period_of(now), reason_for(slug)
    row = session.scalars(
        select(GateRefusal).where(GateRefusal.period == period, GateRefusal.reason == reason).with_for_update()
    ).first()
    if row is None:
        session.add(GateRefusal(period=period, reason=reason, count=1, logged=False))
    else:
        row.count += 1
    session.flush()
    flush_closed(session, now)


def flush_closed(session: Session, now: dt.datetime) -> int:
    """Append one log entry per closed hour with unlogged counts; returns how many."""
    current = period_of(now)
    rows = session.scalars(
        select(GateRefusal).where(GateRefusal.logged.is_(False), GateRefusal.period < current)
        .order_by(GateRefusal.period, GateRefusal.reason).with_for_update()
    ).all()
    by_period: dict[str, dict[str, int]] = {}
    for row in rows:
        by_period.setdefault(row.period, {})[row.reason] = row.count
        row.logged = True
    for period, counts in by_period.items():
        logbook.record(session, RefusedBeforeGate(time=logbook.rfc3339(now), period=period, counts=counts), now)
    session.flush()
    return len(by_period)
