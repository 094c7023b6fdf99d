"""Scheduling errors.

    DomainError
    ├── NotFound
    │   ├── OfficeNotFound, ServiceNotFound
    │   └── AppointmentNotFound      unknown or mistyped confirmation code
    │   └── OfficeItemNotFound       no such hours, closure or staff member at this office
    │   └── PlaceNotFound            a ZIP code or town the office finder does not know
    ├── InvalidInput
    │   ├── TimeOutOfRange           in the past, or beyond the booking window
    │   ├── NoSuchSlot               no appointment starts at that time
    │   └── HoursOverlap             a second opening window over the first
    └── Conflict
        ├── SlotFull                 carries the nearest free slots
        ├── InterpreterUnavailable   carries the nearest slots with an interpreter
        ├── InvalidTransition        e.g. checking in a cancelled appointment
        ├── ClosureTaken             the office is already closed that day
        ├── OfficeHasBookings        closing would strand visits the proposal does not list
        └── OfficeShut               the office was closed for good (two administrators)
    Unavailable
    └── BookingUnavailable           the booking fast path's writers lost the database (503, Retry-After)
"""

from __future__ import annotations

from safeslot.kit.errors import N_, Conflict, InvalidInput, NotFound, Unavailable


class OfficeNotFound(NotFound, slug="office-not-found", title=N_("Unknown office")):
    """There is no office with this name. Pick an office from the list."""


class ServiceNotFound(NotFound, slug="service-not-found", title=N_("Unknown service")):
    """This office does not offer this service. Pick a service from the office's list."""


class AppointmentNotFound(NotFound, slug="appointment-not-found", title=N_("No appointment has this code")):
    """No appointment has this confirmation code. Check the code as printed on your confirmation."""


class TimeOutOfRange(InvalidInput, slug="time-out-of-range", title=N_("That time cannot be booked")):
    """The time is in the past or beyond the booking window. Pick a time in the window the detail
    gives.
    """


class NoSuchSlot(InvalidInput, slug="no-such-slot", title=N_("No appointment starts at that time")):
    """No appointment starts at that time. Pick one of the free times offered."""


class SlotFull(Conflict, slug="slot-full", title=N_("That time is fully booked")):
    """Someone booked the last place at that time first. The answer lists the nearest free times."""


class InterpreterUnavailable(Conflict, slug="interpreter-unavailable", title=N_("No interpreter is free at that time")):
    """No interpreter for the language asked is free at that time. The answer lists the nearest
    times with one.
    """


class InvalidTransition(Conflict, slug="invalid-transition", title=N_("The appointment cannot change that way")):
    """The appointment cannot change that way (for example, checking in a cancelled one)."""


class OfficeItemNotFound(NotFound, slug="office-item-not-found", title=N_("This office has no such entry")):
    """This office has no such opening hours, closure or staff member."""


class HoursOverlap(InvalidInput, slug="hours-overlap", title=N_("Opening hours overlap")):
    """These opening hours overlap hours the office already has. Change or remove the existing ones
    first.
    """


class ClosureTaken(Conflict, slug="closure-exists", title=N_("The office is already closed that day")):
    """The office is already closed that day."""


class OfficeHasBookings(Conflict, slug="office-has-bookings", title=N_("The office still has visits to come")):
    """The office still has visits to come that the closing proposal does not list. Nobody is left
    without their appointment unnoticed: list every id from the office's bookings-to-move, so that
    its supervisor contacts each person to move them, or wait until those visits have passed.
    """


class OfficeShut(Conflict, slug="office-shut", title=N_("The office is closed for good")):
    """The office was closed for good by two administrators. It keeps its records but takes no changes
    and no bookings; propose a new office instead.
    """


class BookingUnavailable(Unavailable, slug="booking-unavailable", title=N_("Bookings cannot be written just now")):
    """Bookings cannot be written just now. Nothing was booked; try again after the seconds in
    Retry-After.
    """


class PlaceNotFound(NotFound, slug="place-not-found", title=N_("We do not know this place")):
    """A ZIP code or town the office finder's table does not have."""
