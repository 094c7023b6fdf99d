"""Privacy errors.

    InvalidInput (422)
    └── UnknownPurpose        an access purpose not in the fixed list
    NotFound (404)
    └── OfficeOutOfScope      a clerk reading an office outside their scope: answered exactly as an
                              unknown office (same type, title and detail), the alert it raised kept
    Forbidden (403)
    └── ReadRefused           a staff read beyond what the job needs; the alert it raised is kept
        ├── OutsideClerkWindow    a clerk's day list before today or past the window
        ├── SearchOutsideRequest  counsel searching names without an open request it may read
        └── MatchesRefused        the registrar of a disclosure request reading its matches
"""

from __future__ import annotations

from safeslot.kit.errors import N_, Forbidden, InvalidInput, NotFound


class UnknownPurpose(InvalidInput):
    slug = "unknown-purpose"
    title = N_("Unknown purpose")


class ReadRefused(Forbidden):
    """Refused, and an alert for auditors written and kept (errors.DomainError.keeps_writes)."""

    slug = "read-refused"
    title = N_("This read goes beyond what your work needs")
    keeps_writes = True


class OutsideClerkWindow(ReadRefused):
    slug = "outside-clerk-window"
    title = N_("Clerks see today and the next days only")


class OfficeOutOfScope(NotFound):
    """The same problem as scheduling's OfficeNotFound (no existence oracle), but the alert stays."""

    slug = "office-not-found"
    title = N_("Unknown office")
    keeps_writes = True


class SearchOutsideRequest(ReadRefused):
    slug = "search-outside-request"
    title = N_("Counsel searches only inside an open disclosure request")


class MatchesRefused(ReadRefused):
    slug = "registrar-may-not-see-matches"
    title = N_("The registrar of a request never sees its matches")


