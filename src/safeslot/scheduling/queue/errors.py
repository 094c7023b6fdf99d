"""Queue errors (HTTP-free; errors.STATUS maps their bases).

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
        └── AppointmentNotCheckable  cancelled, missed or already served
"""

from __future__ import annotations

from safeslot.kit.errors import N_, Conflict, InvalidInput, NotFound


class TicketNotFound(NotFound):
    slug = "ticket-not-found"
    title = N_("We could not find that ticket")


class LanguageNotOffered(InvalidInput):
    slug = "language-not-offered"
    title = N_("No one at this office speaks that language")


class TooEarlyToCheckIn(InvalidInput):
    slug = "too-early-to-check-in"
    title = N_("It is too early to check in for this appointment")


class TooLateToCheckIn(InvalidInput):
    slug = "too-late-to-check-in"
    title = N_("It is too late to check in for this appointment")


class AppointmentElsewhere(Conflict):
    slug = "appointment-elsewhere"
    title = N_("This appointment is at another office")


class TicketStateConflict(Conflict):
    slug = "ticket-state"
    title = N_("The ticket cannot change that way")


class AppointmentNotCheckable(Conflict):
    slug = "appointment-not-checkable"
    title = N_("This appointment cannot be checked in")


class OfficeClosed(Conflict):
    slug = "office-closed"
    title = N_("The office is closed now")
