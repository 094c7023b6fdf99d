"""The transactional outbox (notifications/outbox.py): a message is queued once per dedupe key, sent at most
once, retried with a growing wait, and after its last try (or a refusal no retry mends) kept as a dead letter
that staff can send again. A message kind of the test's own and the in-memory Recorder sender."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.kit.crypto import KeyRing
from safeslot.notifications import outbox
from safeslot.notifications.models import OutboxMessage
from safeslot.notifications.senders import Outgoing, Router, TryLater, Undeliverable
from tests.conftest import NOW, ON_SQLITE
from tests.notifications.conftest import Recorder

KIND = "test.message"


class Handler:
    def __init__(self) -> None:
        self.finished_with: list[str] = []
        self.cancel = False

    def compose(self, session: Session, message: OutboxMessage, ctx: outbox.Context) -> Outgoing:
        if self.cancel:
            raise outbox.Cancel("what it was about went away")
        return Outgoing("email", "test-person-1@example.test", "Test subject", f"Test body {message.ref}\n")

    def finished(self, session: Session, message: OutboxMessage, ctx: outbox.Context) -> None:
        self.finished_with.append(message.status)


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Handler:
    made = Handler()
    monkeypatch.setitem(outbox.HANDLERS, KIND, made)
    return made


def _send_due(session: Session, recorder: Recorder, settings: Settings, keyring: KeyRing,
              now: dt.datetime = NOW) -> list[str]:
    ctx = outbox.Context(keyring, settings, now)
    return [outbox.deliver(session, i, Router(email=recorder, phone=None), ctx)
            for i in outbox.claim(session, now, 10, [KIND])]


@ON_SQLITE
def test_a_message_is_queued_once_per_key_and_sent_once(
    session: Session, handler: Handler, recorder: Recorder, settings: Settings, keyring: KeyRing,
) -> None:
    assert outbox.enqueue(session, kind=KIND, ref=1, dedupe_key="test:1", now=NOW)
    assert not outbox.enqueue(session, kind=KIND, ref=1, dedupe_key="test:1", now=NOW)  # a retried request
    assert _send_due(session, recorder, settings, keyring) == ["sent"]
    assert [m.text for m in recorder.sent] == ["Test body 1\n"] and handler.finished_with == ["sent"]
    assert _send_due(session, recorder, settings, keyring) == []  # never again
    assert outbox.counts(session) == {"sent": 1}


@ON_SQLITE
def test_a_message_not_yet_due_waits(
    session: Session, handler: Handler, recorder: Recorder, settings: Settings, keyring: KeyRing,
) -> None:
    outbox.enqueue(session, kind=KIND, ref=2, dedupe_key="test:2", now=NOW, not_before=NOW + dt.timedelta(hours=1))
    assert _send_due(session, recorder, settings, keyring) == []
    assert _send_due(session, recorder, settings, keyring, NOW + dt.timedelta(hours=1)) == ["sent"]


@ON_SQLITE
def test_a_failing_send_is_retried_later_then_kept_as_a_dead_letter_that_staff_can_retry(
    session: Session, handler: Handler, recorder: Recorder, settings: Settings, keyring: KeyRing,
) -> None:
    settings.notifications.max_attempts = 2
    outbox.enqueue(session, kind=KIND, ref=3, dedupe_key="test:3", now=NOW, office_id=7)
    recorder.fail = TryLater("the server is busy")
    assert _send_due(session, recorder, settings, keyring) == ["retried"]
    assert _send_due(session, recorder, settings, keyring) == []  # waits its backoff
    later = NOW + dt.timedelta(hours=1)
    assert _send_due(session, recorder, settings, keyring, later) == ["dead"]
    [dead] = outbox.dead_letters(session)
    assert dead.last_error == "gave up after 2 tries: the server is busy" and handler.finished_with == ["dead"]
    assert outbox.dead_letters(session, office_ids=[8]) == []
    assert not outbox.retry(session, dead.id, later, office_ids=[8])  # another office's: not here
    assert outbox.retry(session, dead.id, later, office_ids=[7])
    recorder.fail = None
    assert _send_due(session, recorder, settings, keyring, later) == ["sent"]


@ON_SQLITE
def test_a_refusal_no_retry_mends_is_dead_at_once_and_a_cancelled_message_is_not_sent(
    session: Session, handler: Handler, recorder: Recorder, settings: Settings, keyring: KeyRing,
) -> None:
    outbox.enqueue(session, kind=KIND, ref=4, dedupe_key="test:4", now=NOW)
    recorder.fail = Undeliverable("no such mailbox")
    assert _send_due(session, recorder, settings, keyring) == ["dead"]
    outbox.enqueue(session, kind=KIND, ref=5, dedupe_key="test:5", now=NOW)
    handler.cancel = True
    assert _send_due(session, recorder, settings, keyring) == ["cancelled"]
    assert recorder.sent == [] and handler.finished_with == ["dead", "cancelled"]
    assert outbox.prune(session, NOW + dt.timedelta(seconds=1)) == 2


@ON_SQLITE
def test_a_message_left_sending_by_a_worker_that_died_is_never_resent(
    session: Session, handler: Handler, recorder: Recorder, settings: Settings, keyring: KeyRing,
) -> None:
    outbox.enqueue(session, kind=KIND, ref=6, dedupe_key="test:6", now=NOW)
    outbox.claim(session, NOW, 10, [KIND])  # claimed, then the worker died before it recorded anything
    much_later = NOW + dt.timedelta(seconds=settings.notifications.lease_seconds + 1)
    assert len(outbox.recover(session, outbox.Context(keyring, settings, much_later), [KIND])) == 1
    assert _send_due(session, recorder, settings, keyring, much_later) == [] and recorder.sent == []
    assert outbox.dead_letters(session)[0].last_error == outbox.INTERRUPTED


def test_the_wait_doubles_with_each_try_within_a_fifth_either_way(settings: Settings) -> None:
    base = settings.notifications.backoff_seconds
    rng = random.Random(1)
    for attempts, factor in ((1, 1), (2, 2), (4, 8)):
        wait = outbox.backoff(settings, attempts, rng).total_seconds()
        assert 0.8 * base * factor <= wait <= 1.2 * base * factor
