"""The disclosure policy core, without a database: the default policy table (docs/architecture.md) row by row in both
profiles, the "always" rules (holds, named subjects), sharing agreements, the state
civil-immigration limit (RCW 43.17.425, Cal. Gov. Code 7284.6), explanations and failing closed. Loading
rules and the policy-set hash are in test_policy_set.py, the facts' vocabulary in test_policy_facts.py."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeslot.disclosure.policy import (
    DEFAULT_DENY,
    EVALUATION_ERROR,
    AgreementFacts,
    Category,
    CategoryDecision,
    ConsentFacts,
    Decision,
    DocumentSignature,
    HoldSets,
    InstrumentType,
    NondisclosureFacts,
    Outcome,
    PolicyEngine,
    PolicyMismatch,
    Purpose,
    RequestFacts,
    SignerType,
)

POLICIES = Path(__file__).resolve().parents[2] / "policies"
PROFILE_NAMES = ("federal", "state")
ALL = tuple(Category)
AGENCY = "dhs-ice"

ALLOW = Outcome.ALLOW
REVIEW = Outcome.ALLOW_WITH_COUNSEL_REVIEW
DENY = Outcome.DENY


@cache
def engine(profile: str) -> PolicyEngine:
    # Cached rather than a fixture so Hypothesis tests can share it across examples.
    return PolicyEngine.load(POLICIES, profile)


def facts(
    instrument: InstrumentType,
    signer: SignerType,
    *,
    purpose: Purpose = Purpose.CRIMINAL,
    categories: tuple[Category, ...] = ALL,
    named: frozenset[Category] | None = None,
    subjects: int = 1,
    holds: HoldSets | None = None,
    agreement: AgreementFacts | None = None,
    all_named: bool = True,
    signature: DocumentSignature = DocumentSignature.NONE,
    consent: ConsentFacts = ConsentFacts(names_recipient=True, names_purpose=True),
    order: NondisclosureFacts | None = None,
) -> RequestFacts:
    return RequestFacts(
        instrument_type=instrument,
        signer_type=signer,
        purpose=purpose,
        agency=AGENCY,
        categories=categories,
        named_categories=frozenset(categories) if named is None else named,
        subject_count=subjects,
        holds=holds or HoldSets(),
        agreement=agreement,
        all_subjects_named=all_named,
        document_signature=signature,
        consent=consent,
        nondisclosure_order=order,
    )


def outcomes(decision: Decision) -> dict[str, Outcome]:
    return {d.category: d.outcome for d in decision.categories}


def for_category(decision: Decision, category: str) -> CategoryDecision:
    """The answer for one category (KeyError if it was not asked for)."""
    return {d.category: d for d in decision.categories}[category]


def ids(decision: Decision, category: Category) -> tuple[str, ...]:
    return for_category(decision, category).policy_ids


# --- the table (docs/architecture.md, "Default disclosure policy"), one row per case ---------------
# Columns: identity, contact, appointment schedule, visit history, language & accommodation.
# Purpose "criminal" so the state profile must agree with the federal one on every row.
IDN, CON, SCH, VIS, LNG = ALL
IT, SG = InstrumentType, SignerType
TABLE = [  # instrument, signer, outcomes in column order, the forbid behind each deny
    (IT.ADMINISTRATIVE_WARRANT, SG.OFFICER, (DENY,) * 5, "administrative-warrant-refused"),
    (IT.ADMINISTRATIVE_SUBPOENA, SG.OFFICER, (DENY,) * 5, "administrative-subpoena-refused"),
    (IT.CLERK_SUBPOENA, SG.CLERK, (DENY,) * 5, "clerk-subpoena-refused"),
    (
        IT.HEAD_OF_AGENCY_REQUEST,
        SG.AGENCY_HEAD,
        (REVIEW, DENY, DENY, REVIEW, DENY),
        "head-of-agency-category-refused",
    ),
    (IT.COURT_ORDER, SG.JUDGE, (ALLOW,) * 5, None),
    (IT.JUDICIAL_WARRANT, SG.JUDGE, (ALLOW,) * 5, None),
    (IT.CONSENT, SG.SUBJECT, (ALLOW,) * 5, None),
    # An emergency is never for enforcement; for health or safety see test_emergency_*.
    (IT.EMERGENCY, SG.OFFICER, (DENY,) * 5, "emergency-not-for-enforcement"),
]
ROWS = [row[0].value for row in TABLE]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize(("instrument", "signer", "expected", "deny_id"), TABLE, ids=ROWS)
def test_table_row(
    profile: str,
    instrument: InstrumentType,
    signer: SignerType,
    expected: tuple[Outcome, ...],
    deny_id: str | None,
) -> None:
    decision = engine(profile).decide(facts(instrument, signer))
    assert outcomes(decision) == dict(zip(ALL, expected, strict=True))
    assert decision.policy_set_hash == engine(profile).policy_set_hash
    for decided in decision.categories:
        assert decided.policy_ids, "every answer names the policies that decided it"
        if decided.outcome is DENY:
            assert deny_id in decided.policy_ids


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize(
    ("instrument", "signer"),
    [
        (InstrumentType.COURT_ORDER, SignerType.JUDGE),
        (InstrumentType.JUDICIAL_WARRANT, SignerType.JUDGE),
        (InstrumentType.CONSENT, SignerType.SUBJECT),
    ],
)
def test_allows_exactly_what_the_instrument_names(profile: str, instrument: InstrumentType, signer: SignerType) -> None:
    decision = engine(profile).decide(facts(instrument, signer, named=frozenset({IDN, VIS})))
    assert outcomes(decision) == {IDN: ALLOW, CON: DENY, SCH: DENY, VIS: ALLOW, LNG: DENY}
    assert ids(decision, CON) == ("category-not-in-instrument",)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize(
    ("instrument", "signer", "deny_id"),
    [
        (InstrumentType.COURT_ORDER, SignerType.CLERK, "court-order-not-signed-by-judge"),
        (InstrumentType.COURT_ORDER, SignerType.OFFICER, "court-order-not-signed-by-judge"),
        (
            InstrumentType.JUDICIAL_WARRANT,
            SignerType.OFFICER,
            "judicial-warrant-not-signed-by-judge",
        ),
        (InstrumentType.JUDICIAL_WARRANT, SignerType.CLERK, "judicial-warrant-not-signed-by-judge"),
        (InstrumentType.CONSENT, SignerType.OFFICER, "consent-not-signed-by-subject"),
        (
            InstrumentType.HEAD_OF_AGENCY_REQUEST,
            SignerType.OFFICER,
            "head-of-agency-not-signed-by-head",
        ),
    ],
)
def test_wrong_signer_denies_all(profile: str, instrument: InstrumentType, signer: SignerType, deny_id: str) -> None:
    decision = engine(profile).decide(facts(instrument, signer))
    assert set(outcomes(decision).values()) == {DENY}
    assert all(deny_id in d.policy_ids for d in decision.categories)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_consent_covers_only_the_person_who_signed(profile: str) -> None:
    decision = engine(profile).decide(facts(InstrumentType.CONSENT, SignerType.SUBJECT, subjects=2))
    assert set(outcomes(decision).values()) == {DENY}
    assert ids(decision, IDN) == ("consent-covers-one-person",)


# --- always: holds and named subjects ---------------------------------------------------


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize(
    ("holds", "hold_id", "denied"),
    [
        (HoldSets(agencies=frozenset({AGENCY})), "legal-hold-recipient", set(ALL)),
        (HoldSets(purposes=frozenset({Purpose.CRIMINAL})), "legal-hold-purpose", set(ALL)),
        (HoldSets(categories=frozenset({VIS})), "legal-hold-category", {VIS}),
    ],
    ids=["agency", "purpose", "category"],
)
def test_hold_forbids(profile: str, holds: HoldSets, hold_id: str, denied: set[Category]) -> None:
    decision = engine(profile).decide(facts(InstrumentType.COURT_ORDER, SignerType.JUDGE, holds=holds))
    for category in ALL:
        expected = DENY if category in denied else ALLOW
        assert for_category(decision, category).outcome is expected
    for category in denied:
        assert ids(decision, category) == (hold_id,)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_hold_on_another_agency_or_purpose_does_not_apply(profile: str) -> None:
    holds = HoldSets(agencies=frozenset({"cbp"}), purposes=frozenset({Purpose.CIVIL_IMMIGRATION}))
    decision = engine(profile).decide(facts(InstrumentType.COURT_ORDER, SignerType.JUDGE, holds=holds))
    assert set(outcomes(decision).values()) == {ALLOW}


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize(("instrument", "signer", "_e", "_d"), TABLE, ids=ROWS)
def test_zero_named_subjects_denies_all(
    profile: str, instrument: InstrumentType, signer: SignerType, _e: object, _d: object
) -> None:
    decision = engine(profile).decide(facts(instrument, signer, subjects=0))
    assert set(outcomes(decision).values()) == {DENY}
    assert all("no-named-subject" in d.policy_ids for d in decision.categories)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_a_described_rather_than_named_subject_denies_all(profile: str) -> None:
    request = facts(InstrumentType.COURT_ORDER, SignerType.JUDGE, subjects=3, all_named=False)
    decision = engine(profile).decide(request)
    assert set(outcomes(decision).values()) == {DENY}
    assert ids(decision, IDN) == ("subject-not-named",)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_many_subjects_are_decided_once_per_category(profile: str) -> None:
    decision = engine(profile).decide(facts(InstrumentType.COURT_ORDER, SignerType.JUDGE, subjects=1000))
    assert [d.category for d in decision.categories] == list(ALL)
    assert set(outcomes(decision).values()) == {ALLOW}


# --- sharing agreements (routine use, 552a(b)(3)) ---------------------------------------


def agreement(**changes: object) -> AgreementFacts:
    fields: dict[str, object] = {
        "recipient": AGENCY,
        "active": True,
        "suspended": False,
        "categories": frozenset({IDN, SCH, LNG}),
        "purposes": frozenset({Purpose.PROGRAM_INTEGRITY, Purpose.CRIMINAL}),
    }
    fields.update(changes)
    return AgreementFacts(**fields)  # type: ignore[arg-type]


def sharing(purpose: Purpose, deal: AgreementFacts | None) -> RequestFacts:
    return facts(InstrumentType.SHARING_AGREEMENT, SignerType.AGENCY_HEAD, purpose=purpose, agreement=deal)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize(
    "deal",
    [
        None,
        agreement(active=False),
        agreement(suspended=True),
        agreement(recipient="some-other-agency"),
    ],
    ids=["absent", "expired", "suspended", "other-recipient"],
)
def test_sharing_agreement_not_in_force_denies_all(profile: str, deal: AgreementFacts | None) -> None:
    decision = engine(profile).decide(sharing(Purpose.PROGRAM_INTEGRITY, deal))
    assert set(outcomes(decision).values()) == {DENY}
    assert all("sharing-agreement-not-in-force" in d.policy_ids for d in decision.categories)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_active_sharing_agreement_allows_only_listed_categories(profile: str) -> None:
    decision = engine(profile).decide(sharing(Purpose.PROGRAM_INTEGRITY, agreement()))
    assert outcomes(decision) == {IDN: ALLOW, CON: DENY, SCH: ALLOW, VIS: DENY, LNG: ALLOW}
    assert ids(decision, IDN) == ("sharing-agreement-routine-use",)
    assert ids(decision, CON) == ("sharing-agreement-category-not-listed",)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_sharing_agreement_refuses_unlisted_purpose(profile: str) -> None:
    decision = engine(profile).decide(sharing(Purpose.OTHER_CIVIL, agreement()))
    assert set(outcomes(decision).values()) == {DENY}
    assert "sharing-agreement-purpose-not-listed" in ids(decision, IDN)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize("purpose", [Purpose.CRIMINAL, Purpose.CIVIL_IMMIGRATION])
def test_sharing_agreement_never_releases_schedule_for_enforcement(profile: str, purpose: Purpose) -> None:
    deal = agreement(categories=frozenset(ALL), purposes=frozenset(Purpose))
    decision = engine(profile).decide(sharing(purpose, deal))
    schedule = for_category(decision, SCH)
    assert schedule.outcome is DENY
    assert "sharing-agreement-no-schedule-for-enforcement" in schedule.policy_ids
    if profile == "federal":
        assert for_category(decision, IDN).outcome is ALLOW


# --- state profile: civil immigration needs a judicial warrant --------------------------

SIGNERS = {
    InstrumentType.ADMINISTRATIVE_WARRANT: SignerType.OFFICER,
    InstrumentType.ADMINISTRATIVE_SUBPOENA: SignerType.OFFICER,
    InstrumentType.CLERK_SUBPOENA: SignerType.CLERK,
    InstrumentType.HEAD_OF_AGENCY_REQUEST: SignerType.AGENCY_HEAD,
    InstrumentType.COURT_ORDER: SignerType.JUDGE,
    InstrumentType.JUDICIAL_WARRANT: SignerType.JUDGE,
    InstrumentType.CONSENT: SignerType.SUBJECT,
    InstrumentType.SHARING_AGREEMENT: SignerType.AGENCY_HEAD,
    InstrumentType.EMERGENCY: SignerType.OFFICER,
}
STATE_BAR = "state-civil-immigration-needs-judicial-warrant"


@pytest.mark.parametrize("instrument", list(InstrumentType))
def test_state_denies_civil_immigration_unless_judicial_warrant(instrument: InstrumentType) -> None:
    deal = agreement(categories=frozenset(ALL), purposes=frozenset(Purpose))
    request = facts(instrument, SIGNERS[instrument], purpose=Purpose.CIVIL_IMMIGRATION, agreement=deal)
    state = engine("state").decide(request)
    if instrument is InstrumentType.JUDICIAL_WARRANT:
        assert set(outcomes(state).values()) == {ALLOW}
    else:
        assert set(outcomes(state).values()) == {DENY}
        assert all(STATE_BAR in d.policy_ids for d in state.categories)


def test_federal_follows_the_table_for_civil_immigration() -> None:
    request = facts(InstrumentType.CONSENT, SignerType.SUBJECT, purpose=Purpose.CIVIL_IMMIGRATION)
    assert set(outcomes(engine("federal").decide(request)).values()) == {ALLOW}
    assert STATE_BAR not in engine("federal").policies
    assert STATE_BAR in engine("state").policies


# --- Hypothesis: a hold always wins ------------------------------------------------------

requests = st.builds(
    RequestFacts,
    instrument_type=st.sampled_from(InstrumentType),
    signer_type=st.sampled_from(SignerType),
    purpose=st.sampled_from(Purpose),
    agency=st.sampled_from([AGENCY, "cbp"]),
    categories=st.lists(st.sampled_from(Category), min_size=1, unique=True).map(tuple),
    named_categories=st.frozensets(st.sampled_from(Category)),
    subject_count=st.integers(min_value=0, max_value=5),
    holds=st.builds(
        HoldSets,
        agencies=st.frozensets(st.sampled_from([AGENCY, "cbp"])),
        purposes=st.frozensets(st.sampled_from(Purpose)),
        categories=st.frozensets(st.sampled_from(Category)),
    ),
    agreement=st.none()
    | st.builds(
        AgreementFacts,
        recipient=st.sampled_from([AGENCY, "cbp"]),
        active=st.booleans(),
        suspended=st.booleans(),
        categories=st.frozensets(st.sampled_from(Category)),
        purposes=st.frozensets(st.sampled_from(Purpose)),
    ),
    all_subjects_named=st.booleans(),
    document_signature=st.sampled_from(DocumentSignature),
    consent=st.builds(ConsentFacts, requester_is_subject=st.booleans(), names_recipient=st.booleans(),
                      names_purpose=st.booleans()),
    nondisclosure_order=st.none() | st.builds(NondisclosureFacts, signer=st.sampled_from(SignerType),
                                              has_end=st.booleans(), within_a_year=st.booleans()),
)


@settings(max_examples=300, deadline=None)
@given(drawn=requests, profile=st.sampled_from(PROFILE_NAMES), data=st.data())
def test_no_combination_with_a_hold_on_the_category_is_allowed(
    drawn: RequestFacts, profile: str, data: st.DataObject
) -> None:
    held = data.draw(st.sampled_from(drawn.categories))
    holds = dataclasses.replace(drawn.holds, categories=drawn.holds.categories | {held})
    request = dataclasses.replace(drawn, holds=holds)
    decision = engine(profile).decide(request)
    assert for_category(decision, held).outcome is DENY
    assert "legal-hold-category" in ids(decision, held)
    for decided in decision.categories:
        assert EVALUATION_ERROR not in decided.policy_ids
        if (
            decided.category in holds.categories
            or request.agency in holds.agencies
            or request.purpose in holds.purposes
        ):
            assert decided.outcome is DENY


@settings(max_examples=300, deadline=None)
@given(drawn=requests, profile=st.sampled_from(PROFILE_NAMES))
def test_every_shipped_denial_names_a_specific_policy(drawn: RequestFacts, profile: str) -> None:
    for decided in engine(profile).decide(drawn).categories:
        assert decided.policy_ids
        assert DEFAULT_DENY not in decided.policy_ids
        assert EVALUATION_ERROR not in decided.policy_ids
        if decided.outcome is not DENY:
            assert decided.category in drawn.named_categories
            assert drawn.subject_count >= 1
            assert drawn.all_subjects_named
            # Rules the typing cannot get round.
            assert drawn.document_signature is not DocumentSignature.INVALID
            assert drawn.signer_type is not SignerType.EXECUTIVE_ADJUDICATOR
            order = drawn.nondisclosure_order
            assert order is None or (order.signer is SignerType.JUDGE and order.has_end and order.within_a_year)
            if drawn.instrument_type is InstrumentType.EMERGENCY:
                assert drawn.purpose is Purpose.HEALTH_OR_SAFETY
                assert decided.outcome is REVIEW
                assert decided.category in (IDN, CON)
            if drawn.instrument_type is InstrumentType.CONSENT:
                c = drawn.consent
                assert c.requester_is_subject or (c.names_recipient and c.names_purpose)


# --- failing closed ---------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_value_the_schema_rejects_is_an_evaluation_error_deny(profile: str) -> None:
    request = facts(InstrumentType.COURT_ORDER, SignerType.JUDGE, purpose="bogus")  # type: ignore[arg-type]
    decision = engine(profile).decide(request)
    assert set(outcomes(decision).values()) == {DENY}
    for decided in decision.categories:
        assert decided.policy_ids == (EVALUATION_ERROR,)
        assert decided.errors


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_mistyped_context_is_an_evaluation_error_deny(profile: str) -> None:
    # A string where the schema wants a Long: without the schema a forbid could be skipped.
    request = facts(InstrumentType.COURT_ORDER, SignerType.JUDGE, subjects="1")  # type: ignore[arg-type]
    decision = engine(profile).decide(request)
    assert {d.policy_ids for d in decision.categories} == {(EVALUATION_ERROR,)}


def test_unknown_category_is_denied_alone() -> None:
    request = facts(
        InstrumentType.COURT_ORDER,
        SignerType.JUDGE,
        categories=(IDN, "ssn"),  # type: ignore[arg-type]
        named=frozenset({IDN}),
    )
    decision = engine("federal").decide(request)
    assert for_category(decision, IDN).outcome is ALLOW
    assert for_category(decision, "ssn").policy_ids == (EVALUATION_ERROR,)


def test_unserialisable_facts_deny_everything() -> None:
    request = facts(InstrumentType.COURT_ORDER, SignerType.JUDGE, subjects=object())  # type: ignore[arg-type]
    decision = engine("federal").decide(request)
    assert {d.policy_ids for d in decision.categories} == {(EVALUATION_ERROR,)}


def test_no_categories_requested_gives_an_empty_decision() -> None:
    empty = engine("federal").decide(facts(InstrumentType.COURT_ORDER, SignerType.JUDGE, categories=()))
    assert empty.categories == ()


def test_no_matching_permit_is_named_default_deny(policies: Path) -> None:
    # The shipped policies give every denial a specific forbid (see the property test);
    # remove the consent permit to reach Cedar's unnamed default deny.
    consent = policies / "federal" / "40-consent.cedar"
    text = consent.read_text()
    start = text.index('@id("consent-of-the-person")')
    consent.write_text(text[:start] + text[text.index("};", start) + 2 :])
    policy = PolicyEngine.load(policies, "federal")
    decision = policy.decide(facts(InstrumentType.CONSENT, SignerType.SUBJECT))
    assert {d.policy_ids for d in decision.categories} == {(DEFAULT_DENY,)}
    assert all("denied by default" in line for line in policy.explain(decision))


def test_repeated_categories_are_decided_once() -> None:
    request = facts(InstrumentType.COURT_ORDER, SignerType.JUDGE, categories=(IDN, IDN, CON))
    assert [d.category for d in engine("federal").decide(request).categories] == [IDN, CON]


# --- explanations -----------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize(("instrument", "signer", "_e", "_d"), TABLE, ids=ROWS)
def test_explain_gives_a_sentence_per_category(
    profile: str, instrument: InstrumentType, signer: SignerType, _e: object, _d: object
) -> None:
    policy = engine(profile)
    decision = policy.decide(facts(instrument, signer))
    lines = policy.explain(decision)
    assert len(lines) == len(decision.categories)
    for line, decided in zip(lines, decision.categories, strict=True):
        assert line.endswith(".")
        for policy_id in decided.policy_ids:
            assert f"[{policy_id}]" in line
        assert ("denied" in line) == (decided.outcome is DENY)
        assert ("counsel confirms" in line) == (decided.outcome is REVIEW)


def test_explain_names_synthetic_reasons() -> None:
    policy = engine("federal")
    lines = policy.explain(
        policy.decide(facts(InstrumentType.COURT_ORDER, SignerType.JUDGE, purpose="bogus"))  # type: ignore[arg-type]
    )
    assert all("could not evaluate" in line for line in lines)


def test_explain_refuses_a_decision_from_another_policy_set() -> None:
    decision = engine("state").decide(facts(InstrumentType.CONSENT, SignerType.SUBJECT))
    with pytest.raises(PolicyMismatch):
        engine("federal").explain(decision)


# --- loading, validation and the policy-set hash ----------------------------------------


# --- rules the typing cannot fake --------------------------------------------


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize("instrument", [InstrumentType.COURT_ORDER, InstrumentType.JUDICIAL_WARRANT])
def test_an_immigration_judge_or_alj_is_not_a_court(profile: str, instrument: InstrumentType) -> None:
    decision = engine(profile).decide(facts(instrument, SignerType.EXECUTIVE_ADJUDICATOR))
    assert set(outcomes(decision).values()) == {DENY}
    assert all("executive-adjudicator-not-a-court" in d.policy_ids for d in decision.categories)
    assert "not a judge of a court" in engine(profile).explain(decision)[0]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize(
    ("consent", "allowed"),
    [
        (ConsentFacts(), False),
        (ConsentFacts(names_recipient=True), False),
        (ConsentFacts(names_purpose=True), False),
        (ConsentFacts(names_recipient=True, names_purpose=True), True),
        (ConsentFacts(requester_is_subject=True), True),
    ],
)
def test_consent_needs_the_persons_own_request_or_a_form_naming_recipient_and_purpose(
    profile: str, consent: ConsentFacts, allowed: bool
) -> None:
    decision = engine(profile).decide(facts(InstrumentType.CONSENT, SignerType.SUBJECT, consent=consent))
    if allowed:
        assert set(outcomes(decision).values()) == {ALLOW}
    else:
        assert set(outcomes(decision).values()) == {DENY}
        assert all("consent-form-incomplete" in d.policy_ids for d in decision.categories)


def test_state_never_takes_consent_for_civil_immigration() -> None:
    complete = ConsentFacts(requester_is_subject=True, names_recipient=True, names_purpose=True)
    request = facts(InstrumentType.CONSENT, SignerType.SUBJECT, purpose=Purpose.CIVIL_IMMIGRATION, consent=complete)
    decision = engine("state").decide(request)
    assert set(outcomes(decision).values()) == {DENY}
    assert all(STATE_BAR in d.policy_ids for d in decision.categories)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize(
    ("order", "deny_id"),
    [
        (NondisclosureFacts(SignerType.OFFICER, True, True), "nondisclosure-order-not-signed-by-judge"),
        (NondisclosureFacts(SignerType.EXECUTIVE_ADJUDICATOR, True, True),
         "nondisclosure-order-not-signed-by-judge"),
        (NondisclosureFacts(SignerType.JUDGE, False, False), "nondisclosure-order-without-end"),
        (NondisclosureFacts(SignerType.JUDGE, True, False), "nondisclosure-order-longer-than-a-year"),
    ],
)
def test_a_nondisclosure_order_must_be_a_judges_and_end_within_a_year(
    profile: str, order: NondisclosureFacts, deny_id: str
) -> None:
    decision = engine(profile).decide(facts(InstrumentType.JUDICIAL_WARRANT, SignerType.JUDGE, order=order))
    assert set(outcomes(decision).values()) == {DENY}
    assert all(deny_id in d.policy_ids for d in decision.categories)
    fine = NondisclosureFacts(SignerType.JUDGE, True, True)
    ok = engine(profile).decide(facts(InstrumentType.JUDICIAL_WARRANT, SignerType.JUDGE, order=fine))
    assert set(outcomes(ok).values()) == {ALLOW}


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_emergency_for_health_or_safety_gives_identity_and_contact_after_counsel(profile: str) -> None:
    decision = engine(profile).decide(facts(InstrumentType.EMERGENCY, SignerType.OFFICER,
                                            purpose=Purpose.HEALTH_OR_SAFETY))
    assert outcomes(decision) == {IDN: REVIEW, CON: REVIEW, SCH: DENY, VIS: DENY, LNG: DENY}
    assert ids(decision, SCH) == ("emergency-category-refused",)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize("purpose", [p for p in Purpose if p is not Purpose.HEALTH_OR_SAFETY])
def test_emergency_is_never_for_enforcement(profile: str, purpose: Purpose) -> None:
    decision = engine(profile).decide(facts(InstrumentType.EMERGENCY, SignerType.OFFICER, purpose=purpose,
                                            categories=(IDN, CON)))
    assert set(outcomes(decision).values()) == {DENY}
    assert all("emergency-not-for-enforcement" in d.policy_ids for d in decision.categories)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize("signature", list(DocumentSignature))
def test_only_an_invalid_signature_denies_by_itself(profile: str, signature: DocumentSignature) -> None:
    decision = engine(profile).decide(facts(InstrumentType.COURT_ORDER, SignerType.JUDGE, signature=signature))
    if signature is DocumentSignature.INVALID:
        assert set(outcomes(decision).values()) == {DENY}
        assert all(d.policy_ids == ("document-signature-invalid",) for d in decision.categories)
    else:
        assert set(outcomes(decision).values()) == {ALLOW}
