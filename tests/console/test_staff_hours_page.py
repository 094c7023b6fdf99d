"""The supervisor's page for a staff member's working hours and days away: saving moves visits, bad
input writes nothing, Spanish too."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Appointment, Staff, StaffAbsence, StaffHours
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW
from tests.console.conftest import SignIn
from tests.console.conftest import token as form_token
from tests.scheduling.invariants import duty_violations, people_violations

TZ = scheduling.zone("America/New_York")
T = dt.datetime(2027, 3, 2, 10, 0, tzinfo=TZ)  # Tuesday


def _staff(session: Session, name: str) -> Staff:
    return session.scalars(select(Staff).where(Staff.display_name == name)).one()


def test_the_supervisor_sets_hours_and_days_away_and_visits_follow(
    session: Session, staff: SignIn, keyring: KeyRing
) -> None:
    supervisor = staff("supervisor")
    booked = scheduling.book(session, keyring, BookingIn(office="central", service="apply", starts_at=T,
                                                         name="Test Person A"), NOW)
    desk_a = _staff(session, "Desk A")
    assert booked.staff_id == desk_a.id
    url = f"/console/office/central/staff/{desk_a.id}/hours"
    assert url in supervisor.get("/console/office").text
    page = supervisor.get(url)
    assert page.status_code == 200 and "Whenever the office is open" in page.text
    token = form_token(supervisor, url)
    afternoons = {f"opens_{d}_0": "13:00" for d in range(5)} | {f"closes_{d}_0": "16:30" for d in range(5)}

    bad = supervisor.post(url, data={"kind": "own", **afternoons, "opens_1_1": "15:00", "closes_1_1": "14:00",
                                     "csrf_token": token})
    assert bad.status_code == 422 and "The start must be before the end." in bad.text
    overlap = supervisor.post(url, data={"kind": "own", **afternoons, "opens_1_1": "14:00", "closes_1_1": "15:00",
                                         "csrf_token": token})
    assert overlap.status_code == 422 and "Two windows of this day overlap" in overlap.text
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(StaffHours)) == 0 and not desk_a.own_hours

    saved = supervisor.post(url, data={"kind": "own", **afternoons, "csrf_token": token})
    assert saved.status_code == 200 and "The working hours are saved." in saved.text
    assert 'value="13:00"' in saved.text
    session.expire_all()
    assert desk_a.own_hours and session.scalar(select(func.count()).select_from(StaffHours)) == 5
    assert session.get(Appointment, booked.id).staff_id != desk_a.id  # type: ignore[union-attr]

    away = supervisor.post(f"{url.removesuffix('/hours')}/absences", data={
        "first_day": "2027-03-03", "last_day": "", "csrf_token": token})
    assert away.status_code == 200 and "2027" in away.text
    wrong = supervisor.post(f"{url.removesuffix('/hours')}/absences", data={
        "first_day": "2027-03-05", "last_day": "2027-03-04", "csrf_token": token})
    assert wrong.status_code == 422 and "Enter the last day away" in wrong.text
    absence = session.scalars(select(StaffAbsence)).one()
    assert absence.first_day == absence.last_day == dt.date(2027, 3, 3)
    spanish = supervisor.get(f"{url}?lang=es")
    assert "Horario de trabajo" in spanish.text and "Días de ausencia" in spanish.text
    supervisor.get(f"{url}?lang=en")
    removed = supervisor.post(f"{url.removesuffix('/hours')}/absences/{absence.id}/remove",
                              data={"csrf_token": token})
    assert removed.status_code == 200 and "No days away from today on." in removed.text

    back = supervisor.post(url, data={"kind": "office", **afternoons, "csrf_token": token})
    assert back.status_code == 200
    session.expire_all()
    assert not desk_a.own_hours
    assert people_violations(session) == [] and duty_violations(session) == []
    clerk = staff("clerk")
    assert clerk.get(url).status_code == 403
