"""Identity mail through the outbox (identity/mail.py): an invitation or key notice is opened only at send
time, sent once, and its body (the one-time link) leaves the database with the message."""

from __future__ import annotations

from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.identity import links
from safeslot.identity import mail as _registers_the_kind  # noqa: F401
from safeslot.kit.crypto import KeyRing
from safeslot.notifications import outbox
from safeslot.notifications.senders import Router, Undeliverable
from tests.conftest import NOW, ON_SQLITE
from tests.notifications.conftest import Recorder


def _deliver(session: Session, keyring: KeyRing, settings: Settings, recorder: Recorder) -> list[str]:
    ctx = outbox.Context(keyring, settings, NOW)
    return [outbox.deliver(session, i, Router(email=recorder, phone=None), ctx)
            for i in outbox.claim(session, NOW, 10, [links.KIND])]


@ON_SQLITE
def test_a_message_is_opened_at_send_time_sent_once_and_its_body_then_erased(
    session: Session, keyring: KeyRing, settings: Settings,
) -> None:
    recorder = Recorder()
    queued = links.queue(session, keyring, "test-person-1@example.test", "Test subject", "Test link sse_1", NOW)
    assert _deliver(session, keyring, settings, recorder) == ["sent"]
    [sent] = recorder.sent
    assert (sent.address, sent.subject, sent.text) == ("test-person-1@example.test", "Test subject", "Test link sse_1")
    assert (queued.status, queued.body_enc, queued.sent_at) == ("sent", None, NOW)
    assert _deliver(session, keyring, settings, recorder) == [] and len(recorder.sent) == 1


@ON_SQLITE
def test_a_message_that_cannot_be_delivered_is_failed_and_its_body_erased_too(
    session: Session, keyring: KeyRing, settings: Settings,
) -> None:
    queued = links.queue(session, keyring, "test-person-1@example.test", "Test subject", "Test link sse_2", NOW)
    assert _deliver(session, keyring, settings, Recorder(fail=Undeliverable("no such mailbox"))) == ["dead"]
    assert (queued.status, queued.body_enc) == ("failed", None)
