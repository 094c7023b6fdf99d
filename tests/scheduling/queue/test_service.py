"""Call-next order with qualifications, and a desk's actions, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Appointment, Office
from safeslot.scheduling.queue import service as queue
from safeslot.scheduling.queue.errors import (
    AppointmentNotCheckable,
    LanguageNotOffered,
    OfficeClosed,
    TicketStateConflict,
    TooEarlyToCheckIn,
    TooLateToCheckIn,
)
from safeslot.scheduling.queue.models import QueueTicket
from tests.conftest import NOW
from tests.scheduling.queue.conftest import SETTINGS, book, desk

MIN = dt.timedelta(minutes=1)


def walk_in(session: Session, ring: KeyRing, service: str, language: str | None = None, at: dt.datetime = NOW,
            name: str | None = None) -> QueueTicket:
    return queue.check_in_walk_in(session, ring, "central", service, language, name, at)


def call(session: Session, office: Office, name: str, at: dt.datetime = NOW) -> QueueTicket | None:
    return queue.call_next(session, office, desk(session, name).id, name, at, SETTINGS)


def test_numbers_count_up_per_office_day_and_the_name_is_sealed(
        session: Session, keyring: KeyRing, office: Office) -> None:
    first = walk_in(session, keyring, "card", name="T. P.")
    second = walk_in(session, keyring, "apply", at=NOW + MIN)
    assert (queue.label(first), queue.label(second)) == ("W001", "W002")
    assert first.name_enc is not None and b"T. P." not in first.name_enc
    assert queue.open_name(keyring, first) == "T. P." and second.name_enc is None
    tomorrow = walk_in(session, keyring, "card", at=NOW + dt.timedelta(days=1))
    assert queue.label(tomorrow) == "W001"
    raw = session.execute(text("SELECT name_enc FROM queue_ticket WHERE id = :i"), {"i": first.id}).scalar_one()
    assert b"T. P." not in bytes(raw)


def test_a_desk_calls_only_what_it_serves_in_a_language_it_speaks(
        session: Session, keyring: KeyRing, office: Office) -> None:
    spanish = walk_in(session, keyring, "card", "es", at=NOW - 3 * MIN)
    english = walk_in(session, keyring, "card", at=NOW - 2 * MIN)
    interview = walk_in(session, keyring, "interview", at=NOW - 4 * MIN)
    # Desk E: card, English only: skips the earlier Spanish ticket and the interview
    assert call(session, office, "Desk E") == english
    # Desk C: card and interview, speaks Spanish: the interview came first
    assert call(session, office, "Desk C") == interview
    # Desk A: apply and card, English only: nothing it may call is waiting
    assert call(session, office, "Desk A") is None
    # Desk B: speaks Spanish
    assert call(session, office, "Desk B") == spanish
    assert spanish.desk == "Desk B" and spanish.status == "called" and spanish.first_called_at == NOW


def test_a_language_nobody_serves_a_service_in_goes_to_any_desk_of_that_service(
        session: Session, keyring: KeyRing, office: Office) -> None:
    # Vietnamese: Desks D and F speak it, but neither serves "card"; waiting forever is no answer
    vietnamese = walk_in(session, keyring, "card", "vi")
    assert call(session, office, "Desk E") == vietnamese
    with pytest.raises(LanguageNotOffered):
        walk_in(session, keyring, "card", "fr")


def test_appointments_due_within_the_window_go_before_earlier_walk_ins(
        session: Session, keyring: KeyRing, office: Office) -> None:
    at = NOW + dt.timedelta(minutes=15)  # 09:15 in New York
    appointment = book(session, keyring, "card", at)
    early = book(session, keyring, "card", NOW + dt.timedelta(minutes=45))
    w1 = walk_in(session, keyring, "card", at=NOW - 10 * MIN)
    booked = queue.check_in_appointment(session, "central", appointment.code, NOW, SETTINGS)
    early_ticket = queue.check_in_appointment(session, "central", early.code, NOW, SETTINGS)
    w2 = walk_in(session, keyring, "card", at=NOW + MIN)
    assert queue.label(booked).startswith("A") and appointment.status == "checked-in"
    # at 09:00 the 09:15 appointment is not due within 10 minutes: the walk-in who came first goes first
    assert call(session, office, "Desk E") == w1
    # at 09:06 it is due within the window: called before the walk-in who is waiting
    assert call(session, office, "Desk A", NOW + 6 * MIN) == booked
    # the 09:45 appointment checked in early waits until no walk-in does
    assert call(session, office, "Desk C", NOW + 7 * MIN) == w2
    assert call(session, office, "Desk B", NOW + 8 * MIN) == early_ticket


def test_check_in_windows_and_repeats(session: Session, keyring: KeyRing, office: Office) -> None:
    appointment = book(session, keyring, "apply", NOW + dt.timedelta(hours=2))
    with pytest.raises(TooEarlyToCheckIn):
        queue.check_in_appointment(session, "central", appointment.code, NOW, SETTINGS)
    late = book(session, keyring, "apply", NOW + dt.timedelta(minutes=30))
    with pytest.raises(TooLateToCheckIn):
        queue.check_in_appointment(session, "central", late.code, NOW + dt.timedelta(minutes=46), SETTINGS)
    # a clerk may still check them in that day; a second check-in shows the same ticket
    ticket = queue.check_in_appointment(session, "central", late.code, NOW + dt.timedelta(minutes=46), SETTINGS,
                                        by_clerk=True)
    again = queue.check_in_appointment(session, "central", scheduling.format_code(late.code).lower(),
                                       NOW + dt.timedelta(minutes=47), SETTINGS)
    assert again.id == ticket.id
    cancelled = book(session, keyring, "apply", NOW + dt.timedelta(minutes=60))
    scheduling.cancel(session, cancelled.code, NOW)
    with pytest.raises(AppointmentNotCheckable):
        queue.check_in_appointment(session, "central", cancelled.code, NOW + dt.timedelta(minutes=55), SETTINGS)


def test_recall_no_show_transfer_and_done(session: Session, keyring: KeyRing, office: Office) -> None:
    first = walk_in(session, keyring, "card", at=NOW - 5 * MIN)
    second = walk_in(session, keyring, "card", at=NOW - 4 * MIN)
    e = desk(session, "Desk E")
    assert call(session, office, "Desk E") == first
    with pytest.raises(TicketStateConflict):  # one person at a desk at a time
        call(session, office, "Desk E")
    queue.recall(session, office, first.id, e.id, NOW + MIN)
    assert first.recalls == 1 and first.called_at == NOW + MIN
    # transfer: waits again for "apply", keeping its arrival time, so it is first there
    queue.transfer(session, office, first.id, e.id, "apply", NOW + 2 * MIN)
    assert first.status == "waiting" and first.desk is None
    later_apply = walk_in(session, keyring, "apply", at=NOW - MIN)
    assert call(session, office, "Desk A", NOW + 3 * MIN) == first
    queue.finish(session, office, first.id, desk(session, "Desk A").id, "done", NOW + 9 * MIN)
    assert first.status == "done" and first.finished_at == NOW + 9 * MIN
    assert call(session, office, "Desk E", NOW + 3 * MIN) == second
    queue.finish(session, office, second.id, e.id, "noshow", NOW + 6 * MIN)
    assert second.status == "noshow"
    with pytest.raises(TicketStateConflict):  # not at this desk any more
        queue.finish(session, office, second.id, e.id, "done", NOW + 7 * MIN)
    assert later_apply.status == "waiting"


def test_a_served_appointment_is_fulfilled(session: Session, keyring: KeyRing, office: Office) -> None:
    appointment = book(session, keyring, "card", NOW + dt.timedelta(minutes=15))
    ticket = queue.check_in_appointment(session, "central", appointment.code, NOW + 10 * MIN, SETTINGS)
    assert call(session, office, "Desk E", NOW + 12 * MIN) == ticket
    queue.finish(session, office, ticket.id, desk(session, "Desk E").id, "done", NOW + 20 * MIN)
    stored = session.scalars(select(Appointment).where(Appointment.id == appointment.id)).one()
    assert stored.status == "fulfilled"


def test_leaving_gives_up_the_place(session: Session, keyring: KeyRing, office: Office) -> None:
    ticket = walk_in(session, keyring, "card")
    queue.leave(session, ticket.token, NOW + MIN)
    queue.leave(session, ticket.token, NOW + 2 * MIN)  # a retry, not an error
    assert ticket.status == "left"
    assert call(session, office, "Desk E") is None


def test_no_walk_in_tickets_while_the_office_is_closed(session: Session, keyring: KeyRing, office: Office) -> None:
    walk_in(session, keyring, "card", at=NOW - 29 * MIN)  # a line at the door half an hour before 09:00
    with pytest.raises(OfficeClosed):
        walk_in(session, keyring, "card", at=NOW - 31 * MIN)
    with pytest.raises(OfficeClosed):
        walk_in(session, keyring, "card", at=NOW + dt.timedelta(hours=7, minutes=30))  # 16:30, closing time
    with pytest.raises(OfficeClosed):
        walk_in(session, keyring, "card", at=NOW + dt.timedelta(days=5))  # Saturday
    scheduling.add_closure(session, office, (NOW + dt.timedelta(days=1)).date(), "Holiday", NOW.date())
    with pytest.raises(OfficeClosed):
        walk_in(session, keyring, "card", at=NOW + dt.timedelta(days=1))


def test_a_ticket_left_waiting_is_never_called_on_a_later_day(
        session: Session, keyring: KeyRing, office: Office) -> None:
    stale = walk_in(session, keyring, "card")
    tomorrow = NOW + dt.timedelta(days=1)
    fresh = walk_in(session, keyring, "card", at=tomorrow)
    assert call(session, office, "Desk E", tomorrow) == fresh
    assert call(session, office, "Desk A", tomorrow) is None
    assert stale.status == "waiting"


def test_a_language_counts_only_the_desks_that_speak_it(session: Session, keyring: KeyRing, office: Office) -> None:
    from safeslot.scheduling.queue import views

    svc = scheduling.get_service(session, office, "card")
    # four desks serve "card" (A, B, C, E); two of them (B, C) speak Spanish
    assert views.estimate_for(session, office, svc, 4, NOW, SETTINGS).desks == 4
    assert views.estimate_for(session, office, svc, 4, NOW, SETTINGS, "es").desks == 2
    assert views.estimate_for(session, office, svc, 4, NOW, SETTINGS, "vi").desks == 4  # nobody: any card desk
