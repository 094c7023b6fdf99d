"""Releasing a package (disclosure/release.py): made only after both approvals, fetched once by the requesting
agency through a link that expires, and kept in the accounting for five years. The whole story is in
test_story.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from safeslot.disclosure import release
from safeslot.disclosure.errors import PackageGone, ReleaseNotReady, ReviewerNotAllowed
from safeslot.disclosure.models import DisclosureRequest
from safeslot.disclosure.schemas import Actor
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling.models import Appointment
from safeslot.transparency.note import Signer
from tests.conftest import NOW, ON_SQLITE
from tests.disclosure.conftest import OFFICIAL, PRIVACY, RING, TEST_PERSON, approve, approve_and_release


def test_an_expired_link_is_refused(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment],
) -> None:
    book("Test Person M")
    request = file_request()
    _, token = approve_and_release(session, keyring, signer, request.id)
    with pytest.raises(PackageGone, match="expired"):
        release.download(session, keyring, OFFICIAL, token, NOW + release.LINK_LIFETIME)


def test_accounting_is_kept_five_years_even_from_29_february() -> None:
    from safeslot.disclosure.release import _years_later

    leap = dt.datetime(2028, 2, 29, 12, tzinfo=dt.UTC)
    assert _years_later(leap, 5) == dt.datetime(2033, 3, 1, 12, tzinfo=dt.UTC)
    assert _years_later(NOW, 5) == NOW.replace(year=NOW.year + 5)


@ON_SQLITE
def test_nothing_is_released_before_both_approvals(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment],
) -> None:
    book("Test Person 1")
    request = file_request(subjects=TEST_PERSON)
    with pytest.raises(ReleaseNotReady, match="both approvals"):
        release.create(session, keyring, signer, request.id, NOW)
    approve(session, RING, PRIVACY, request.id, "privacy_officer", NOW)
    with pytest.raises(ReleaseNotReady):
        release.create(session, keyring, signer, request.id, NOW)


@ON_SQLITE
def test_only_the_requesting_official_fetches_the_package_and_only_once(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment],
) -> None:
    visit = book("Test Person 1")
    request = file_request(subjects=TEST_PERSON)
    approve_and_release(session, keyring, signer, request.id)
    _, token = release.link_for(session, keyring, OFFICIAL, request.id)
    for other in (Actor("official", 9, agency="another-agency"), PRIVACY):
        with pytest.raises(ReviewerNotAllowed, match="requesting official"):
            release.download(session, keyring, other, token, NOW)
    fetched = release.download(session, keyring, OFFICIAL, token, NOW)
    assert visit.starts_at.astimezone(dt.UTC).isoformat() in fetched["package"]  # the schedule asked for
    assert "Test Person 1" not in fetched["package"]  # the identity category was not
    with pytest.raises(PackageGone, match="only once"):
        release.download(session, keyring, OFFICIAL, token, NOW)
