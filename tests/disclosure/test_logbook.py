"""The gate's one writer to the log (disclosure/logbook.py): recipients by registry id and never by a typed
name, times in the log's format, and per-person commitments that only the salt's holder can link."""

from __future__ import annotations

import datetime as dt

from safeslot.disclosure import logbook


def test_a_recipient_is_named_by_its_registry_id_or_as_unregistered() -> None:
    assert logbook.agency_ref(3) == "agency-3"
    assert logbook.agency_ref(None) == logbook.UNREGISTERED == "unregistered"


def test_times_are_utc_to_the_second() -> None:
    ny = dt.timezone(dt.timedelta(hours=-5))
    assert logbook.rfc3339(dt.datetime(2027, 3, 1, 9, 0, 30, 999, tzinfo=ny)) == "2027-03-01T14:00:30Z"


def test_a_commitment_binds_person_and_request_and_reveals_neither() -> None:
    salt = logbook.new_salt()
    one = logbook.commitment(salt, "person-index-1", 7)
    assert len(one) == 64 and "person-index-1" not in one
    assert one == logbook.commitment(salt, "person-index-1", 7)
    assert one != logbook.commitment(salt, "person-index-1", 8)
    assert one != logbook.commitment(salt, "person-index-2", 7)
    assert one != logbook.commitment(logbook.new_salt(), "person-index-1", 7)
