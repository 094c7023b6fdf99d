"""The accounting of disclosures a person may see (disclosure/accounting.py), 5 U.S.C. 552a(c): found with a
confirmation code and a name, never confirming who has entries; withheld or deferred entries are not shown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from safeslot.disclosure import accounting, service
from safeslot.disclosure.models import AccountingEntry, DisclosureRequest
from safeslot.disclosure.policy import PolicyEngine
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling.models import Appointment
from safeslot.transparency.note import Signer
from tests.conftest import NOW, ON_SQLITE
from tests.disclosure.conftest import TEST_PERSON, approve_and_release


def test_b7_disclosures_are_withheld_from_the_persons_accounting(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment], engine_federal: PolicyEngine,
) -> None:
    person_m = book("Test Person M")
    request = file_request(instrument_type="head_of_agency_request", signer_type="agency_head", court=None,
                           docket=None, categories=["visit_history", "identity"])
    outcomes = {d.category: d.outcome for d in service.view(session, engine_federal, request, NOW).decisions}
    assert outcomes == {"visit_history": "allow_with_counsel_review", "identity": "allow_with_counsel_review"}
    approve_and_release(session, keyring, signer, request.id)
    # 5 U.S.C. 552a(c)(3): the entry is kept (for the log and auditors) but not shown to the person.
    later = NOW + dt.timedelta(days=400)
    assert accounting.lookup(session, keyring, person_m.code, "Test Person M", later).entries == []


def test_an_entry_is_shown_unless_withheld_or_while_its_deferral_runs() -> None:
    assert accounting.visible(AccountingEntry(withheld_b7=False, deferred_until=None), NOW)
    assert not accounting.visible(AccountingEntry(withheld_b7=True, deferred_until=None), NOW)
    deferred = AccountingEntry(withheld_b7=False, deferred_until=NOW + dt.timedelta(days=90))
    assert not accounting.visible(deferred, NOW)
    assert accounting.visible(deferred, NOW + dt.timedelta(days=90))


@ON_SQLITE
def test_a_person_finds_their_entry_with_code_and_name_and_a_wrong_one_finds_nothing(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment],
) -> None:
    visit = book("Test Person 1")
    request = file_request(subjects=TEST_PERSON)
    approve_and_release(session, keyring, signer, request.id)
    found = accounting.lookup(session, keyring, visit.code.lower(), "Test Person 1", NOW)
    assert [(e.request_id, e.categories) for e in found.entries] == [(request.id, ["appointment_schedule"])]
    assert found.entries[0].recipient and found.entries[0].log_index is not None and "552a(c)(3)" in found.note
    for code, name in ((visit.code, "Test Person 2"), ("ZZZZZ-ZZZZZ", "Test Person 1")):
        nothing = accounting.lookup(session, keyring, code, name, NOW)
        assert nothing.entries == [] and nothing.note == found.note  # the same answer as no disclosures
