"""The access log's queries (privacy/repository.py), which the alert rules and a person's own view read:
how many different people a member of staff read since a time (a re-read is not a new person), how many
look-ups they made, whether a rule already alerted (one alert, not one per read), and every read of one
record, oldest first. SQLite only: the SQL is the same on both databases (tests/privacy/test_reads.py and
test_need_to_know.py keep PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from safeslot.identity.service import Principal
from safeslot.kit.crypto import KeyRing
from safeslot.privacy import repository, service
from tests.conftest import NOW, ON_SQLITE
from tests.identity.helpers import make_staff

HOUR = dt.timedelta(hours=1)


def _staff(session: Session, keyring: KeyRing, name: str) -> Principal:
    account, _ = make_staff(session, keyring, ["clerk"], "central", username=name)
    return Principal("staff", account.id, account.username, frozenset({"clerk"}), account.office_id, 1, "session", "")


@ON_SQLITE
def test_the_counts_the_alert_rules_read(session: Session, keyring: KeyRing, office: str) -> None:
    clerk, other = _staff(session, keyring, "clerk-a"), _staff(session, keyring, "clerk-b")
    service.record_access(session, clerk, "appointment", [1, 2, 2, 3], "front_desk", NOW)
    service.record_access(session, clerk, "appointment", [3, 4], "front_desk", NOW + HOUR)
    service.record_access(session, clerk, "name_lookup", ["q1", "q2"], "name_lookup", NOW + HOUR)
    service.record_access(session, other, "appointment", [5], "front_desk", NOW)
    assert repository.distinct_records_read(session, clerk.id, "appointment", NOW) == 4  # 1, 2, 3, 4
    assert repository.distinct_records_read(session, clerk.id, "appointment", NOW + HOUR) == 2
    assert repository.records_of_type(session, clerk.id, "name_lookup", NOW) == 2
    assert repository.records_of_type(session, clerk.id, "name_lookup", NOW + 2 * HOUR) == 0
    assert repository.distinct_records_read(session, other.id, "appointment", NOW) == 1


@ON_SQLITE
def test_an_alert_already_raised_is_found_for_its_rule_and_staff_only(
    session: Session, keyring: KeyRing, office: str
) -> None:
    clerk, other = _staff(session, keyring, "clerk-a"), _staff(session, keyring, "clerk-b")
    service.alert(session, clerk, "bulk-read", "301 people read today", NOW)
    assert repository.alert_exists(session, clerk.id, "bulk-read", NOW - HOUR)
    assert not repository.alert_exists(session, clerk.id, "bulk-read", NOW + HOUR)  # a new day may alert again
    assert not repository.alert_exists(session, clerk.id, "many-name-lookups", NOW - HOUR)
    assert not repository.alert_exists(session, other.id, "bulk-read", NOW - HOUR)


@ON_SQLITE
def test_a_persons_record_lists_every_read_of_it_oldest_first(session: Session, keyring: KeyRing, office: str) -> None:
    clerk, other = _staff(session, keyring, "clerk-a"), _staff(session, keyring, "clerk-b")
    service.record_access(session, other, "appointment", [7], "check_in", NOW + HOUR)
    service.record_access(session, clerk, "appointment", [7, 8], "front_desk", NOW)
    reads = repository.reads_of(session, "appointment", "7")
    assert [(r.staff_id, r.purpose) for r in reads] == [(clerk.id, "front_desk"), (other.id, "check_in")]
    assert repository.reads_of(session, "queue_ticket", "7") == []
