"""Request and response bodies of the identity API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Username = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SignIn(Strict):
    username: Username
    password: str = Field(min_length=1, max_length=200)
    totp: str = Field(pattern=r"^[0-9]{6}$", description="The six-digit code from the authenticator app.")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (RFC 6750 token type, not a secret)
    expires_at: dt.datetime


class SessionOut(BaseModel):
    csrf_token: str
    expires_at: dt.datetime


class MeOut(BaseModel):
    kind: str
    name: str
    roles: list[str]
    office_id: int | None
    csrf_token: str | None = None


class AccountIn(Strict):
    username: Username
    display_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(min_length=1)
    office: str | None = Field(default=None, description="Office slug, for clerks and supervisors.")


class AccountOut(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    office_id: int | None
    active: bool
    locked_until: dt.datetime | None


class AccountCreated(AccountOut):
    totp_secret: str = Field(description="Shown once: put it in an authenticator app.")
    totp_uri: str


class RolesIn(Strict):
    roles: list[str] = Field(min_length=1)


class AgencyIn(Strict):
    name: str = Field(min_length=2, max_length=200)
    address: str = Field(min_length=2, max_length=400)


class OfficialIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=200)
    delegation_level: str = Field(description="head_of_agency, delegate or staff")


class OfficialOut(BaseModel):
    id: int
    agency_id: int
    name: str
    title: str
    delegation_level: str
    verified: bool
    verification_method: str | None


class AgencyOut(BaseModel):
    id: int
    name: str
    address: str
    officials: list[OfficialOut]


class VerificationIn(Strict):
    method: str = Field(description="phone_callback, in_person, agency_letter or video_call")
    note: str = Field(min_length=10, max_length=2000, description="What was checked, against which source.")


class KeyIn(Strict):
    revoke_others: bool = Field(default=True, description="Rotation: revoke this official's other keys.")


class KeyOut(BaseModel):
    credential_id: int
    api_key: str = Field(description="Shown once.")
    expires_at: dt.datetime
