"""The report reads what the disclosure gate really writes: requests run through the gate's
services, then the log alone is tallied (both databases)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.disclosure import release
from safeslot.disclosure.errors import RequestRefused
from safeslot.disclosure.models import DisclosureRequest
from safeslot.kit.crypto import KeyRing
from safeslot.reports.compute import compute, tally
from safeslot.reports.schemas import Period
from safeslot.scheduling.models import Appointment
from safeslot.transparency.models import LogEntry
from safeslot.transparency.note import Signer
from tests.conftest import NOW
from tests.disclosure.conftest import (  # noqa: F401  (fixtures used by name)
    COUNSEL,
    PRIVACY,
    _seeded_actors,
    agency_id,
    approve,
    book,
    engine_federal,
    file_request,
    signer,
)

PERIOD = Period.parse("2027H1")  # NOW is 2027-03-01


def logged(session: Session) -> list[dict[str, object]]:
    return [json.loads(d) for d in session.scalars(select(LogEntry.data).order_by(LogEntry.idx))]


def test_the_gates_own_entries_give_the_outcomes_it_decided(
    session: Session, keyring: KeyRing, signer: Signer,  # noqa: F811
    file_request: Callable[..., DisclosureRequest], book: Callable[..., Appointment],  # noqa: F811
    agency_id: int,  # noqa: F811
) -> None:
    book("Test Person M")
    denied = file_request(instrument_type="administrative_warrant", signer_type="officer", court=None, docket=None,
                          issuer="DHS ICE", signer_name="Officer Example", purpose="civil_immigration",
                          categories=["identity", "appointment_schedule"])
    released = file_request(non_disclosure_order={"authority": "Order sealing 1:27-mj-00042",
                                                  "expires_at": "2027-06-01T00:00:00Z"})
    approve(session, keyring, PRIVACY, released.id, "privacy_officer", NOW)
    approve(session, keyring, COUNSEL, released.id, "counsel", NOW)
    release.create(session, keyring, signer, released.id, NOW)
    pending = file_request()
    with pytest.raises(RequestRefused):
        file_request(instrument_type="court_order", subjects=[])
    session.flush()

    t = tally(logged(session), PERIOD)
    outcomes = {key: r.outcome() for key, r in t.requests.items()}
    assert outcomes[str(denied.id)] == "denied"
    assert outcomes[str(released.id)] == "released"
    assert outcomes[str(pending.id)] == "pending"
    assert sorted(outcomes.values()) == ["denied", "denied", "pending", "released"]  # + the refusal
    gate = t.requests[str(released.id)]
    assert (gate.agency, gate.instrument, gate.purpose, gate.people, gate.nda) == (
        f"agency-{agency_id}", "judicial_warrant", "criminal", 1, True)
    assert gate.category_outcome("appointment_schedule") == "released"
    assert t.requests[str(denied.id)].category_outcome("identity") == "denied"
    report = compute(logged(session), PERIOD)
    assert report.summary["requests"] == "1–10"  # noqa: RUF001  (the published range)
    assert report.entries_skipped == 0  # every event the gate writes is understood
