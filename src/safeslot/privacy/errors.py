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

from safeslot.kit.errors import N_, Forbidden, InvalidInput, NotFound, Recorded


class UnknownPurpose(InvalidInput, slug="unknown-purpose", title=N_("Unknown purpose")):
    """The reason given for reading personal data is not one of the fixed purposes. Pick one from
    the list.
    """


class ReadRefused(Recorded, Forbidden, slug="read-refused", title=N_("This read goes beyond what your work needs")):
    """Nothing was shown: reading this personal data goes beyond what your work needs. The attempt is kept
    as an alert for the auditors. If your work does need it, ask your supervisor or the privacy officer.
    """

    # Recorded: the alert is committed with the refusal (kit/errors.py).


class OutsideClerkWindow(ReadRefused, slug="outside-clerk-window", title=N_("Clerks see today and the next days only")):
    """Clerks see today's and the next days' appointments only. The refused read raised an alert for
    auditors.
    """


class OfficeOutOfScope(Recorded, NotFound, slug="office-not-found",
                       title=N_("Unknown office"), answers_as_another=True):
    """The same problem as scheduling's OfficeNotFound (no existence oracle), but the alert stays
    (a `Recorded` refusal). Its page is OfficeNotFound's: the answer must not differ."""


class SearchOutsideRequest(ReadRefused, slug="search-outside-request",
                           title=N_("Counsel searches only inside an open disclosure request")):
    """Counsel searches names only inside an open disclosure request they may read. The refused
    search raised an alert for auditors.
    """


class MatchesRefused(ReadRefused, slug="registrar-may-not-see-matches",
                     title=N_("The registrar of a request never sees its matches")):
    """The person who registered a disclosure request never sees its matches (two people, distinct
    roles). The refused read raised an alert.
    """


