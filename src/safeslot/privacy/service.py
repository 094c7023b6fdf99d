"""The staff access log (invariant "staff see what their work needs"): the one writer of access records and alerts.

Every read of a person's data by staff goes through ``record_access``, which
writes one AccessRecord per record read (who, in which role and office, which
record, why, when) in the same transaction as the read. The reads themselves
and the alert rules that watch them are in privacy/reads.py; ``alert`` writes
one alert for auditors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from safeslot.identity.interfaces import Principal
from safeslot.privacy import repository as repo
from safeslot.privacy.errors import UnknownPurpose
from safeslot.privacy.models import AccessAlert, AccessRecord

# front_desk: a clerk's day list; name_lookup: a clerk's look-up by name (with a reason, reads.LOOKUP_REASONS)
PURPOSES = ("front_desk", "name_lookup", "check_in", "reminder", "disclosure_review", "subject_access", "audit")


def record_access(
    session: Session, staff: Principal, record_type: str, record_ids: Sequence[str | int], purpose: str,
    now: dt.datetime, *, role: str | None = None, office_id: int | None = None, reason: str | None = None,
) -> list[AccessAlert]:
    """Write one access record per record read (with the role acted in, the reader's office and the
    reason, as they were at the time). Returns the alerts this write raised: none; the rules are in
    privacy/reads.py, which knows the settings."""
    if purpose not in PURPOSES:
        raise UnknownPurpose(f"Purpose must be one of: {', '.join(PURPOSES)}.")
    office = office_id if office_id is not None else staff.office_id
    for record_id in record_ids:
        session.add(AccessRecord(staff_id=staff.id, record_type=record_type, record_id=str(record_id),
                                 purpose=purpose, at=now, role=role, office_id=office, reason=reason))
    session.flush()
    return []


def alert(session: Session, staff: Principal, rule: str, detail: str, now: dt.datetime) -> AccessAlert:
    """Raise one alert for auditors; `detail` says what happened in words, never a name."""
    return _alert(session, staff, rule, detail, now)


def _alert(session: Session, staff: Principal, rule: str, detail: str, now: dt.datetime) -> AccessAlert:
    alert = AccessAlert(staff_id=staff.id, rule=rule, detail=detail, at=now)
    session.add(alert)
    session.flush()
    return alert


def records(session: Session, start: dt.datetime, end: dt.datetime) -> Sequence[AccessRecord]:
    return repo.records_between(session, start, end)


def alerts(session: Session) -> Sequence[AccessAlert]:
    return repo.alerts(session)
