"""Reading the public forms: plain strings in, field errors (message ids) or a BookingIn out.

Messages are marked with N_ and translated where they are shown, next to the
field they belong to.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from safeslot.console.i18n import N_
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.schemas import CONTROLS, LANGUAGE_PATTERN, LINE_BREAKS, BookingIn, Contact, ContactKind

NAME_MAX = 120
ACCOMMODATION_MAX = 500
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ().-]{7,25}$")


def parse_code(text: str, errors: dict[str, str]) -> str:
    """A confirmation code as typed (any case, spaces, dashes); a message under ``code`` if it cannot be one."""
    cleaned = scheduling.normalise_code(text)
    if not cleaned:
        errors["code"] = N_("Enter the code from your confirmation.")
    elif len(cleaned) != scheduling.CODE_LENGTH:
        errors["code"] = N_("The code has 10 letters and numbers. Check it and try again.")
    return cleaned


def parse_day(text: str, field: str, errors: dict[str, str]) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors[field] = N_("Enter a date like 2027-03-15 (year, month, day).")
        return None


def parse_start(text: str) -> dt.datetime | None:
    """A slot's start as the slot picker sent it: a local time with its UTC offset."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


@dataclass
class BookingForm:
    office: str
    service: str
    start: str
    language: str = ""
    name: str = ""
    accommodation: str = ""
    contact_kind: str = ""
    contact: str = ""
    reminders: bool = False

    def __post_init__(self) -> None:
        self.name = self.name.strip()
        self.accommodation = self.accommodation.strip()
        self.contact = self.contact.strip()

    def validate(self) -> dict[str, str]:
        """Field → message id, in the order the fields appear on the page."""
        errors: dict[str, str] = {}
        if parse_start(self.start) is None:
            errors["start"] = N_("Choose a time first.")
        if not self.name:
            errors["name"] = N_("Enter your name or your initials.")
        elif len(self.name) > NAME_MAX:
            errors["name"] = N_("Use at most 120 characters. Initials are enough.")
        elif CONTROLS.search(self.name) or LINE_BREAKS.search(self.name):  # as BookingIn refuses them
            errors["name"] = N_("Check your answers and try again.")
        if self.language and not re.match(LANGUAGE_PATTERN, self.language):
            errors["language"] = N_("Choose a language from the list.")
        if len(self.accommodation) > ACCOMMODATION_MAX:
            errors["accommodation"] = N_("Use at most 500 characters.")
        elif CONTROLS.search(self.accommodation):
            errors["accommodation"] = N_("Check your answers and try again.")
        if self.contact and not self.reminders:
            # Collect the minimum: a contact only with consent to reminders.
            errors["contact"] = N_("To get reminders, check the box above. If you do not want them, leave this empty.")
        elif self.reminders and not self.contact:
            errors["contact"] = N_("Enter a phone number or an email address for your reminders.")
        elif self.contact:
            if self.contact_kind not in ("phone", "email"):
                errors["contact_kind"] = N_("Choose text message or email.")
            elif self.contact_kind == "email" and (not EMAIL.match(self.contact) or CONTROLS.search(self.contact)):
                errors["contact"] = N_("Enter an email address like name@example.com.")
            elif self.contact_kind == "phone" and not PHONE.match(self.contact):
                errors["contact"] = N_("Enter a phone number with at least 7 digits, like 555-0100.")
        return errors

    def to_booking(self) -> BookingIn:
        start = parse_start(self.start)
        assert start is not None
        contact = Contact(kind=ContactKind(self.contact_kind), value=self.contact) if self.contact else None
        return BookingIn(
            office=self.office, service=self.service, starts_at=start, name=self.name,
            language=self.language or None, accommodation=self.accommodation or None,
            contact=contact, reminders_opt_in=self.reminders and contact is not None,
        )
