"""Every kind of transparency-log entry, typed once: the writers build these, the log checks them.

The disclosure gate (`disclosure/`), the privileged identity events (`identity/events.py`),
the report (`reports/service.publish`) and the log itself (`records.heads`) append instances
of these models; `transparency.service.append` refuses anything else. Reading back,
`parse` turns the canonical JSON of an entry into its model (the verifier reads
``records.heads`` through it). The report reads the same field names from the decoded JSON
without building a model per entry (it folds every entry of the log, and must still count
entries the models refuse: docs/decisions.md); `tests/reports/test_entry_fields.py` checks,
kind by kind, that each name it reads is a field of that kind's model.
docs/log-entries.md documents each kind, and a test checks it against these models.

What an entry may hold ("no free text in the public log"; "collect the minimum"):

* registry ids and enumerated codes (`Code`: no spaces, so no sentence fits), counts,
  booleans, SHA-256 hashes and keyed pseudonyms;
* never a name, a contact, a reason typed by staff. An unknown field is refused
  (``extra="forbid"``), and so is a value of the wrong type (``strict``: nothing is coerced,
  so the bytes written are exactly the values given).

The one deliberate exception: `identity.agency_registered` names the agency registered (an
institution's public name, never a person), bounded to 200 characters.

Bytes: `as_json` gives the fields that were set, as given, and the log writes them as RFC 8785
canonical JSON, so an entry built from a model is byte for byte the entry the dicts used to
make (chains and checkpoints written before stay valid).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union, cast

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

__all__ = [
    "EVENTS",
    "MODELS",
    "Accounting",
    "AgreementChanged",
    "AgreementCreated",
    "AgreementRenewed",
    "CategoryOutcome",
    "Decision",
    "Entry",
    "EntryBase",
    "EntryInvalid",
    "HoldCreated",
    "HoldLifted",
    "HoldScope",
    "IdentityEvent",
    "PolicyChange",
    "RecordsHeads",
    "Refused",
    "RefusedBeforeGate",
    "Release",
    "ReportPublished",
    "RequestClosed",
    "Review",
    "as_json",
    "parse",
]

# -- value types -----------------------------------------------------------------------------------
Stamp = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")]
"""A UTC time to the second, as the gate writes it: ``2027-03-01T14:05:00Z``."""
_RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
Time = Annotated[str, StringConstraints(pattern=_RFC3339)]
"""Any RFC 3339 time (the report's entry keeps Python's isoformat)."""
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_./:+=-]{0,127}$")]
"""A registry id or an enumerated value: ``agency-3``, ``unregistered``, ``judicial_warrant``."""
Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""A SHA-256 hash (or a commitment), lowercase hex."""
Pseudonym = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{24}$")]
"""A staff account's keyed pseudonym (identity/events.py): 24 hex digits of HMAC-SHA256."""
Base64 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{43}=$")]
"""A 32-byte hash in base64."""
Count = Annotated[int, Field(ge=0)]
Id = Annotated[int, Field(ge=1)]
AgencyName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class EntryInvalid(ValueError):
    """An entry that is not one of the kinds below, or holds a field or value they do not allow."""


class EntryBase(BaseModel):
    """Base of every entry model: unknown fields refused, nothing coerced, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Timed(EntryBase):
    time: Stamp


# -- the disclosure gate ---------------------------------------------------------------------------
class CategoryOutcome(EntryBase):
    """One category of a policy decision: its outcome and the Cedar policies that decided it."""

    category: Code
    outcome: Code
    policies: list[Code]


class Refused(_Timed):
    """A request refused at intake: nothing else was kept, so it has no request id."""

    event: Literal["disclosure.request_refused"] = "disclosure.request_refused"
    agency: Code
    instrument_type: Code
    purpose: Code
    categories: list[Code]
    subjects: Count
    nondisclosure_order: bool
    emergency: bool


class Decision(_Timed):
    """The policy's decision on a registered request (``stage`` ``review`` when a reviewer re-decides)."""

    event: Literal["disclosure.decision"] = "disclosure.decision"
    request_id: Id
    agency: Code
    instrument_type: Code
    purpose: Code
    subjects: Count
    candidates: list[Count]
    nondisclosure_order: bool
    emergency: bool
    policy_set_hash: Hex64
    profile: Code
    categories: list[CategoryOutcome]
    stage: Code | None = None


class AttestationView(EntryBase):
    """What an approval says about the approver's attestation: the field names confirmed, the
    document's hash and the reviewer's pseudonym, never a value."""

    fields: list[Code]
    document_sha256: Hex64
    reviewer: Code


class Review(_Timed):
    """A reviewer's act: the role, never the person (attestations name a reviewer pseudonym)."""

    event: Literal["disclosure.review"] = "disclosure.review"
    request_id: Id
    action: Code
    role: Code
    attestation: AttestationView | None = None
    categories: list[Code] | None = None
    subjects: Count | None = None
    candidates: Count | None = None
    match_reason: Code | None = None
    fields: list[Code] | None = None
    document_sha256: Hex64 | None = None
    reviewer: Code | None = None


class Release(_Timed):
    """What was released: categories, how many people, the package hash and one commitment per person."""

    event: Literal["disclosure.release"] = "disclosure.release"
    request_id: Id
    agency: Code
    instrument_type: Code
    categories: list[Code]
    subjects: Count
    policy_set_hash: Hex64 | None
    package_sha256: Hex64
    commitments: list[Hex64]


class Accounting(_Timed):
    """The accounting of one disclosure to one person (5 U.S.C. 552a(c)): a commitment only."""

    event: Literal["disclosure.accounting"] = "disclosure.accounting"
    request_id: Id
    commitment: Hex64


class RequestClosed(_Timed):
    """A request withdrawn by its agency or expired at its deadline."""

    event: Literal["disclosure.withdrawn", "disclosure.expired", "disclosure.closed"]
    request_id: Id
    status: Code


class RefusedBeforeGate(_Timed):
    """Intake calls the authorization middleware refused in one UTC hour, counted by reason."""

    event: Literal["disclosure.refused_before_gate"] = "disclosure.refused_before_gate"
    period: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}$")]
    counts: dict[Code, Count]


class HoldScope(EntryBase):
    recipient: Code | None = None
    purpose: Code | None = None
    category: Code | None = None


class HoldCreated(_Timed):
    event: Literal["legal_hold.created"] = "legal_hold.created"
    hold_id: Id
    scope: HoldScope


class HoldLifted(_Timed):
    event: Literal["legal_hold.lifted"] = "legal_hold.lifted"
    hold_id: Id


class AgreementCreated(_Timed):
    event: Literal["sharing_agreement.created"] = "sharing_agreement.created"
    agreement_id: Id
    agency: Code
    kind: Code
    purposes: list[Code]
    categories: list[Code]
    starts_at: Stamp
    expires_at: Stamp


class AgreementChanged(_Timed):
    event: Literal["sharing_agreement.suspended", "sharing_agreement.reinstated", "sharing_agreement.expired"]
    agreement_id: Id
    agency: Code


class AgreementRenewed(_Timed):
    event: Literal["sharing_agreement.renewed"] = "sharing_agreement.renewed"
    agreement_id: Id
    agency: Code
    expires_at: Stamp


class PolicyChange(_Timed):
    """A step of a two-person policy change: proposed, approved, adopted."""

    event: Literal["policy.change"] = "policy.change"
    policy_set_hash: Hex64
    profile: Code
    change_id: Id | None = None
    step: Code | None = None
    approvals: Count | None = None


# -- privileged identity events (identity/events.py) -----------------------------------------------
IDENTITY_EVENTS = (
    "change_proposed", "change_approved", "change_rejected", "change_withdrawn", "role_granted", "role_removed",
    "admin_bootstrapped", "agency_registered", "official_verified", "agency_key_approved", "agency_key_claimed",
    "hold_lift_approved", "agreement_suspension_approved", "agreement_reinstatement_approved",
    "account_deactivated", "factors_reset", "account_enrolled", "passkey_added", "oidc_linked", "oidc_unlinked",
    "office_scope_granted", "office_scope_removed", "office_opened", "office_closed",
)
IdentityEventName = Literal[
    "identity.change_proposed", "identity.change_approved", "identity.change_rejected",
    "identity.change_withdrawn", "identity.role_granted", "identity.role_removed", "identity.admin_bootstrapped",
    "identity.agency_registered", "identity.official_verified", "identity.agency_key_approved",
    "identity.agency_key_claimed", "identity.hold_lift_approved", "identity.agreement_suspension_approved",
    "identity.agreement_reinstatement_approved", "identity.account_deactivated", "identity.factors_reset",
    "identity.account_enrolled", "identity.passkey_added", "identity.oidc_linked", "identity.oidc_unlinked",
    "identity.office_scope_granted", "identity.office_scope_removed", "identity.office_opened",
    "identity.office_closed",
]


class IdentityEvent(_Timed):
    """A privileged identity change or act; accounts appear only as keyed pseudonyms."""

    event: IdentityEventName
    account: Pseudonym | None = None
    role: Code | None = None
    proposer: Pseudonym | None = None
    approver: Pseudonym | None = None
    proposal_id: Id | None = None
    actor: Pseudonym | None = None
    change: Code | None = None
    agency_id: Id | None = None
    agency: AgencyName | None = None
    official_id: Id | None = None
    hold_id: Id | None = None
    agreement_id: Id | None = None
    office_id: Id | None = None
    office: Code | None = None  # an office's slug (its public name); opening and closing
    bookings: Count | None = None  # visits listed for moving when an office closes (a count, never who)
    additional_key: bool | None = None
    method: Code | None = None
    credential_id: Id | None = None
    effective_at: Stamp | None = None
    new_account: bool | None = None
    roles: list[Code] | None = None
    credentials_revoked: Count | None = None


# -- the report and the log itself ---------------------------------------------------------------
class ReportPublished(EntryBase):
    """A signed transparency report: its period, hash and the checkpoint it was computed at."""

    event: Literal["report.published"] = "report.published"
    time: Time
    period: Code
    sha256: Hex64
    checkpoint_size: Count
    checkpoint_root: Base64


class RecordsHeads(_Timed):
    """The head hash of every hash-chained table (safeslot/chain.py), appended before a checkpoint."""

    event: Literal["records.heads"] = "records.heads"
    heads: dict[Code, Hex64] = Field(min_length=1)


Entry = Annotated[
    Union[  # noqa: UP007 (a discriminated union needs the Union form here)
        Refused, Decision, Review, Release, Accounting, RequestClosed, RefusedBeforeGate, HoldCreated, HoldLifted,
        AgreementCreated, AgreementChanged, AgreementRenewed, PolicyChange, IdentityEvent, ReportPublished,
        RecordsHeads,
    ],
    Field(discriminator="event"),
]
MODELS: tuple[type[EntryBase], ...] = (
    Refused, Decision, Review, Release, Accounting, RequestClosed, RefusedBeforeGate, HoldCreated, HoldLifted,
    AgreementCreated, AgreementChanged, AgreementRenewed, PolicyChange, IdentityEvent, ReportPublished, RecordsHeads,
)


def _events_of(model: type[EntryBase]) -> tuple[str, ...]:
    annotation = model.model_fields["event"].annotation
    return tuple(getattr(annotation, "__args__", ()))


# The log's allow-list of event names, derived from the models (one place: add a model to add an event).
EVENTS: frozenset[str] = frozenset(name for model in MODELS for name in _events_of(model))
# an Annotated union: mypy types it as a special form, not a type (cast, not an ignore: mypy disagreed with
# itself on whether the ignore was used, cached runs against fresh ones)
_ADAPTER: TypeAdapter[Any] = TypeAdapter(cast(Any, Entry))


def parse(value: Any) -> Any:
    """The model of one entry (a JSON object already decoded), or `EntryInvalid` saying what is wrong."""
    if not isinstance(value, dict) or not isinstance(value.get("event"), str):
        raise EntryInvalid("A log entry is a JSON object with an 'event' field.")
    if value["event"] not in EVENTS:
        raise EntryInvalid(f"Unknown log event type; use one of: {', '.join(sorted(EVENTS))}.")
    try:
        return _ADAPTER.validate_python(value)
    except ValidationError as exc:
        problems = sorted({".".join(str(p) for p in e["loc"][1:]) or "entry" for e in exc.errors()})
        raise EntryInvalid(
            f"This {value['event']} entry has fields it may not hold or values of the wrong form: "
            f"{', '.join(problems[:8])}. Entries hold registry ids, codes, counts and hashes only."
        ) from None


def as_json(entry: EntryBase) -> dict[str, Any]:
    """The entry's JSON object: the fields the writer set, as given, without the absent (None)
    ones, and its event."""
    value = entry.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    value.update(event=entry.event)  # type: ignore[attr-defined]  # every kind has one
    return value
