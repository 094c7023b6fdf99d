"""Request and response bodies of the scheduling API."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
Language = Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN, max_length=16)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
# What a person types: no control characters (C0, DEL, C1) and no bidirectional overrides or isolates,
# which have no place in a name or a contact and can make a clerk's list read other than it is
# (docs/decisions.md "Control characters in what a person types"). Checked by pydantic's own regex engine;
# written with \uHHHH escapes, which it, Python's ``re`` (``CONTROLS``, ``LINE_BREAKS``: the console's forms)
# and the OpenAPI document's readers (ECMA-262) all read alike.
_CONTROL_RANGES = ((0x0, 0x8), (0xB, 0xC), (0xE, 0x1F), (0x7F, 0x9F), (0x202A, 0x202E), (0x2066, 0x2069))
_LINE_RANGES = ((0x9, 0xA), (0xD, 0xD))  # tab, line feed, carriage return: only where lines are allowed


def _set(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(f"\\u{a:04X}-\\u{b:04X}" for a, b in ranges)


CONTROLS = re.compile(f"[{_set(_CONTROL_RANGES)}]")
LINE_BREAKS = re.compile(f"[{_set(_LINE_RANGES)}]")
OneLine = Annotated[str, StringConstraints(pattern=f"^[^{_set(_CONTROL_RANGES + _LINE_RANGES)}]*$")]
Lines = Annotated[str, StringConstraints(pattern=f"^[^{_set(_CONTROL_RANGES)}]*$")]  # tabs and line breaks allowed


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("give the time with a UTC offset, e.g. 2027-03-15T09:00:00-04:00")
    return value


AwareDatetime = Annotated[dt.datetime, AfterValidator(_aware)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ContactKind(StrEnum):
    phone = "phone"
    email = "email"


class Contact(Strict):
    kind: ContactKind
    value: OneLine = Field(min_length=3, max_length=254, description="Phone number or e-mail address.")


class BookingIn(Strict):
    office: Slug
    service: Slug
    starts_at: AwareDatetime = Field(description="Start of the slot, as returned by the slot search.")
    name: OneLine = Field(min_length=1, max_length=120, description="A name or just initials.")
    language: Language | None = Field(default=None, description="Language for an interpreter, e.g. 'es'.")
    accommodation: Lines | None = Field(default=None, max_length=500, description="An accommodation need.")
    contact: Contact | None = Field(default=None, description="Only for reminders, deleted after the visit.")
    reminders_opt_in: bool = Field(default=False, description="Explicit consent to reminders.")


class RescheduleIn(Strict):
    starts_at: AwareDatetime


class StatusChangeIn(Strict):
    status: Annotated[str, StringConstraints(pattern=r"^(checked-in|fulfilled|noshow)$")]


class SlotOut(BaseModel):
    starts_at: dt.datetime = Field(description="Local time at the office, with its UTC offset.")
    ends_at: dt.datetime
    starts_at_utc: dt.datetime
    available: int
    interpreter: str | None = None


class AppointmentOut(BaseModel):
    code: str
    status: str
    office: str
    service: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    language: str | None
    reminders_opt_in: bool
    sequence: int


class ServiceText(BaseModel):
    """A service's name and description in one language."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=2000)


class ServiceOut(BaseModel):
    slug: str
    name: str
    description: str
    duration_minutes: int
    translations: dict[str, ServiceText] = Field(
        default_factory=dict, description="The name and description in other languages, by language, e.g. es."
    )


class OfficeOut(BaseModel):
    slug: str
    name: str
    address: str
    timezone: str
    services: list[ServiceOut]
    languages: list[str]


class ServiceIn(Strict):
    slug: Slug
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=2000)
    duration_minutes: int = Field(ge=15, le=240, multiple_of=15)


class StaffIn(Strict):
    display_name: str = Field(min_length=1, max_length=200, description="As shown at the desk, e.g. `Desk G`.")
    languages: list[Language] = Field(min_length=1, max_length=20)
    services: list[Slug] = Field(min_length=1, max_length=50)


class HoursIn(Strict):
    weekday: int = Field(ge=0, le=6, description="Monday = 0 … Sunday = 6.")
    opens: dt.time = Field(description="Office local time, e.g. 09:00.")
    closes: dt.time = Field(description="Office local time, after `opens`.")


class ClosureIn(Strict):
    day: dt.date = Field(description="Office local date.")
    reason: str = Field(min_length=1, max_length=200, description="Shown to the public, e.g. `Public holiday`.")


class NearOfficeOut(BaseModel):
    office: OfficeOut
    url: str = Field(description="The office's own public page, for clinics and letters to link to.")
    distance_km: float = Field(description="Straight-line distance from the place's centroid, rounded to 0.1 km.")
    next_free: dt.datetime | None = Field(
        description="Earliest free start (office local time) of any service in the next two weeks, "
        "with an interpreter when a language was asked for; null if none."
    )


class NearestOut(BaseModel):
    place: str = Field(description="The ZIP code or town searched from, as understood.")
    offices: list[NearOfficeOut]


class OfficeLocationIn(Strict):
    latitude: float = Field(ge=-90, le=90, description="WGS 84 degrees north.")
    longitude: float = Field(ge=-180, le=180, description="WGS 84 degrees east.")


class OfficeLocationOut(BaseModel):
    slug: str
    latitude: float
    longitude: float
