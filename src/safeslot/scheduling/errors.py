"""Scheduling errors.

    DomainError
    ├── NotFound
    │   ├── OfficeNotFound, ServiceNotFound
    │   └── AppointmentNotFound      unknown or mistyped confirmation code
    ├── InvalidInput
    │   ├── TimeOutOfRange           in the past, or beyond the booking window
    │   └── NoSuchSlot               no appointment starts at that time
    └── Conflict
        ├── SlotFull                 carries the nearest free slots
        ├── InterpreterUnavailable   carries the nearest slots with an interpreter
        └── InvalidTransition        e.g. checking in a cancelled appointment
"""

from __future__ import annotations

from safeslot.errors import N_, Conflict, InvalidInput, NotFound


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
