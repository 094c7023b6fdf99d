"""Reminders through the outbox, on SQLite and PostgreSQL: once each, in the booking language, never
after a cancellation or a STOP; failures retried with backoff, then dead letters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.kit.crypto import KeyRing
from safeslot.notifications import outbox, reminders
from safeslot.notifications.models import OutboxMessage
from safeslot.notifications.outbox import Tally
from safeslot.notifications.senders import Router, TryLater
from safeslot.scheduling import reminders as appointments
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Appointment
from tests.notifications.conftest import Recorder

NY = ZoneInfo("America/New_York")
MONDAY_AFTER_DST = dt.date(2027, 3, 15)


def _messages(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_two_days_and_two_hours_before_each_once_at_office_time_across_dst(
    session: Session, book: Callable[..., Appointment], run: Callable[..., Tally], recorder: Recorder,
) -> None:
    appointment = book(MONDAY_AFTER_DST)
    local = appointment.starts_at.astimezone(NY)
    two_days = (local.replace(tzinfo=None) - dt.timedelta(days=2)).replace(tzinfo=NY)  # Saturday, still EST
    assert appointment.starts_at - two_days == dt.timedelta(hours=47)

    assert run(two_days - dt.timedelta(minutes=1)).sent == 0
    assert run(two_days).sent == 1
    assert run(two_days + dt.timedelta(hours=1)).sent == 0  # at most once
    assert run(appointment.starts_at - dt.timedelta(hours=2, minutes=1)).sent == 0
    assert run(appointment.starts_at - dt.timedelta(hours=2)).sent == 1
    assert run(appointment.starts_at - dt.timedelta(hours=1)).sent == 0
    assert run(appointment.starts_at + dt.timedelta(hours=1)).sent == 0
    assert len(recorder.sent) == 2
    first = recorder.sent[0]
    assert first.contact_kind == "phone" and first.address == "555-0100"
    assert f"{local:%-I}:00" in first.text and "Monday, March 15, 2027" in first.text
    assert "Test Person A" not in first.text and appointment.code not in first.text
    assert "STOP" in first.text


def test_reminders_are_installed_once_however_often_the_shells_register_them(
    session: Session, book: Callable[..., Appointment], run: Callable[..., Tally], recorder: Recorder,
) -> None:
    # The worker's shells hand scheduling's appointments to reminders (cli/outbox_kinds.register_all); a
    # second registration (the CLI and a test both calling it) must not queue or send a reminder twice.
    from safeslot.cli import outbox_kinds

    outbox_kinds.register_all()
    outbox_kinds.register_all()
    assert [p for p in outbox.PRODUCERS if isinstance(p, reminders.ReminderHandler)] == [
        reminders.ReminderHandler(appointments)]
    appointment = book(MONDAY_AFTER_DST)
    assert run(appointment.starts_at - dt.timedelta(hours=2)).sent == 1
    assert [m.kind for m in _messages(session)] == ["reminder"]


def test_in_the_language_booked_in(
    session: Session, book: Callable[..., Appointment], run: Callable[..., Tally], recorder: Recorder,
) -> None:
    appointment = book(MONDAY_AFTER_DST, kind="email", contact="person.a@example.org")
    reminders.remember_language(session, appointment.id, "es")
    run(appointment.starts_at - dt.timedelta(hours=2))
    [message] = recorder.sent
    assert message.subject.startswith("Recordatorio") and "lunes" in message.text
    assert message.headers["Content-Language"] == "es"
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/reminders/stop/" in message.headers["List-Unsubscribe"]


def test_no_reminder_without_consent_or_contact(
    session: Session, book: Callable[..., Appointment], run: Callable[..., Tally], recorder: Recorder,
) -> None:
    no_consent = book(MONDAY_AFTER_DST, contact=None, opt_in=False)
    deleted = book(MONDAY_AFTER_DST)
    deleted.contact_enc = None  # retention deleted it
    session.flush()
    run(no_consent.starts_at - dt.timedelta(hours=2))
    run(deleted.starts_at - dt.timedelta(hours=2))
    assert recorder.sent == [] and _messages(session) == []


def test_never_after_a_cancellation_even_once_queued(
    session: Session, book: Callable[..., Appointment], run: Callable[..., Tally], recorder: Recorder,
    notify_settings: Settings, keyring: KeyRing,
) -> None:
    early = book(MONDAY_AFTER_DST)
    scheduling.cancel(session, early.code, early.starts_at - dt.timedelta(days=3))
    assert run(early.starts_at - dt.timedelta(hours=2)).sent == 0

    late = book(MONDAY_AFTER_DST + dt.timedelta(days=1))
    due = late.starts_at - dt.timedelta(hours=2)
    with session.begin_nested():  # the reminder is queued by a round whose sending is held up…
        from safeslot.notifications.outbox import Context
        reminders.produce(session, Context(keyring, notify_settings, due), appointments)
    scheduling.cancel(session, late.code, due)  # …and the person cancels before it goes out
    tally = run(due)
    assert tally.sent == 0 and tally.cancelled == 1
    assert recorder.sent == []
    assert [m.status for m in _messages(session)] == ["cancelled"]


def _two_days_before(at: dt.datetime) -> dt.datetime:
    return (at.astimezone(NY).replace(tzinfo=None) - dt.timedelta(days=2)).replace(tzinfo=NY).astimezone(dt.UTC)


def test_a_moved_appointment_is_reminded_of_its_new_time_only(
    session: Session, book: Callable[..., Appointment], run: Callable[..., Tally], recorder: Recorder,
    keyring: KeyRing,
) -> None:
    appointment = book(MONDAY_AFTER_DST)
    old = appointment.starts_at
    assert run(_two_days_before(old)).sent == 1  # the two-day reminder of the old time went out
    later = MONDAY_AFTER_DST + dt.timedelta(days=2)
    _, _, slots = scheduling.search_slots(session, "central", "apply", later, later, None, _two_days_before(old))
    moved = scheduling.reschedule(session, keyring, appointment.code, slots[0].starts_at, _two_days_before(old))
    assert run(old - dt.timedelta(hours=2)).sent == 0  # nothing about the old time any more
    assert run(_two_days_before(moved.starts_at)).sent == 1
    assert run(moved.starts_at - dt.timedelta(hours=2)).sent == 1
    texts = [m.text for m in recorder.sent]
    assert "March 15" in texts[0] and all("March 17" in t for t in texts[1:]) and len(texts) == 3


def test_stop_link_and_stop_reply_are_honoured(
    session: Session, book: Callable[..., Appointment], run: Callable[..., Tally], recorder: Recorder,
    notify_settings: Settings, keyring: KeyRing,
) -> None:
    by_link = book(MONDAY_AFTER_DST, kind="email", contact="person.a@example.org")
    secret = notify_settings.secret_key
    assert not reminders.stop_by_token(session, keyring, secret, f"{by_link.id}-forged", by_link.created_at,
                                       appointments)
    assert reminders.stop_by_token(session, keyring, secret, reminders.stop_token(secret, by_link.id),
                                   by_link.created_at, appointments)
    by_reply = book(MONDAY_AFTER_DST, contact="(555) 010-0199")
    assert not reminders.stop_by_reply(session, keyring, "+15550100199", "thanks", by_reply.created_at)
    assert reminders.stop_by_reply(session, keyring, "+15550100199", " stop ", by_reply.created_at)
    # another appointment of the same e-mail address: the contact said STOP, so it gets nothing either
    same_person = book(MONDAY_AFTER_DST + dt.timedelta(days=1), kind="email", contact="Person.A@example.org")
    for appointment in (by_link, by_reply, same_person):
        run(appointment.starts_at - dt.timedelta(hours=2))
    assert recorder.sent == []
    session.refresh(by_link)
    assert by_link.reminders_opt_in is False


def test_transient_failures_back_off_then_become_a_dead_letter_staff_can_send_again(
    session: Session, book: Callable[..., Appointment], run: Callable[..., Tally], recorder: Recorder,
) -> None:
    appointment = book(MONDAY_AFTER_DST)
    due = appointment.starts_at - dt.timedelta(hours=2)
    recorder.fail = TryLater("the SMS provider answered 503")
    assert run(due).retried == 1
    [message] = _messages(session)
    assert message.status == "queued" and message.attempts == 1
    wait = message.next_attempt_at - due
    assert dt.timedelta(seconds=48) <= wait <= dt.timedelta(seconds=72)  # 60 s ± 20 %
    assert run(due + dt.timedelta(seconds=30)).retried == 0  # not before its time
    assert run(due + dt.timedelta(seconds=73)).retried == 1
    session.refresh(message)
    assert dt.timedelta(seconds=96) <= message.next_attempt_at - (due + dt.timedelta(seconds=73)) \
        <= dt.timedelta(seconds=144)  # doubled
    assert run(due + dt.timedelta(minutes=10)).dead == 1  # third and last try
    [dead] = outbox.dead_letters(session)
    assert dead.id == message.id and "gave up after 3 tries" in (dead.last_error or "")
    assert "555" not in (dead.last_error or "")  # the reason names no contact

    recorder.fail = None
    assert outbox.retry(session, dead.id, due + dt.timedelta(minutes=20))
    assert not outbox.retry(session, dead.id, due + dt.timedelta(minutes=20))  # only a dead letter
    assert run(due + dt.timedelta(minutes=20)).sent == 1
    assert outbox.dead_letters(session) == [] and len(recorder.sent) == 1


def test_no_sms_provider_makes_a_dead_letter_at_once(
    session: Session, book: Callable[..., Appointment], run: Callable[..., Tally], recorder: Recorder,
) -> None:
    appointment = book(MONDAY_AFTER_DST)
    tally = run(appointment.starts_at - dt.timedelta(hours=2), Router(email=recorder, phone=None))
    assert tally.dead == 1
    [dead] = outbox.dead_letters(session)
    assert dead.last_error == "no phone sender is configured" and dead.attempts == 1


def test_a_message_interrupted_mid_send_is_never_sent_again_by_itself(
    session: Session, book: Callable[..., Appointment], run: Callable[..., Tally], recorder: Recorder,
    keyring: KeyRing, notify_settings: Settings,
) -> None:
    appointment = book(MONDAY_AFTER_DST)
    due = appointment.starts_at - dt.timedelta(hours=2)
    from safeslot.notifications.outbox import Context
    with session.begin_nested():
        reminders.produce(session, Context(keyring, notify_settings, due), appointments)
    with session.begin_nested():
        assert len(outbox.claim(session, due, 10)) == 1  # a worker claimed it, then died
    assert run(due + dt.timedelta(seconds=10)).sent == 0  # still within its lease: left alone
    tally = run(due + dt.timedelta(seconds=301))
    assert tally.interrupted == 1 and tally.sent == 0
    assert recorder.sent == []
    [dead] = outbox.dead_letters(session)
    assert (dead.last_error or "").startswith("interrupted while sending")


def test_the_queue_logs_no_personal_data(
    session: Session, book: Callable[..., Appointment], run: Callable[..., Tally], recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    first = book(MONDAY_AFTER_DST, kind="email", contact="person.a@example.org")
    second = book(MONDAY_AFTER_DST + dt.timedelta(days=1), contact="555-0177")
    recorder.fail = TryLater("the mail server could not be reached (ConnectionRefusedError)")
    run(first.starts_at - dt.timedelta(hours=2))
    recorder.fail = None
    run(first.starts_at - dt.timedelta(hours=1))
    run(second.starts_at - dt.timedelta(hours=2), Router(email=recorder, phone=None))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "outbox message" in logged  # it does log, by id and kind
    for secret in ("person.a", "example.org", "555-0177", "0177", "Test Person", "Central Benefits"):
        assert secret not in logged, secret
    stored = " ".join(f"{m.last_error} {m.dedupe_key}" for m in _messages(session))
    assert "555" not in stored and "person.a" not in stored


def test_retention_takes_the_reminder_language_with_the_appointment_and_old_messages_go(
    session: Session, book: Callable[..., Appointment], run: Callable[..., Tally], notify_settings: Settings,
) -> None:
    from safeslot.notifications.models import ReminderLanguage
    from safeslot.privacy import retention

    appointment = book(MONDAY_AFTER_DST)
    appointment_id = appointment.id
    reminders.remember_language(session, appointment_id, "es")
    assert run(appointment.starts_at - dt.timedelta(hours=2)).sent == 1
    later = appointment.starts_at + dt.timedelta(days=notify_settings.retention.appointment_days + 1)
    assert retention.run(session, notify_settings.retention, later).appointments_purged >= 1
    session.expire_all()
    assert session.get(ReminderLanguage, appointment_id) is None
    assert len(_messages(session)) == 1  # still there until the worker's next round…
    run(later)
    assert _messages(session) == []  # …which deletes finished messages as old as purged appointments


def test_a_contact_that_cannot_be_opened_is_a_dead_letter_not_a_stuck_worker(
    session: Session, book: Callable[..., Appointment], run: Callable[..., Tally], recorder: Recorder,
) -> None:
    appointment = book(MONDAY_AFTER_DST)
    appointment.contact_enc = b"S1\x03bad" + b"\x00" * 40  # sealed under a key the ring no longer has
    session.flush()
    tally = run(appointment.starts_at - dt.timedelta(hours=2))
    assert tally.dead == 1 and recorder.sent == []
    [dead] = outbox.dead_letters(session)
    assert (dead.last_error or "").startswith("the message could not be composed (")
