"""The scheduling domain's service-level functions, in one place for the endpoints, the console and the CLI
(other domains call the ones they need through ``interfaces.py``, the face).

The rules live in modules by use case (scheduling/README.md): ``rules`` (times,
codes, windows, the assignment locks), ``offices`` (look-ups), ``slots`` (the start-time
grid and the people-level search), ``assignment`` (who serves a visit), ``plan``
(the pure booking plan), ``booking`` (booking and managing by code) and
``administration`` (an office's services, staff, hours, closures, reassignment).
Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from safeslot.scheduling.administration import (
    PersonToContact,
    Reassignment,
    RecordRead,
    add_closure,
    add_office,
    add_service,
    add_staff,
    people_to_contact,
    reassign,
    remove_closure,
    remove_hours,
    reopen_slots,
    set_hours,
    set_service_text,
    unassigned,
    update_staff,
    update_staff_and_reassign,
)
from safeslot.scheduling.assignment import find_free_staff, hold_people
from safeslot.scheduling.booking import (
    SubjectRecord,
    appointment_in_scope,
    appointments_for_subject,
    book,
    cancel,
    execute,
    get_by_code,
    lock_booking_hours,
    prepare,
    reschedule,
    set_status,
)
from safeslot.scheduling.finder import NearOffice, nearest_offices, set_location
from safeslot.scheduling.offices import (
    get_office,
    get_service,
    list_offices,
    list_services,
    offered_languages,
    office_in_scope,
    office_item,
    office_languages,
    unknown_office,
)
from safeslot.scheduling.rules import (
    BASE_LANGUAGE,
    BOOKING_WINDOW,
    CODE_LENGTH,
    CROCKFORD,
    SEARCH_WINDOW,
    STAFF_TRANSITIONS,
    STEP,
    check_window,
    data_key_month,
    format_code,
    interpreter_language,
    new_code,
    normalise_code,
    valid_zone,
    zone,
)
from safeslot.scheduling.slots import FreeSlot, generate_slots, nearest_free, search_slots
from safeslot.scheduling.statistics import Count, month_counts
from safeslot.scheduling.working_hours import StaffSchedule, add_absence, remove_absence, schedule, set_staff_hours

_interpreter_language = interpreter_language  # the name the endpoints used before the split

__all__ = [
    "BASE_LANGUAGE",
    "BOOKING_WINDOW",
    "CODE_LENGTH",
    "CROCKFORD",
    "SEARCH_WINDOW",
    "STAFF_TRANSITIONS",
    "STEP",
    "Count",
    "FreeSlot",
    "NearOffice",
    "PersonToContact",
    "Reassignment",
    "RecordRead",
    "StaffSchedule",
    "SubjectRecord",
    "add_absence",
    "add_closure",
    "add_office",
    "add_service",
    "add_staff",
    "appointment_in_scope",
    "appointments_for_subject",
    "book",
    "cancel",
    "check_window",
    "data_key_month",
    "execute",
    "find_free_staff",
    "format_code",
    "generate_slots",
    "get_by_code",
    "get_office",
    "get_service",
    "hold_people",
    "interpreter_language",
    "list_offices",
    "list_services",
    "lock_booking_hours",
    "month_counts",
    "nearest_free",
    "nearest_offices",
    "new_code",
    "normalise_code",
    "offered_languages",
    "office_in_scope",
    "office_item",
    "office_languages",
    "people_to_contact",
    "prepare",
    "reassign",
    "remove_absence",
    "remove_closure",
    "remove_hours",
    "reopen_slots",
    "reschedule",
    "schedule",
    "search_slots",
    "set_hours",
    "set_location",
    "set_service_text",
    "set_staff_hours",
    "set_status",
    "unassigned",
    "unknown_office",
    "update_staff",
    "update_staff_and_reassign",
    "valid_zone",
    "zone",
]
