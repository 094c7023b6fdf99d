"""Staff console forms: a clerk books on someone's behalf, a supervisor changes their office;
errors as HTMX fragments; the public header links to "Who has seen my records"."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from safeslot.privacy.models import AccessRecord
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Appointment, Closure, Service, SlotCapacity, Staff, WeeklyHours
from tests.conftest import NOW
from tests.console.conftest import TOKEN, SignIn
from tests.console.conftest import token as form_token

START = re.compile(r'name="start" value="([^"]+)"')
CODE = re.compile(r"/console/appointments/([0-9A-Z]{5}-[0-9A-Z]{5})/booked")
TUESDAY = (NOW + dt.timedelta(days=1)).date()  # NOW is Monday 2027-03-01
SATURDAY = (NOW + dt.timedelta(days=5)).date()


def _count(session: Session, model: type[object]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _free(session: Session, service: str, day: dt.date) -> list[scheduling.FreeSlot]:
    return scheduling.search_slots(session, "central", service, day, day, None, NOW)[2]


# -- clerk: book on someone's behalf -------------------------------------------------------------
def test_the_clerk_books_for_someone_and_reads_the_code(session: Session, staff: SignIn) -> None:
    clerk = staff("clerk")
    assert 'href="/console/appointments/new"' in clerk.get("/console/appointments").text
    page = clerk.get("/console/appointments/new", params={"service": "apply", "day": TUESDAY.isoformat()})
    assert page.status_code == 200 and "Book for someone" in page.text
    starts = START.findall(page.text)
    assert starts, "the free times of the clerk's office are offered"
    token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    answer = clerk.post("/console/appointments/new", follow_redirects=False, data={
        "service": "apply", "day": TUESDAY.isoformat(), "start": starts[0], "name": "M. E.",
        "language": "es", "accommodation": "A quiet room", "csrf_token": token})
    assert answer.status_code == 303, answer.text
    code = CODE.fullmatch(answer.headers["location"]).group(1)  # type: ignore[union-attr]
    confirmation = clerk.get(answer.headers["location"])
    assert confirmation.status_code == 200 and code in confirmation.text
    assert "Read this confirmation code to the person" in confirmation.text and "M. E." not in confirmation.text
    booked = scheduling.get_by_code(session, code)
    assert booked.status == "booked" and booked.language == "es" and booked.accommodation_enc is not None
    spanish = clerk.get(answer.headers["location"] + "?lang=es")
    assert "Lea este código" in spanish.text


def test_the_clerk_booking_follows_the_same_rules(session: Session, staff: SignIn) -> None:
    clerk = staff("clerk")
    page = clerk.get("/console/appointments/new", params={"service": "apply", "day": TUESDAY.isoformat()})
    start, token = START.findall(page.text)[0], TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    form = {"service": "apply", "day": TUESDAY.isoformat(), "start": start, "csrf_token": token}
    nameless = clerk.post("/console/appointments/new", data=form)
    assert nameless.status_code == 422 and "Enter your name or your initials." in nameless.text
    no_consent = clerk.post("/console/appointments/new",
                            data={**form, "name": "M. E.", "contact_kind": "phone", "contact": "555-0100"})
    assert no_consent.status_code == 422 and "check the box above" in no_consent.text
    for bad, message in (  # control characters: refused as the API refuses them, never a 500
            ({"name": "M.\u202eE."}, "Check your answers and try again."),
            ({"name": "M. E.", "accommodation": "A ramp\x1b[2J"}, "Check your answers and try again."),
            ({"name": "M. E.", "reminders": "yes", "contact_kind": "email", "contact": "m\x01@example.org"},
             "Enter an email address like name@example.com."),
            ({"name": "M. E.", "reminders": "yes", "contact_kind": "email", "contact": "m" * 300 + "@example.org"},
             "Check your answers and try again.")):  # past the API's 254 characters
        refused = clerk.post("/console/appointments/new", data={**form, **bad})
        assert refused.status_code == 422 and message in refused.text, bad
    assert _count(session, Appointment) == 0, "nothing is booked on bad input"
    session.execute(update(SlotCapacity).values(booked=SlotCapacity.capacity).where(
        SlotCapacity.starts_at == dt.datetime.fromisoformat(start).astimezone(dt.UTC)))
    session.flush()
    full = clerk.post("/console/appointments/new", data={**form, "name": "M. E."})
    assert full.status_code == 409 and "Nearest free times" in full.text
    nearest = START.findall(full.text)
    assert nearest and start not in nearest
    assert _count(session, Appointment) == 0
    forged = clerk.post("/console/appointments/new", data={**form, "name": "M. E.", "csrf_token": "x"})
    assert forged.status_code == 403


# -- supervisor: services, staff, hours, closures ------------------------------------------------
def test_the_supervisor_adds_a_service_and_staff_and_slots_open(session: Session, staff: SignIn) -> None:
    supervisor = staff("supervisor")
    token = form_token(supervisor, "/console/office")
    added = supervisor.post("/console/office/central/services", data={
        "service_slug": "renew-id", "service_name": "Renew an ID", "service_description": "Bring the old card.",
        "service_minutes": "30", "csrf_token": token})
    assert added.status_code == 200 and "The office is updated." in added.text and "Renew an ID" in added.text
    assert _free(session, "renew-id", TUESDAY) == [], "nobody serves it yet"
    member = supervisor.post("/console/office/central/staff", data={
        "member_name": "Test Person N", "member_languages": "en es", "member_services": ["renew-id", "apply"],
        "csrf_token": token})
    assert member.status_code == 200 and "Test Person N" in member.text
    assert _free(session, "renew-id", TUESDAY), "a staff member who serves it opens free times"
    later = _free(session, "renew-id", TUESDAY + dt.timedelta(weeks=7))
    assert later, "the next 8 weeks are generated"


def test_the_supervisor_sets_hours_and_adds_a_closure(session: Session, staff: SignIn) -> None:
    supervisor = staff("supervisor")
    token = form_token(supervisor, "/console/office")
    assert _free(session, "apply", SATURDAY) == []
    hours = supervisor.post("/console/office/central/hours", data={
        "hours_weekday": "5", "hours_opens": "10:00", "hours_closes": "12:00", "csrf_token": token})
    assert hours.status_code == 200 and "The office is updated." in hours.text
    assert len(_free(session, "apply", SATURDAY)) > 0, "Saturday hours open Saturday times"
    assert _free(session, "apply", TUESDAY)
    closed = supervisor.post("/console/office/central/closures", data={
        "closure_day": TUESDAY.isoformat(), "closure_reason": "Staff training", "csrf_token": token})
    assert closed.status_code == 200 and "Staff training" in closed.text
    assert _free(session, "apply", TUESDAY) == [], "a closure closes the day's times"


def test_the_supervisor_takes_hours_away_opens_a_day_again_and_changes_a_staff_member(
    session: Session, staff: SignIn
) -> None:
    supervisor = staff("supervisor")
    token = form_token(supervisor, "/console/office")
    supervisor.post("/console/office/central/hours", data={
        "hours_weekday": "5", "hours_opens": "10:00", "hours_closes": "12:00", "csrf_token": token})
    overlap = supervisor.post("/console/office/central/hours", data={
        "hours_weekday": "5", "hours_opens": "11:00", "hours_closes": "13:00", "csrf_token": token})
    assert overlap.status_code == 422 and "already open at some of that time" in overlap.text
    saturday = session.scalars(select(WeeklyHours).where(WeeklyHours.weekday == 5)).one()
    page = supervisor.get("/console/office")
    assert f'/console/office/central/hours/{saturday.id}/remove' in page.text
    removed = supervisor.post(f"/console/office/central/hours/{saturday.id}/remove", data={"csrf_token": token})
    assert removed.status_code == 200 and "The office is updated." in removed.text
    assert _free(session, "apply", SATURDAY) == [] and _count(session, WeeklyHours) == 5

    supervisor.post("/console/office/central/closures", data={
        "closure_day": TUESDAY.isoformat(), "closure_reason": "Staff training", "csrf_token": token})
    twice = supervisor.post("/console/office/central/closures", data={
        "closure_day": TUESDAY.isoformat(), "closure_reason": "Again", "csrf_token": token})
    assert twice.status_code == 422 and "already closed that day" in twice.text
    past = supervisor.post("/console/office/central/closures", data={
        "closure_day": (TUESDAY - dt.timedelta(days=7)).isoformat(), "closure_reason": "Late", "csrf_token": token})
    assert past.status_code == 422 and "That day is in the past" in past.text
    closure = session.scalars(select(Closure)).one()
    opened = supervisor.post(f"/console/office/central/closures/{closure.id}/remove", data={"csrf_token": token})
    assert opened.status_code == 200 and "Staff training" not in opened.text
    assert _free(session, "apply", TUESDAY), "the day is open again"

    desk_b = session.scalars(select(Staff).where(Staff.display_name == "Desk B")).one()
    form = supervisor.get(f"/console/office/central/staff/{desk_b.id}")
    assert form.status_code == 200 and 'value="en es"' in form.text and "Works at this office now" in form.text
    spanish = supervisor.get(f"/console/office/central/staff/{desk_b.id}?lang=es")
    assert "Trabaja ahora en esta oficina" in spanish.text
    supervisor.get("/console/office?lang=en")
    bad = supervisor.post(f"/console/office/central/staff/{desk_b.id}", data={
        "member_languages": "Spanish", "member_services": ["apply"], "member_active": "yes", "csrf_token": token})
    assert bad.status_code == 422 and "Enter language codes" in bad.text
    left = supervisor.post(f"/console/office/central/staff/{desk_b.id}", data={
        "member_languages": "en es", "member_services": ["apply", "card", "interview"], "csrf_token": token})
    assert left.status_code == 200 and "Desk B (no longer works here)" in left.text
    session.expire_all()
    assert session.get(Staff, desk_b.id).active is False  # type: ignore[union-attr]
    slot = session.scalars(select(SlotCapacity).join(Service).where(
        Service.slug == "interview", SlotCapacity.starts_at > NOW).order_by(SlotCapacity.starts_at)).first()
    assert slot is not None and slot.capacity == 3, "four interviewers, one left: three places a time"
    other = supervisor.get("/console/office/central/staff/999999")
    assert other.status_code == 404


def test_the_supervisor_writes_a_services_spanish_name(session: Session, staff: SignIn) -> None:
    supervisor = staff("supervisor")
    office = supervisor.get("/console/office").text
    assert "Solicitar beneficios" in office and 'href="/console/office/central/services/card"' in office
    page = supervisor.get("/console/office/central/services/card")
    assert page.status_code == 200 and 'value="Reponer una tarjeta"' in page.text
    token = form_token(supervisor, "/console/office/central/services/card")
    too_long = supervisor.post("/console/office/central/services/card", data={
        "name_es": "x" * 201, "description_es": "Una tarjeta.", "csrf_token": token})
    assert too_long.status_code == 422 and "Enter a name of at most 200 characters." in too_long.text
    half = supervisor.post("/console/office/central/services/card", data={
        "name_es": "Tarjeta", "description_es": "", "csrf_token": token})
    assert half.status_code == 422, "a name needs its description"
    saved = supervisor.post("/console/office/central/services/card", data={
        "name_es": "Tarjeta de reemplazo", "description_es": "Una tarjeta nueva.", "csrf_token": token})
    assert saved.status_code == 200 and "Tarjeta de reemplazo" in saved.text
    assert "Tarjeta de reemplazo" in supervisor.get("/?lang=es").text
    assert supervisor.get("/console/office/central/services/nope").status_code == 404


def test_bad_input_shows_the_fields_and_writes_nothing(session: Session, staff: SignIn) -> None:
    supervisor = staff("supervisor")
    token = form_token(supervisor, "/console/office")
    before = (_count(session, Service), _count(session, Staff), _count(session, WeeklyHours),
              _count(session, Closure))
    service = supervisor.post("/console/office/central/services", data={
        "service_slug": "Bad Slug", "service_name": "", "service_description": "x", "service_minutes": "20",
        "csrf_token": token})
    assert service.status_code == 422
    assert all(text in service.text for text in (
        "Use lowercase letters, digits and dashes", "Enter a name of at most 200", "Enter minutes in steps of 15"))
    duplicate = supervisor.post("/console/office/central/services", data={
        "service_slug": "apply", "service_name": "Again", "service_description": "x", "service_minutes": "30",
        "csrf_token": token})
    assert duplicate.status_code == 422 and "already has a service with that code" in duplicate.text
    member = supervisor.post("/console/office/central/staff", data={
        "member_name": "Test Person N", "member_languages": "English", "member_services": ["nowhere"],
        "csrf_token": token})
    assert member.status_code == 422 and "Enter language codes" in member.text and "Choose at least one" in member.text
    hours = supervisor.post("/console/office/central/hours", data={
        "hours_weekday": "5", "hours_opens": "12:00", "hours_closes": "10:00", "csrf_token": token})
    assert hours.status_code == 422 and "must be after the opening time" in hours.text
    closure = supervisor.post("/console/office/central/closures", data={
        "closure_day": "next week", "closure_reason": "", "csrf_token": token})
    assert closure.status_code == 422 and "Enter a date like" in closure.text and "Enter a reason" in closure.text
    spanish = supervisor.post("/console/office/central/closures?lang=es", data={
        "closure_day": "", "closure_reason": "", "csrf_token": token})
    assert spanish.status_code == 422 and 'lang="es"' in spanish.text and "Enter a reason" not in spanish.text
    session.expire_all()
    assert before == (_count(session, Service), _count(session, Staff), _count(session, WeeklyHours),
                      _count(session, Closure))


def test_a_supervisor_cannot_change_another_office(session: Session, staff: SignIn) -> None:
    scheduling.add_office(session, "north", "North Office Example", "1 Example Road", "America/New_York")
    session.flush()
    supervisor = staff("supervisor")
    token = form_token(supervisor, "/console/office")
    answer = supervisor.post("/console/office/north/closures", data={
        "closure_day": TUESDAY.isoformat(), "closure_reason": "Training", "csrf_token": token})
    # another office answers as an unknown one (404), not "forbidden": no existence oracle
    assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]
    assert _count(session, Closure) == 0
    assert staff("clerk").post("/console/office/central/closures", data={
        "closure_day": TUESDAY.isoformat(), "closure_reason": "Training"}).status_code == 403


# -- errors as HTMX fragments --------------------------------------------------------------------
def test_errors_are_fragments_for_htmx_and_pages_otherwise(client: TestClient, office: str,
                                                           staff: SignIn) -> None:
    page = client.get("/manage/ZZZZZ-ZZZZZ")
    assert page.status_code == 404 and "<html" in page.text and "We could not find" in page.text
    fragment = client.get("/manage/ZZZZZ-ZZZZZ", headers={"HX-Request": "true"})
    assert fragment.status_code == 404 and "text/html" in fragment.headers["content-type"]
    assert "<html" not in fragment.text and 'role="alert"' in fragment.text and "We could not find" in fragment.text
    clerk = staff("clerk")
    token = form_token(clerk, "/console/appointments")
    staff_fragment = clerk.post("/console/appointments/ZZZZZ-ZZZZZ/status", headers={"HX-Request": "true"},
                                data={"status": "checked-in", "csrf_token": token})
    assert staff_fragment.status_code == 404 and "<html" not in staff_fragment.text
    assert 'role="alert"' in staff_fragment.text


# -- the public header ---------------------------------------------------------------------------
def test_the_header_links_to_who_has_seen_my_records(client: TestClient, office: str) -> None:
    english = client.get("/")
    assert '<a href="/records">Who has seen my records</a>' in english.text
    spanish = client.get("/?lang=es")
    assert '<a href="/records">Quién ha visto mis datos</a>' in spanish.text


def test_the_office_page_lists_the_people_to_contact_when_a_staff_change_leaves_a_visit_unserved(
    session: Session, staff: SignIn, keyring: object
) -> None:
    """Every apply desk is busy at 10:00; Desk B stops serving apply, so one visit has no one."""
    from safeslot.kit.crypto import KeyRing
    from safeslot.scheduling.schemas import BookingIn, Contact, ContactKind

    assert isinstance(keyring, KeyRing)
    at = dt.datetime.combine(TUESDAY, dt.time(10, 0), scheduling.zone("America/New_York"))
    for i in range(4):
        scheduling.book(session, keyring, BookingIn(
            office="central", service="apply", starts_at=at, name=f"Test Person {i}",
            contact=Contact(kind=ContactKind.phone, value=f"555-010{i}"), reminders_opt_in=True), NOW)
    session.flush()
    supervisor = staff("supervisor")
    assert "to-contact" not in supervisor.get("/console/office").text
    desk_b = session.scalars(select(Staff).where(Staff.display_name == "Desk B")).one()
    changed = supervisor.post(f"/console/office/central/staff/{desk_b.id}", data={
        "member_languages": "en es", "member_services": ["card", "interview"], "member_active": "yes",
        "csrf_token": form_token(supervisor, "/console/office")}, follow_redirects=True)
    assert changed.status_code == 200, changed.text
    page = supervisor.get("/console/office", headers={"accept-language": "es"}).text
    assert "Citas que nadie puede atender" in page and 'id="to-contact"' in page
    [row] = re.findall(r'<table class="usa-table" id="to-contact">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert row.count("<tr>") == 1 and "Test Person" in row and "555-010" in row
    # each showing of the name is in the access log, as the supervisor's front-desk read of that visit
    reads = session.execute(select(AccessRecord.record_type, AccessRecord.purpose)).all()
    assert reads == [("appointment", "front_desk")] * 2, "one read when the list appeared, one for this page"
    # a clerk of the office does not see the office page at all
    assert staff("clerk").get("/console/office").status_code == 403


def test_a_supervisors_change_reaches_days_already_open_beyond_eight_weeks(session: Session, staff: SignIn) -> None:
    # The console and the API re-open slots by one rule (scheduling.service.reopen_slots): up to the later
    # of 8 weeks and the last slot already open, so no open day keeps the old hours.
    office = scheduling.get_office(session, "central")
    far_saturday = SATURDAY + dt.timedelta(weeks=11)
    scheduling.generate_slots(session, office, TUESDAY, far_saturday + dt.timedelta(days=3))
    assert _free(session, "apply", far_saturday + dt.timedelta(days=3)), "the office is open 11 weeks ahead"
    assert _free(session, "apply", far_saturday) == []
    supervisor = staff("supervisor")
    token = form_token(supervisor, "/console/office")
    hours = supervisor.post("/console/office/central/hours", data={
        "hours_weekday": "5", "hours_opens": "10:00", "hours_closes": "12:00", "csrf_token": token})
    assert hours.status_code == 200 and "The office is updated." in hours.text
    assert _free(session, "apply", SATURDAY) and _free(session, "apply", far_saturday)
