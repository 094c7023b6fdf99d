"""Disclosure gate errors. They know nothing about HTTP (safeslot.kit.errors maps them).

Hierarchy::

    DomainError
    ├── InvalidInput
    │   └── RequestRefused          422  no document, no named subject, unknown category …
    │                                    (Recorded: its refusal log entry is committed)
    ├── NotFound
    │   └── RequestNotFound         404
    ├── Conflict
    │   ├── RequestNotReviewable    409  denied, released or otherwise past review
    │   ├── NotAcceptedForReview    409  matches are shown once another reviewer accepted it
    │   ├── ReleaseNotReady         409  approvals or match resolution missing
    │   └── PackageGone             409  already downloaded or link expired
    ├── Forbidden
    │   └── ReviewerNotAllowed      403  wrong role, own request, or second approval
    ├── PayloadTooLarge
    │   └── StorageQuotaExceeded    413  the agency's stored documents would pass its quota
    └── Unavailable
        └── LogUnavailable          503  the transparency log refused the entry
"""

from __future__ import annotations

from safeslot.kit.errors import (
    N_,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Recorded,
    Unavailable,
)


class StorageQuotaExceeded(PayloadTooLarge, slug="storage-quota-exceeded",
                           title=N_("The agency's storage quota is used up")):
    """Nothing is stored: the agency's instrument documents would pass its storage quota."""


class RequestRefused(Recorded, InvalidInput, slug="disclosure-request-refused",
                     title=N_("The disclosure request is refused")):
    """The request cannot be registered: nothing but a refusal log entry is kept."""


class RequestNotFound(NotFound, slug="disclosure-request-not-found", title=N_("No such disclosure request")):
    """There is no disclosure request with this id that you may see."""


class RequestNotReviewable(Conflict, slug="disclosure-request-not-reviewable",
                           title=N_("The request is not open for review")):
    """The request was denied, released, withdrawn or closed; nothing more can be reviewed on it."""


class NotAcceptedForReview(Conflict, slug="disclosure-not-accepted-for-review",
                           title=N_("Nobody has accepted this request for review yet")):
    """The request's matches are shown only after another reviewer accepted it for review. Ask a
    second reviewer to accept it first.
    """


class ReleaseNotReady(Conflict, slug="disclosure-release-not-ready", title=N_("The request cannot be released yet")):
    """A release needs both approvals (privacy officer and counsel) and every match resolved. The
    detail says what is missing.
    """


class PackageGone(Conflict, slug="disclosure-package-gone", title=N_("The package is no longer available")):
    """The release package was already downloaded or its link expired. Ask the office; a package is
    handed over once.
    """


class ReviewerNotAllowed(Forbidden, slug="disclosure-reviewer-not-allowed",
                         title=N_("You may not review this request")):
    """You may not review this request: wrong role, your own request, or you already gave the other
    approval. A second person must do it.
    """


class LogUnavailable(Unavailable, slug="transparency-log-unavailable",
                     title=N_("The transparency log could not record the disclosure")):
    """The transparency log could not record the disclosure, so nothing was released (no disclosure
    without a record). Try again later.
    """
