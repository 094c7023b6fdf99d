"""Release: the minimised package, its signed manifest, the accounting entries and the
log entries, all in the caller's one transaction (invariant "no disclosure without a record"). If the log
append fails, the transaction fails and nothing is released.

The package holds only the approved categories of the matched people (names are
decrypted for those people only). It is sealed at rest, downloadable once by the
requesting agency through an unguessable link that expires, and emptied when fetched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from typing import Any

from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.disclosure import logbook, notices, sealed
from safeslot.disclosure import repository as repo
from safeslot.disclosure.errors import LogUnavailable, PackageGone, ReleaseNotReady, ReviewerNotAllowed
from safeslot.disclosure.models import AccountingCode, AccountingEntry, DisclosureRequest, Release, RequestSubject
from safeslot.disclosure.policy import Category, InstrumentType, Outcome
from safeslot.disclosure.review import REVIEW_ROLES, approvals
from safeslot.disclosure.review import approve as approve_in_role
from safeslot.disclosure.schemas import Actor
from safeslot.disclosure.service import get_request, years_later
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import NotFound
from safeslot.scheduling import interfaces as scheduling
from safeslot.transparency import interfaces as log
from safeslot.transparency.interfaces import LogSigner, sign_note

LINK_LIFETIME = dt.timedelta(days=7)
# 5 U.S.C. 552a(c)(2): keep the accounting five years or the life of the record, if longer.
ACCOUNTING_YEARS = 5
SCHEDULE_STATES = frozenset({"booked", "checked-in"})
HISTORY_STATES = frozenset({"fulfilled", "noshow", "checked-in"})


def load_signer(settings: Settings) -> LogSigner:
    """The log's Ed25519 signer, file or token (a file key is created on first use only in development,
    demo and test)."""
    return log.open_signer(settings.log, create=settings.is_demo)


def released_categories(session: Session, request: DisclosureRequest) -> list[str]:
    return [
        r.category for r in repo.decisions(session, request.id)
        if r.outcome != Outcome.DENY and not r.dropped_reason
    ]


def _check_ready(session: Session, request: DisclosureRequest) -> tuple[list[str], list[RequestSubject]]:
    if request.status != "approved":
        raise ReleaseNotReady(f"Request {request.id} is {request.status}; it needs both approvals first.")
    standing = approvals(session, request.id)
    if not all(r in standing for r in REVIEW_ROLES) or len(set(standing.values())) < len(REVIEW_ROLES):
        raise ReleaseNotReady("A privacy officer and counsel, two different people, must approve first.")
    subjects = list(repo.subjects(session, request.id))
    if any(s.status == "ambiguous" for s in subjects):
        raise ReleaseNotReady("Counsel must resolve every ambiguous match before release.")
    matched = [s for s in subjects if s.status == "matched" and s.appointment_ids]
    categories = released_categories(session, request)
    if not matched or not categories:
        raise ReleaseNotReady("Nothing is left to release: no matched person or no allowed category.")
    return categories, matched


def _person(ring: KeyRing, records: list[scheduling.SubjectRecord], categories: list[str]) -> dict[str, Any]:
    appointments = [r.appointment for r in records]
    out: dict[str, Any] = {}
    if Category.IDENTITY in categories:
        out["identity"] = {"name": ring.open(appointments[0].name_enc, "appointment.name")}
    if Category.CONTACT in categories:
        out["contact"] = sorted({ring.open(a.contact_enc, "appointment.contact")
                                 for a in appointments if a.contact_enc})
    if Category.APPOINTMENT_SCHEDULE in categories:
        out["appointment_schedule"] = [
            {"office": r.office_slug, "service": r.service_name, "starts_at": r.appointment.starts_at.isoformat(),
             "ends_at": r.appointment.ends_at.isoformat(), "status": r.appointment.status}
            for r in records if r.appointment.status in SCHEDULE_STATES
        ]
    if Category.VISIT_HISTORY in categories:
        out["visit_history"] = [
            {"office": r.office_slug, "service": r.service_name, "date": r.appointment.starts_at.date().isoformat(),
             "status": r.appointment.status}
            for r in records if r.appointment.status in HISTORY_STATES
        ]
    if Category.LANGUAGE_ACCOMMODATION in categories:
        out["language_accommodation"] = [
            {"language": a.language,
             "accommodation": ring.open(a.accommodation_enc, "appointment.accommodation")
             if a.accommodation_enc else None}
            for a in appointments
        ]
    return out


_years_later = years_later  # kept under its old name for tests


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def create(session: Session, ring: KeyRing, signer: LogSigner, request_id: int, now: dt.datetime,
           public_url: str = "") -> tuple[Release, str]:
    """Build and record the release; returns it with the one-time download token."""
    request = get_request(session, request_id, for_update=True)
    categories, matched = _check_ready(session, request)
    people: list[dict[str, Any]] = []
    salts: list[bytes] = []
    codes: list[list[str]] = []
    kept: list[RequestSubject] = []
    for subject in matched:
        # Only the matched rows, re-read by id: nobody who was not matched is included.
        records = scheduling.appointments_for_subject(session, subject.name_index, ids=subject.appointment_ids)
        if not records:
            continue
        people.append(_person(ring, records, categories))
        salts.append(logbook.new_salt())
        codes.append(sorted({r.appointment.code for r in records}))
        kept.append(subject)
    if not people:
        raise ReleaseNotReady("The matched records no longer exist (purged); nothing can be released.")
    package = _canonical({
        "request_id": request.id, "agency": request.agency, "instrument_type": request.instrument_type,
        "docket": sealed.typed(ring, request).get("docket"),
        "categories": categories, "generated_at": now.isoformat(), "people": people,
    })
    package_sha256 = hashlib.sha256(package).hexdigest()
    expires_at = now + LINK_LIFETIME
    commitments = [logbook.commitment(salt, s.name_index, request.id) for salt, s in zip(salts, kept, strict=True)]
    manifest_text = (
        "safeslot disclosure release\n"
        f"request {request.id}\nagency {request.agency}\ninstrument {request.instrument_type}\n"
        f"categories {' '.join(categories)}\npeople {len(people)}\n"
        f"policy-set {request.policy_set_hash}\npackage-sha256 {package_sha256}\ncreated {now.isoformat()}\n"
    )
    try:
        manifest = sign_note(manifest_text, [signer])
    except Exception as exc:  # a release without a valid signature must not exist
        raise LogUnavailable("The manifest could not be signed; nothing was released.") from exc
    when = logbook.rfc3339(now)
    logged: list[log.EntryBase] = [
        log.Release(time=when, request_id=request.id, agency=logbook.agency_ref(request.agency_id),
                            instrument_type=request.instrument_type, categories=categories, subjects=len(people),
                            policy_set_hash=request.policy_set_hash, package_sha256=package_sha256,
                            commitments=commitments),
        *(log.Accounting(time=when, request_id=request.id, commitment=c) for c in commitments),
    ]
    indexes = logbook.record_many(session, logged, now)
    token = secrets.token_urlsafe(32)
    release = Release(
        request_id=request.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
        token_enc=ring.seal(token, "disclosure_release.token"),
        package_enc=ring.seal(package.decode(), "disclosure_release.package"), package_sha256=package_sha256,
        manifest=manifest, signature=signer.to_vkey(), created_at=now, expires_at=expires_at,
        downloaded_at=None, log_index=indexes[0],
    )
    session.add(release)
    # Only a judge's order with an end within a year defers (policy 05-document.cedar refuses
    # any other, so an order without an end never reaches a release).
    deferred = request.nda_expires_at if request.nda_authority else None
    address = repo.agency_address(session, request.agency)
    for subject, salt, commitment, index, person_codes in zip(kept, salts, commitments, indexes[1:], codes,
                                                              strict=True):
        entry = AccountingEntry(
            request_id=request.id, name_index=subject.name_index, disclosed_at=now, recipient=request.agency,
            recipient_address=address, purpose=request.purpose, nature=request.instrument_type, categories=categories,
            # 5 U.S.C. 552a(c)(3): a (b)(7) law-enforcement disclosure is not shown to the person.
            withheld_b7=request.instrument_type == InstrumentType.HEAD_OF_AGENCY_REQUEST,
            deferred_until=deferred, keep_until=_years_later(now, ACCOUNTING_YEARS),
            salt=salt.hex(), commitment=commitment, log_index=index,
        )
        session.add(entry)
        session.flush()
        for code in person_codes:
            session.add(AccountingCode(entry_id=entry.id, code=code))
    request.status = "released"
    session.flush()
    notices.queue_due(session, now, request.id)  # only entries the person may see now
    return release, token


def link_for(session: Session, ring: KeyRing, actor: Actor, request_id: int) -> tuple[Release, str]:
    """The release of a request and its link token, for the requesting official only."""
    request = get_request(session, request_id)
    _check_requester(actor, request)
    found = repo.release_for(session, request.id)
    if found is None:
        raise ReleaseNotReady(f"Request {request_id} has no release (status {request.status}).")
    return found, ring.open(found.token_enc, "disclosure_release.token")


def _check_requester(actor: Actor, request: DisclosureRequest) -> None:
    if actor.kind != "official" or actor.agency != request.agency or (
        request.official_id is not None and request.official_id != actor.id
    ):
        raise ReviewerNotAllowed("Only the requesting official may fetch this package.")


def download(session: Session, ring: KeyRing, actor: Actor, token: str, now: dt.datetime) -> dict[str, str]:
    """The package and its signed manifest, once, for the requesting agency's official."""
    release = repo.release_by_token_hash(session, hashlib.sha256(token.encode()).hexdigest())
    if release is None:
        raise NotFound("There is no package at this link.")
    request = get_request(session, release.request_id)
    _check_requester(actor, request)
    if release.downloaded_at is not None or release.package_enc is None:
        raise PackageGone("This package was already downloaded; it can be downloaded only once.")
    if now >= release.expires_at:
        raise PackageGone("This link has expired; ask the office to arrange a new release.")
    package = ring.open(release.package_enc, "disclosure_release.package")
    release.downloaded_at = now
    release.package_enc = None
    session.flush()
    return {"package": package, "package_sha256": release.package_sha256, "manifest": release.manifest,
            "signer": release.signature}


def approve_then_release(session: Session, ring: KeyRing, signer: LogSigner, actor: Actor, request_id: int, role: str,
                         now: dt.datetime) -> bool:
    """A reviewer's approval in ``role``; the second of the two (the other role, another person) releases at
    once, in the same transaction, so an approved request is never left unreleased or released unlogged.
    True when this approval released the request."""
    if not approve_in_role(session, actor, request_id, role, now):
        return False
    create(session, ring, signer, request_id, now)
    return True
