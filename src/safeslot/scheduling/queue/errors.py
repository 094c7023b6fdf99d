"""Queue errors (HTTP-free; each base in kit/errors.py carries its status).

    DomainError
    ├── NotFound
    │   └── TicketNotFound           unknown ticket (token or id), or another office's
    ├── InvalidInput
    │   ├── LanguageNotOffered       no one at this office speaks it
    │   ├── TooEarlyToCheckIn        more than the early window before the appointment
    │   └── TooLateToCheckIn         past the late window: take a walk-in ticket
    └── Conflict
        ├── OfficeClosed             no walk-in tickets outside the opening hours
        ├── AppointmentElsewhere     the appointment is at another office
        ├── TicketStateConflict      e.g. "done" for a ticket nobody called
        ├── NextVisitDue             every walk-in waiting would run into the clerk's next booked visit
        └── AppointmentNotCheckable  cancelled, missed or already served
"""

from __future__ import annotations

from safeslot.kit.errors import N_, Conflict, InvalidInput, NotFound


class TicketNotFound(NotFound, slug="ticket-not-found", title=N_("We could not find that ticket")):
    """We could not find that ticket at this office. Check the ticket number, or take a new ticket."""


class LanguageNotOffered(InvalidInput, slug="language-not-offered",
                         title=N_("No one at this office speaks that language")):
    """No one at this office speaks that language. Pick another language, or ask at the desk."""


class TooEarlyToCheckIn(InvalidInput, slug="too-early-to-check-in",
                        title=N_("It is too early to check in for this appointment")):
    """Check-in opens a short time before the appointment. Come back then."""


class TooLateToCheckIn(InvalidInput, slug="too-late-to-check-in",
                       title=N_("It is too late to check in for this appointment")):
    """The check-in window for this appointment has passed. Take a walk-in ticket at the desk."""


class AppointmentElsewhere(Conflict, slug="appointment-elsewhere", title=N_("This appointment is at another office")):
    """This appointment is at another office. Go to that office, or take a walk-in ticket here."""


class TicketStateConflict(Conflict, slug="ticket-state", title=N_("The ticket cannot change that way")):
    """The ticket cannot change that way (for example, finishing a ticket nobody called)."""


class AppointmentNotCheckable(Conflict, slug="appointment-not-checkable",
                              title=N_("This appointment cannot be checked in")):
    """This appointment was cancelled, missed or already served, so it cannot be checked in."""


class OfficeClosed(Conflict, slug="office-closed", title=N_("The office is closed now")):
    """Walk-in tickets are given only during opening hours. Come back when the office is open."""


class NextVisitDue(Conflict, slug="next-visit-due", title=N_("A walk-in would run into your next booked visit")):
    """The walk-ins waiting for this desk would run into the next visit booked with the person at the
    desk. Serve that visit first (its time is in ``at``), or leave the walk-ins to another desk."""
