"""Notice to the person, and expiry of stale requests (both databases)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.config import MailSettings, Settings, SmsSettings
from safeslot.disclosure import notices, release, review
from safeslot.disclosure import repository as repo
from safeslot.disclosure.models import AccountingEntry, DisclosureRequest
from safeslot.kit.crypto import KeyRing
from safeslot.notifications.senders import FileSender, Outgoing, Router, SmtpSender, Undeliverable
from safeslot.notifications.worker import router_for
from safeslot.scheduling.models import Appointment
from safeslot.transparency.models import LogEntry
from safeslot.transparency.note import Signer
from tests.conftest import NOW
from tests.disclosure.conftest import COUNSEL, PRIVACY, approve

URL = "https://office.example"


def _released(session: Session, keyring: KeyRing, signer: Signer, request: DisclosureRequest) -> None:
    approve(session, keyring, PRIVACY, request.id, "privacy_officer", NOW)
    approve(session, keyring, COUNSEL, request.id, "counsel", NOW)
    release.create(session, keyring, signer, request.id, NOW)


def _tx(session: Session) -> Callable[[], AbstractContextManager[Session]]:
    @contextmanager
    def open_tx() -> Iterator[Session]:
        yield session
        session.flush()

    return open_tx


def _send(session: Session, keyring: KeyRing, outbox: Path, when: dt.datetime) -> tuple[int, int, int]:
    sink = FileSender(outbox)  # both kinds of contact to files: what a demo office's worker does
    return notices.send_all(_tx(session), keyring, Router(email=sink, phone=sink), lambda: when, URL)


def test_a_released_warrant_without_an_order_is_noticed_once_and_the_notice_holds_nothing_disclosed(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment], tmp_path: Path,
) -> None:
    person_m = book("Test Person M", contact="555-0100", accommodation="wheelchair access")
    request = file_request(categories=["appointment_schedule", "identity"])
    _released(session, keyring, signer, request)
    [notice] = repo.notices(session)
    assert notice.status == "queued" and notice.sent_at is None

    assert _send(session, keyring, tmp_path, NOW) == (0, 1, 0)
    assert _send(session, keyring, tmp_path, NOW + dt.timedelta(hours=1)) == (0, 0, 0)  # each once
    [notice] = repo.notices(session)
    assert (notice.status, notice.channel, notice.sent_at) == ("sent", "file", NOW)
    [file] = list(tmp_path.iterdir())
    text = file.read_text()
    assert "555-0100" in text and person_m.code in text and f"{URL}/records" in text
    for secret in ("Person M", "schedule", "identity", "dhs-ice", "wheelchair", person_m.starts_at.date().isoformat(),
                   "criminal", "warrant"):
        assert secret.lower() not in text.lower(), secret


def test_a_notice_waits_for_the_non_disclosure_order_to_expire(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment], tmp_path: Path,
) -> None:
    book("Test Person M", contact="555-0100")
    nda_end = NOW + dt.timedelta(days=90)
    request = file_request(non_disclosure_order={"authority": "Order sealing 1:27-mj-00042",
                                                 "expires_at": nda_end.isoformat()})
    _released(session, keyring, signer, request)
    assert repo.notices(session) == []
    assert _send(session, keyring, tmp_path, nda_end - dt.timedelta(seconds=1)) == (0, 0, 0)
    assert list(tmp_path.iterdir()) == []
    assert _send(session, keyring, tmp_path, nda_end + dt.timedelta(days=1)) == (1, 1, 0)
    assert _send(session, keyring, tmp_path, nda_end + dt.timedelta(days=2)) == (0, 0, 0)
    assert len(list(tmp_path.iterdir())) == 1


def test_an_order_without_an_end_cannot_defer_anything_the_request_is_refused(
    session: Session, file_request: Callable[..., DisclosureRequest], book: Callable[..., Appointment],
) -> None:
    book("Test Person M", contact="555-0100")
    request = file_request(non_disclosure_order={"authority": "Order sealing 1:27-mj-00042"})
    assert request.status == "denied"
    rows = repo.decisions(session, request.id)
    assert rows and all("nondisclosure-order-without-end" in r.policy_ids for r in rows)
    assert session.scalars(select(AccountingEntry).where(AccountingEntry.request_id == request.id)).all() == []


@pytest.mark.parametrize(("order", "deny_id"), [
    ({"expires_at": (NOW + dt.timedelta(days=400)).isoformat()}, "nondisclosure-order-longer-than-a-year"),
    ({"expires_at": (NOW + dt.timedelta(days=90)).isoformat(), "signer_type": "officer"},
     "nondisclosure-order-not-signed-by-judge"),
])
def test_only_a_judges_order_ending_within_a_year_is_accepted(
    session: Session, file_request: Callable[..., DisclosureRequest], book: Callable[..., Appointment],
    order: dict[str, str], deny_id: str,
) -> None:
    book("Test Person M")
    request = file_request(non_disclosure_order={"authority": "Order sealing 1:27-mj-00042", **order})
    assert request.status == "denied"
    assert all(deny_id in r.policy_ids for r in repo.decisions(session, request.id))


def test_an_emergency_disclosure_is_noticed_at_the_contact_the_person_gave(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment], tmp_path: Path,
) -> None:
    book("Test Person M", contact="555-0100")  # a contact is kept only with reminders opted in
    request = file_request(instrument_type="emergency", signer_type="officer", court=None, docket=None,
                           purpose="health_or_safety", categories=["identity", "contact"],
                           emergency_justification="Test justification: a person is missing and at risk.")
    assert request.status == "in_review"
    _released(session, keyring, signer, request)
    assert len(repo.notices(session)) == 1  # 5 U.S.C. 552a(b)(8): notice to the last known address
    assert _send(session, keyring, tmp_path, NOW) == (0, 1, 0)
    [file] = list(tmp_path.iterdir())
    assert "555-0100" in file.read_text()


def test_b7_disclosures_are_never_noticed(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment], tmp_path: Path,
) -> None:
    book("Test Person M", contact="555-0100")
    request = file_request(instrument_type="head_of_agency_request", signer_type="agency_head", court=None,
                           docket=None, categories=["visit_history", "identity"])
    _released(session, keyring, signer, request)
    assert _send(session, keyring, tmp_path, NOW + dt.timedelta(days=4000)) == (0, 0, 0)
    assert repo.notices(session) == []
    assert list(tmp_path.iterdir()) == []


def test_nobody_is_noticed_without_a_contact_or_once_it_was_deleted(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment], tmp_path: Path,
) -> None:
    book("Test Person M")
    _released(session, keyring, signer, file_request())
    assert _send(session, keyring, tmp_path, NOW) == (0, 0, 0)
    assert repo.notices(session) == []

    person_n = book("Test Person N", days=2, contact="555-0101")
    _released(session, keyring, signer, file_request(subjects=[{"name": "Test Person N", "office": "central"}]))
    [notice] = repo.notices(session)
    person_n.contact_enc = None  # retention deleted the contact before the notice went out
    session.flush()
    assert _send(session, keyring, tmp_path, NOW) == (0, 0, 1)
    [notice] = repo.notices(session)
    assert notice.status == "failed" and notice.sent_at is None


def test_smtp_sends_email_and_refuses_phone_contacts(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            assert (host, port) == ("mail.example", 2525)

        def __enter__(self) -> FakeSMTP:
            return self

        def __exit__(self, *args: object) -> None:
            return None

        def send_message(self, message: object) -> None:
            sent.append(str(message))

    monkeypatch.setattr("smtplib.SMTP", FakeSMTP)
    # the notices go out through the worker's senders, configured by the settings' mail section
    router = router_for(Settings.model_construct(mail=MailSettings(host="mail.example", port=2525), sms=SmsSettings(),
                                                 environment="production"))
    assert router.channel("email") == "smtp" and isinstance(router.by_kind["email"], SmtpSender)
    text = notices.body("ABCDE12345", URL)
    router.send(Outgoing("email", "person-m@example.org", notices.SUBJECT, text, ref="notice-1"))
    assert "To: person-m@example.org" in sent[0] and "ABCDE12345" in sent[0]
    with pytest.raises(Undeliverable):  # no text-message provider configured
        router.send(Outgoing("phone", "555-0100", notices.SUBJECT, text, ref="notice-2"))
    # outside demo, no SMTP host means no e-mail sender at all (never a silent file sink)
    bare = router_for(Settings.model_construct(mail=MailSettings(), sms=SmsSettings(), environment="production"))
    assert bare.channel("email") is None


def test_stale_requests_expire_and_are_logged_in_the_same_transaction(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment],
) -> None:
    book("Test Person M")
    deadline = NOW + dt.timedelta(days=10)
    stale = file_request(deadline=deadline.isoformat())
    done = file_request(deadline=deadline.isoformat())
    _released(session, keyring, signer, done)
    open_ = file_request(deadline=(NOW + dt.timedelta(days=30)).isoformat())
    assert stale.status == "in_review"
    assert review.expire_stale(session, deadline) == []  # not before the deadline passes
    assert review.expire_stale(session, deadline + dt.timedelta(seconds=1)) == [stale.id]
    assert (stale.status, done.status, open_.status) == ("expired", "released", "in_review")
    entries = [e for e in session.scalars(select(LogEntry)).all() if b"disclosure.expired" in e.data]
    assert len(entries) == 1 and f'"request_id":{stale.id}'.encode() in entries[0].data
    assert review.expire_stale(session, deadline + dt.timedelta(days=1)) == []  # once
