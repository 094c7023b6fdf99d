"""Whole-database invariant checks, each over a database its test fills itself (the demo, played first).

They do not run "last": under pytest-xdist (``--dist loadgroup``) a file runs whenever a worker takes it,
and each test here sees only its own rolled-back transaction. What the rest of the suite committed is
checked where it is given back: every database of its own that a test commits to (``fresh_url``) and every
demo site a module's browser stories use is checked for the people invariant when it is dropped
(``people_left_unsound`` in tests/conftest.py, called by ``fresh_url`` and by ``demo_site`` in tests/live.py).

No disclosure without a record: for every disclosure request there is a `disclosure.decision` log
entry, and for every release a `disclosure.release` entry with the package's SHA-256 and
one `disclosure.accounting` entry per accounting row. The check reads the whole database
and is shown to catch a request or a release slipped in behind the gate's back.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.disclosure import demo
from safeslot.disclosure.models import AccountingEntry, DisclosureRequest, Release, ReviewAction
from safeslot.identity import demo as identity_demo
from safeslot.identity.authz import PRIVILEGED_ROLES
from safeslot.identity.models import PrivilegedEvent, RoleGrant, StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import demo as scheduling_demo
from safeslot.scheduling import service as scheduling
from safeslot.transparency.models import LogEntry


def _demo_with_a_release(session: Session, settings: Settings) -> None:
    """The demo office, its staff and the disclosure demo (which ends in a release), loaded through
    the services as `safeslot demo load` does."""
    office = scheduling_demo.load(session, dt.date.today(), weeks=2)
    identity_demo.load(session, settings, Console(file=io.StringIO()),
                       office_id=scheduling.get_office(session, office).id)
    demo.load(session, settings, Console(file=io.StringIO()))
    session.flush()
    assert session.scalars(select(Release)).first() is not None


def violations(session: Session) -> list[str]:
    """Every request and release without its log entries; empty when the invariant holds."""
    logged = [json.loads(row) for row in session.scalars(select(LogEntry.data).order_by(LogEntry.idx))]
    decided = {e.get("request_id") for e in logged if e["event"] == "disclosure.decision"}
    released = {(e.get("request_id"), e.get("package_sha256")) for e in logged if e["event"] == "disclosure.release"}
    by_index = dict(enumerate(logged))
    found = [f"request {r.id} has no decision in the log"
             for r in session.scalars(select(DisclosureRequest)) if r.id not in decided]
    found += [f"release of request {r.request_id} is not in the log"
              for r in session.scalars(select(Release)) if (r.request_id, r.package_sha256) not in released]
    for a in session.scalars(select(AccountingEntry)):
        entry = by_index.get(a.log_index, {})
        if entry.get("event") != "disclosure.accounting" or entry.get("commitment") != a.commitment:
            found.append(f"accounting entry {a.id} is not in the log at {a.log_index}")
    return found


def test_every_request_and_release_is_in_the_log(session: Session, settings: Settings) -> None:
    _demo_with_a_release(session, settings)
    assert violations(session) == []

    # Try to break it: a request and a release written behind the gate's back are caught.
    request = session.scalars(select(DisclosureRequest)).first()
    assert request is not None
    sneaky = DisclosureRequest(**{c.key: getattr(request, c.key) for c in DisclosureRequest.__table__.columns
                                  if c.key != "id"})
    session.add(sneaky)
    session.flush()
    release = session.scalars(select(Release)).one()
    release.package_sha256 = "0" * 64
    session.flush()
    problems = violations(session)
    assert f"request {sneaky.id} has no decision in the log" in problems
    assert f"release of request {release.request_id} is not in the log" in problems


def two_person_violations(session: Session) -> list[str]:
    """Every release has two standing approvals by distinct accounts, each made under a
    reviewer grant that another person approved (not the holder, not the proposer) and that was
    effective (past its cooling-off, not removed) at the approval; and every privileged role an
    account holds has such a grant, with a privileged event in the log."""
    found: list[str] = []
    grants = session.scalars(select(RoleGrant)).all()
    for release in session.scalars(select(Release)):
        approvals = list(session.scalars(select(ReviewAction).where(
            ReviewAction.request_id == release.request_id, ReviewAction.action == "approve",
            ReviewAction.void.is_(False))))
        if len({a.staff_id for a in approvals}) < 2 or len({a.role for a in approvals}) < 2:
            found.append(f"release of request {release.request_id} lacks two approvals by distinct accounts")
        for a in approvals:
            ok = [g for g in grants if g.account_id == a.staff_id and g.role == a.role
                  and g.approved_by is not None and g.approved_by not in (g.account_id, g.proposed_by)
                  and g.effective_at <= a.at and (g.removed_at is None or g.removed_at > a.at)]
            if not ok:
                found.append(f"approval of request {a.request_id} as {a.role} by account {a.staff_id} "
                             "has no grant approved by another person and effective before it")
    for account in session.scalars(select(StaffAccount).where(StaffAccount.active.is_(True))):
        for role in set(account.roles.split()) & PRIVILEGED_ROLES:
            if not any(g.account_id == account.id and g.role == role and g.removed_at is None for g in grants):
                found.append(f"account {account.id} holds {role} without a grant")
    logged = {e.proposal_id for e in session.scalars(select(PrivilegedEvent)) if e.event == "identity.role_granted"}
    for g in grants:
        if g.origin == "proposal" and g.proposal_id not in logged:
            found.append(f"grant {g.id} is not in the log")
    return found


def test_every_release_has_two_approvals_under_grants_approved_by_another_person(
    session: Session, settings: Settings
) -> None:
    _demo_with_a_release(session, settings)
    assert two_person_violations(session) == []

    # Try to break it: a reviewer grant approved by its own holder, an approval made before the
    # grant counted, and a role slipped into an account without any grant are all caught.
    release = session.scalars(select(Release)).one()
    first, second = session.scalars(select(ReviewAction).where(ReviewAction.request_id == release.request_id,
                                                               ReviewAction.action == "approve")).all()
    own = session.scalars(select(RoleGrant).where(RoleGrant.account_id == first.staff_id,
                                                  RoleGrant.role == first.role)).one()
    own.approved_by = own.account_id
    late = session.scalars(select(RoleGrant).where(RoleGrant.account_id == second.staff_id,
                                                   RoleGrant.role == second.role)).one()
    late.effective_at = second.at + dt.timedelta(hours=1)
    clerk = session.scalars(select(StaffAccount).where(StaffAccount.username == "demo-clerk")).one()
    clerk.roles = "clerk counsel"
    session.flush()
    problems = two_person_violations(session)
    assert any(f"by account {first.staff_id} has no grant" in p for p in problems)
    assert any(f"by account {second.staff_id} has no grant" in p for p in problems)
    assert f"account {clerk.id} holds counsel without a grant" in problems


def test_no_person_is_in_two_overlapping_visits(session: Session, keyring: KeyRing) -> None:
    """Over the whole database, no staff member serves or interprets two visits at once, and
    every visit still to come holds its people for each of its units. Shown to catch a breach."""
    from safeslot.scheduling.models import Appointment
    from safeslot.scheduling.schemas import BookingIn
    from tests.conftest import NOW
    from tests.scheduling.invariants import people_violations

    scheduling_demo.load(session, NOW.date(), weeks=1)
    at = dt.datetime(2027, 3, 2, 15, 0, tzinfo=dt.UTC)
    for i, (slug, language) in enumerate([("apply", None), ("card", "vi"), ("interview", "es"), ("apply", "vi")]):
        scheduling.book(session, keyring, BookingIn(office="central", service=slug, starts_at=at,
                                                    name=f"Test Person {i}", language=language), NOW)
    session.flush()
    assert people_violations(session) == []

    # Try to break it: a visit written behind the service's back on a person already serving then is refused
    # by the database itself (migration 0540; tests/scheduling/test_one_visit_at_a_time.py) ...
    first = session.scalars(select(Appointment).order_by(Appointment.id)).first()
    assert first is not None
    copied = {c.key: getattr(first, c.key) for c in Appointment.__table__.columns if c.key not in ("id", "code")}
    nested = session.begin_nested()
    session.add(Appointment(**copied, code="SNEAKY0000"))
    with pytest.raises(IntegrityError):
        session.flush()
    nested.rollback()
    # ... and one the database lets in (that person, free two hours later) but holding no one is caught here.
    later = {"starts_at": first.starts_at + dt.timedelta(hours=2), "ends_at": first.ends_at + dt.timedelta(hours=2)}
    sneaky = Appointment(**{**copied, **later}, code="SNEAKY0001")
    session.add(sneaky)
    session.flush()
    problems = people_violations(session)
    assert any(p.startswith(f"appointment {sneaky.id} does not hold staff {first.staff_id}") for p in problems)
