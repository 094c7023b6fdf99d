"""Bodies of the privacy API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class StaffAppointmentOut(BaseModel):
    code: str
    starts_at: dt.datetime
    status: str
    name: str
    language: str | None
    accommodation: str | None


class NameSearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=120, description="Sent in the body, never in a URL.")
    office: str | None = Field(default=None, description="Limit to one office; without it an alert is raised.")
    purpose: str = Field(description="front_desk, check_in, disclosure_review or subject_access")


class AccessRecordOut(BaseModel):
    staff_id: int
    record_type: str
    record_id: str
    purpose: str
    at: dt.datetime


class AlertOut(BaseModel):
    id: int
    staff_id: int
    rule: str
    detail: str
    at: dt.datetime
