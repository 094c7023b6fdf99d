"""Helpers shared by the log tests (no tests here): entries, chained records, tampering."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from safeslot.disclosure.models import AccountingEntry, DisclosureRequest
from safeslot.kit.crypto import KeyRing
from safeslot.privacy.models import AccessAlert, AccessRecord
from tests.identity.helpers import make_staff

NOW_ENTRIES = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
NOW = NOW_ENTRIES


def entries(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {"event": "disclosure.decision", "request_id": f"req-{start + i}", "categories": ["contact"], "people": 1}
        for i in range(n)
    ]


@contextmanager
def triggers_disabled(session: Session, *tables: str) -> Iterator[None]:
    """Remove the append-only guard for one test step (rolled back with the test's transaction).

    Only the schema owner can (an insider with the owner's rights): run the step on
    ``owner_session``; the app's role cannot (tests/test_least_privilege.py).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        for t in tables:
            session.execute(text(f"ALTER TABLE {t} DISABLE TRIGGER USER"))
    else:
        for t in tables:
            session.execute(text(f"DROP TRIGGER {t}_no_update"))
            session.execute(text(f"DROP TRIGGER {t}_no_delete"))
    yield


def chained_records(session: Session, keyring: KeyRing, reads: int = 3, accountings: int = 2) -> None:
    """Staff reads, one alert and accounting entries, written as the app writes them (ORM, no chain code)."""
    staff, _ = make_staff(session, keyring, ["auditor"], username=f"reader-{reads}-{accountings}")
    for i in range(reads):
        session.add(AccessRecord(staff_id=staff.id, record_type="appointment", record_id=str(100 + i),
                                 purpose="front_desk", at=NOW + dt.timedelta(seconds=i)))
    session.add(AccessAlert(staff_id=staff.id, rule="bulk-read", detail="read more than 50 records", at=NOW))
    request = DisclosureRequest(
        agency="Example Agency", instrument_type="court_order", issuer="Example Court", signer_name="Judge Example",
        signer_type="judge", statutes=[], purpose="criminal", categories=["identity"], document=b"%PDF",
        document_sha256="0" * 64, received_at=NOW,
    )
    session.add(request)
    session.flush()
    for i in range(accountings):
        session.add(AccountingEntry(
            request_id=request.id, name_index=f"{i:064x}", disclosed_at=NOW, recipient="Example Agency",
            purpose="criminal", nature="court_order", categories=["identity"], deferred_until=None,
            keep_until=NOW + dt.timedelta(days=5 * 366), salt="ab" * 32, commitment=f"{i + 7:064x}", log_index=i,
        ))
    session.flush()


