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

from safeslot.errors import Conflict, InvalidInput, NotFound


class OfficeNotFound(NotFound):
    slug = "office-not-found"
    title = "Unknown office"


class ServiceNotFound(NotFound):
    slug = "service-not-found"
    title = "Unknown service"


class AppointmentNotFound(NotFound):
    slug = "appointment-not-found"
    title = "No appointment has this code"


class TimeOutOfRange(InvalidInput):
    slug = "time-out-of-range"
    title = "That time cannot be booked"


class NoSuchSlot(InvalidInput):
    slug = "no-such-slot"
    title = "No appointment starts at that time"


class SlotFull(Conflict):
    slug = "slot-full"
    title = "That time is fully booked"


class InterpreterUnavailable(Conflict):
    slug = "interpreter-unavailable"
    title = "No interpreter is free at that time"


class InvalidTransition(Conflict):
    slug = "invalid-transition"
    title = "The appointment cannot change that way"
