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
        └── ClosureTaken             the office is already closed that day
    Unavailable
    └── BookingUnavailable           the booking fast path's writers lost the database (503, Retry-After)
"""

from __future__ import annotations

from safeslot.kit.errors import N_, Conflict, InvalidInput, NotFound, Unavailable


class OfficeNotFound(NotFound):
    slug = "office-not-found"
    title = N_("Unknown office")


class ServiceNotFound(NotFound):
    slug = "service-not-found"
    title = N_("Unknown service")


class AppointmentNotFound(NotFound):
    slug = "appointment-not-found"
    title = N_("No appointment has this code")


class TimeOutOfRange(InvalidInput):
    slug = "time-out-of-range"
    title = N_("That time cannot be booked")


class NoSuchSlot(InvalidInput):
    slug = "no-such-slot"
    title = N_("No appointment starts at that time")


class SlotFull(Conflict):
    slug = "slot-full"
    title = N_("That time is fully booked")


class InterpreterUnavailable(Conflict):
    slug = "interpreter-unavailable"
    title = N_("No interpreter is free at that time")


class InvalidTransition(Conflict):
    slug = "invalid-transition"
    title = N_("The appointment cannot change that way")


class OfficeItemNotFound(NotFound):
    slug = "office-item-not-found"
    title = N_("This office has no such entry")


class HoursOverlap(InvalidInput):
    slug = "hours-overlap"
    title = N_("Opening hours overlap")


class ClosureTaken(Conflict):
    slug = "closure-exists"
    title = N_("The office is already closed that day")


class BookingUnavailable(Unavailable):
    slug = "booking-unavailable"
    title = N_("Bookings cannot be written just now")


class PlaceNotFound(NotFound):
    """A ZIP code or town the office finder's table does not have."""

    slug = "place-not-found"
    title = N_("We do not know this place")
