"""Queue API bodies and answers (Pydantic). Answers never carry a name: only numbers, desks and times."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from safeslot.scheduling.schemas import Language, OneLine, Slug

Code = Annotated[str, StringConstraints(min_length=10, max_length=16, pattern=r"^[0-9A-Za-z -]+$")]
Desk = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class WalkInIn(BaseModel):
    """A walk-in's check-in: the service, and if they wish a language and a name or initials."""

    model_config = ConfigDict(extra="forbid")
    service: Slug
    language: Language | None = Field(default=None, description="Served in this language (BCP 47), if wanted.")
    name: OneLine | None = Field(default=None, max_length=100, description="Optional: a name or initials.")


class AppointmentCheckIn(BaseModel):
    """An appointment holder's check-in with the confirmation code."""

    model_config = ConfigDict(extra="forbid")
    code: Code


class TicketOut(BaseModel):
    """A ticket as its holder sees it."""

    token: str = Field(description="The ticket's secret address: /ticket/{token} is its page.")
    number: str = Field(description="What the lobby display shows, e.g. W012 (walk-in) or A003 (appointment).")
    kind: Literal["walk-in", "appointment"]
    status: Literal["waiting", "called", "done", "noshow", "left"]
    service: str
    language: str | None
    ahead: int = Field(description="Waiting tickets of the same service called before this one.")
    wait_min_minutes: int | None = Field(description="Estimated wait, low end (waiting tickets only).")
    wait_max_minutes: int | None = Field(description="Estimated wait, high end.")
    desk: str | None = Field(description="Where to go, once called.")
    expired: bool = Field(description="Still open but from an earlier day: it will not be called.")
    checked_in_at: dt.datetime


class CalledOut(BaseModel):
    number: str
    desk: str


class DeskIn(BaseModel):
    """Who is at the desk (a staff member of the office, whose services and languages decide) and its name."""

    model_config = ConfigDict(extra="forbid")
    staff_id: int = Field(ge=1, le=2**31 - 1)
    desk: Desk


class TicketAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff_id: int = Field(ge=1, le=2**31 - 1)
    action: Literal["recall", "done", "noshow", "transfer"]
    service: Slug | None = Field(default=None, description="For a transfer: the service the person goes on to.")


class DeskTicketOut(BaseModel):
    """The ticket at a desk: number, service, language, and for an appointment its time."""

    id: int
    number: str
    kind: str
    status: str
    service: str
    language: str | None
    due_at: dt.datetime | None
    desk: str | None
