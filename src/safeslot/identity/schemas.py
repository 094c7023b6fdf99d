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


Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]{1,255}$", max_length=320)]


class AccountIn(Strict):
    """A new account. No password: the holder chooses it through the invitation sent to `email`."""

    username: Username
    display_name: str = Field(min_length=1, max_length=200)
    email: Email = Field(description="The holder's work address: the one-time invitation goes there only.")
    roles: list[str] = Field(min_length=1, max_length=6)
    office: str | None = Field(default=None, description="Office slug, for clerks and supervisors.")


class AccountOut(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    office_id: int | None
    active: bool
    locked_until: dt.datetime | None
    enrolled: bool = True
    office_ids: list[int] = Field(default_factory=list, description=(
        "The offices of the account's scope (granted by two people); a pending grant is not listed."))


class RolesIn(Strict):
    roles: list[str] = Field(min_length=1, max_length=6)


class ProposalOut(BaseModel):
    """A privileged change waiting for (or decided by) a second person."""

    id: int
    kind: str
    role: str | None
    status: str
    proposed_at: dt.datetime
    proposed_by: str
    decided_at: dt.datetime | None
    decided_by: str | None
    approver_roles: list[str]
    target: dict[str, object] = Field(description="What the change is about (ids, names; never a secret).")


class RolesChangeOut(BaseModel):
    account: AccountOut
    proposals: list[ProposalOut] = Field(description="Privileged roles added or removed wait for a second person.")


class RoleRemovalIn(Strict):
    role: str


class OfficeScopeIn(Strict):
    office: str = Field(min_length=1, max_length=64, description="Office slug (GET /api/v1/offices).")


class OfficeOpeningIn(Strict):
    slug: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$",
                      description="The office's address and public name: lowercase letters, digits, hyphens.")
    name: str = Field(min_length=1, max_length=200, description="The office's name as the public sees it.")
    address: str = Field(min_length=1, max_length=400, description="Street address (a public office's).")
    timezone: str = Field(min_length=1, max_length=64, description="IANA time zone, such as America/Chicago.")
    latitude: float | None = Field(default=None, ge=-90, le=90, description="WGS 84; with longitude, for the finder.")
    longitude: float | None = Field(default=None, ge=-180, le=180)


class OfficeClosingIn(Strict):
    move_bookings: list[int] = Field(
        default_factory=list, max_length=100_000,
        description="Every id from GET …/bookings-to-move: the visits still to come, listed for their office's "
        "supervisor to move. Closing is refused while a visit to come is not listed.")


class BookingToMoveOut(BaseModel):
    id: int
    starts_at: dt.datetime
    service_id: int


class EnrolIn(Strict):
    token: str = Field(min_length=10, max_length=200)
    password: str = Field(min_length=1, max_length=200)


class EnrolOut(BaseModel):
    username: str
    totp_secret: str = Field(description="Yours only, shown once: put it in your authenticator app.")
    totp_uri: str


class ClaimIn(Strict):
    token: str = Field(min_length=10, max_length=200)


class OffboardOut(BaseModel):
    username: str
    active: bool
    credentials_revoked: int


class AgencyIn(Strict):
    name: str = Field(min_length=2, max_length=200)
    address: str = Field(min_length=2, max_length=400)


class OfficialIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=200)
    delegation_level: str = Field(description="head_of_agency, delegate or staff")
    email: Email | None = Field(default=None, description="Registered address: API keys reach the official only "
                                "through a one-time claim link sent there.")


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
    revoke_others: bool = Field(default=True, description="Rotation: the new key replaces the official's others. "
                                "False asks for an additional key, which the approver sees.")


class KeyOut(BaseModel):
    credential_id: int
    api_key: str = Field(description="Shown once, to the official who claimed it.")
    expires_at: dt.datetime
