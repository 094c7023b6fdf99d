"""The access log's writer (privacy/service.py): every staff read of a person's record leaves one record
that says who read what, in which role and office, why and when; a read for a purpose not on the list is
refused before anything is written; an alert is kept for auditors with words, never a name.

SQLite only: the SQL is the same on both databases (tests/privacy/test_reads.py and the stories keep
PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.identity.service import Principal
from safeslot.kit.crypto import KeyRing
from safeslot.privacy import service
from safeslot.privacy.errors import UnknownPurpose
from safeslot.privacy.models import AccessRecord
from tests.conftest import NOW, ON_SQLITE
from tests.identity.helpers import make_staff


def _clerk(session: Session, keyring: KeyRing) -> Principal:
    account, _ = make_staff(session, keyring, ["clerk"], "central")
    assert account.office_id is not None
    return Principal("staff", account.id, account.username, frozenset({"clerk"}), account.office_id, 1, "session",
                     "", office_ids=frozenset({account.office_id}))


@ON_SQLITE
def test_each_record_read_leaves_one_access_record_with_who_why_and_when(
    session: Session, keyring: KeyRing, office: str
) -> None:
    clerk = _clerk(session, keyring)
    assert service.record_access(session, clerk, "appointment", [11, 12], "name_lookup", NOW, role="clerk",
                                 reason="phone") == []
    service.record_access(session, clerk, "appointment", [13], "front_desk", NOW + dt.timedelta(hours=1))
    kept = service.records(session, NOW, NOW + dt.timedelta(hours=2))
    assert [(r.record_id, r.purpose, r.role, r.reason, r.staff_id, r.office_id) for r in kept] == [
        ("11", "name_lookup", "clerk", "phone", clerk.id, clerk.office_id),
        ("12", "name_lookup", "clerk", "phone", clerk.id, clerk.office_id),
        ("13", "front_desk", None, None, clerk.id, clerk.office_id),
    ]
    # the window is [start, end): the later read is outside the first hour
    assert [r.record_id for r in service.records(session, NOW, NOW + dt.timedelta(hours=1))] == ["11", "12"]


@ON_SQLITE
def test_a_read_for_a_purpose_not_on_the_list_is_refused_and_writes_nothing(
    session: Session, keyring: KeyRing, office: str
) -> None:
    clerk = _clerk(session, keyring)
    with pytest.raises(UnknownPurpose, match="front_desk"):
        service.record_access(session, clerk, "appointment", [11], "curiosity", NOW)
    assert session.scalar(select(func.count()).select_from(AccessRecord)) == 0


@ON_SQLITE
def test_an_alert_is_kept_for_auditors_newest_first(session: Session, keyring: KeyRing, office: str) -> None:
    clerk = _clerk(session, keyring)
    service.alert(session, clerk, "many-name-lookups", "21 look-ups by name today", NOW)
    service.alert(session, clerk, "bulk-read", "301 people read today", NOW + dt.timedelta(minutes=5))
    assert [(a.rule, a.detail, a.staff_id) for a in service.alerts(session)] == [
        ("bulk-read", "301 people read today", clerk.id),
        ("many-name-lookups", "21 look-ups by name today", clerk.id),
    ]
