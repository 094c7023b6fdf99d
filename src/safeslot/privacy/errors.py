"""Privacy errors.

    InvalidInput (422)
    └── UnknownPurpose        an access purpose not in the fixed list
    Forbidden (403)
    └── ReadRefused           a staff read beyond what the job needs; the alert it raised is kept
        ├── OutsideClerkWindow    a clerk's day list before today or past the window
        ├── NotYourOffice         a clerk reading another office
        ├── SearchOutsideRequest  counsel searching names without an open request it may read
        └── MatchesRefused        the registrar of a disclosure request reading its matches
    Conflict (409)
    └── RotationUnfinished    a key cannot be retired while values still use it
"""

from __future__ import annotations

from safeslot.kit.errors import N_, Conflict, Forbidden, InvalidInput, Recorded


class UnknownPurpose(InvalidInput):
    slug = "unknown-purpose"
    title = N_("Unknown purpose")


class ReadRefused(Recorded, Forbidden):
    """Refused, and an alert for auditors written and kept (a `Recorded` refusal)."""

    slug = "read-refused"
    title = N_("This read goes beyond what your work needs")


class OutsideClerkWindow(ReadRefused):
    slug = "outside-clerk-window"
    title = N_("Clerks see today and the next days only")


class NotYourOffice(ReadRefused):
    slug = "not-your-office"
    title = N_("This is not your office")


class SearchOutsideRequest(ReadRefused):
    slug = "search-outside-request"
    title = N_("Counsel searches only inside an open disclosure request")


class MatchesRefused(ReadRefused):
    slug = "registrar-may-not-see-matches"
    title = N_("The registrar of a request never sees its matches")


class RotationUnfinished(Conflict):
    slug = "rotation-unfinished"
    title = N_("Values still sealed under the old key")
