"""What the disclosure policies may look at (disclosure/policy_facts.py): the vocabulary is the schema's, and
the facts reach Cedar as typed entity references, never as bare records."""

from __future__ import annotations

import re

from safeslot.disclosure.policy_facts import (
    AgreementFacts,
    Category,
    DocumentSignature,
    HoldSets,
    InstrumentType,
    NondisclosureFacts,
    Purpose,
    RequestFacts,
    SignerType,
    cedar_context,
)
from tests.disclosure.conftest import POLICIES


def test_python_vocabulary_matches_the_schema() -> None:
    schema = (POLICIES / "schema.cedarschema").read_text()
    for enum in (Category, Purpose, InstrumentType, SignerType, DocumentSignature):
        found = re.search(rf"entity {enum.__name__} enum \[(.*?)\];", schema, re.S)
        assert found, enum.__name__
        assert re.findall(r'"([a-z_]+)"', found.group(1)) == [m.value for m in enum]


def _facts(**overrides: object) -> RequestFacts:
    base: dict[str, object] = {
        "instrument_type": InstrumentType.JUDICIAL_WARRANT, "signer_type": SignerType.JUDGE,
        "purpose": Purpose.CRIMINAL, "agency": "dhs-ice", "categories": (Category.IDENTITY,),
        "named_categories": frozenset({Category.IDENTITY}), "subject_count": 1}
    return RequestFacts(**{**base, **overrides})  # type: ignore[arg-type]


def test_facts_reach_cedar_as_typed_references_in_a_stable_order() -> None:
    context = cedar_context(_facts(holds=HoldSets(categories=frozenset({Category.CONTACT, Category.IDENTITY}))))
    assert context["instrument"] == {"__entity": {"type": "InstrumentType", "id": "judicial_warrant"}}
    assert context["holds"]["categories"] == [{"__entity": {"type": "Category", "id": "contact"}},
                                              {"__entity": {"type": "Category", "id": "identity"}}]
    assert context["named_subject_count"] == 1 and context["all_subjects_named"] is True
    assert context["document_signature"]["__entity"]["id"] == DocumentSignature.NONE


def test_an_agreement_or_an_order_is_left_out_when_there_is_none_and_passed_when_there_is() -> None:
    bare = cedar_context(_facts())
    assert "agreement" not in bare and "nondisclosure_order" not in bare  # policies test `context has ...`
    full = cedar_context(_facts(
        agreement=AgreementFacts("dhs-ice", active=True, suspended=False, categories=frozenset({Category.IDENTITY}),
                                 purposes=frozenset({Purpose.PROGRAM_INTEGRITY})),
        nondisclosure_order=NondisclosureFacts(SignerType.JUDGE, has_end=True, within_a_year=False)))
    assert full["agreement"]["recipient"] == {"__entity": {"type": "Agency", "id": "dhs-ice"}}
    assert (full["agreement"]["active"], full["agreement"]["suspended"]) == (True, False)
    assert full["nondisclosure_order"] == {"signer": {"__entity": {"type": "SignerType", "id": "judge"}},
                                           "has_end": True, "within_a_year": False}
