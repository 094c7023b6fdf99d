"""Bodies of the privacy API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# privacy/reads.py LOOKUP_REASONS, as the API's enumeration.
LookupReason = Literal["at_counter", "phone_call", "check_in", "written_request"]


class StaffAppointmentOut(BaseModel):
    code: str
    starts_at: dt.datetime
    status: str
    name: str
    language: str | None
    accommodation: str | None


class CounselMatchOut(BaseModel):
    """An appointment as counsel sees it inside a disclosure request: never a confirmation code."""

    appointment_id: int
    subject_id: int
    office: str
    starts_at: dt.datetime
    status: str
    name: str
    language: str | None = Field(description="Only when the request asks for language and accommodation.")
    accommodation: str | None = Field(description="Only when the request asks for language and accommodation.")


class NameSearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=120, description="Sent in the body, never in a URL.")
    reason: LookupReason | None = Field(
        default=None,
        description="Clerks: why you look this person up: at_counter (the person is at the counter), phone_call, "
        "check_in (arrived without their code) or written_request. Recorded with the look-up.",
    )
    office: str | None = Field(default=None, description="Clerks: your own office (the default); no other.")
    request_id: int | None = Field(
        default=None, ge=1, le=2**31 - 1,
        description="Counsel: the open disclosure request you review; required. Only the people it names are "
        "found, within its office and dates.",
    )


class AccessRecordOut(BaseModel):
    staff_id: int
    record_type: str
    record_id: str
    purpose: str
    at: dt.datetime
    role: str | None
    office_id: int | None
    reason: str | None


class AlertOut(BaseModel):
    id: int
    staff_id: int
    rule: str
    detail: str
    at: dt.datetime


class StaffLooksIn(BaseModel):
    """The person's own appointment: its confirmation code and the name given when booking."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=4, max_length=32)
    name: str = Field(min_length=1, max_length=200)


class StaffLookOut(BaseModel):
    """Staff looked at the appointment (privacy/person.py): the role and office, never a name."""

    day: dt.date = Field(description="The day of the look, in the office's time zone.")
    role: str = Field(description="clerk, supervisor, auditor …; 'staff' for looks recorded before roles were kept.")
    office: str | None = Field(description="The name of the office the staff member works at.")
    how: Literal["name_lookup", "upcoming_list", "other"]
    reason: LookupReason | None = Field(description="A name look-up's reason, as the clerk gave it.")
    times: int = Field(description="How many times that day.")


class ServiceVisitsOut(BaseModel):
    service: str = Field(description="The service's slug.")
    visits: dict[str, int] = Field(description="Status (booked, checked-in, fulfilled, noshow, cancelled) → visits.")


class OfficeReportOut(BaseModel):
    """One office's visits of a month: counts only, never a person."""

    office: str
    month: str
    total: int
    by_status: dict[str, int]
    by_service: list[ServiceVisitsOut]


class NetworkOfficeOut(BaseModel):
    office: str
    total: int
    by_status: dict[str, int]


class NetworkReportOut(BaseModel):
    """The whole network's visits of a month, office by office (the org auditor's report)."""

    month: str
    total: int
    offices: list[NetworkOfficeOut]
