"""The verifier's canonical-form check agrees with the reference `rfc8785` on every JSON value."""

from __future__ import annotations

import contextlib
import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from safeslot.kit.canonical import is_canonical_object

_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(st.text(max_size=6), _json, max_size=5))
def test_canonical_bytes_pass_and_any_other_spelling_fails_exactly_as_rfc8785_says(value: dict[str, object]) -> None:
    try:
        reference = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, ValueError, TypeError):
        return  # not representable: nothing canonical to compare
    assert is_canonical_object(reference)[1]
    for spelling in (json.dumps(value).encode(), json.dumps(value, sort_keys=True, indent=1).encode(),
                     json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")):
        # not valid UTF-8 JSON (a lone surrogate) raises: the verifier calls that "not valid JSON"
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            assert is_canonical_object(spelling)[1] == (spelling == reference)


@pytest.mark.parametrize("data", [
    b'{"b":1,"a":2}', b'{"a": 2}', b'{"a":1.0}', b'{"a":"\\u00e9"}', b'{"a":10000000000000000000000}',
])
def test_known_non_canonical_spellings_are_refused(data: bytes) -> None:
    assert is_canonical_object(data)[1] is False


@pytest.mark.parametrize("data", [b'{"a":9007199254740992}', b'{"a":1e+21}', rb'{"a":[1,"\u0000",true]}'])
def test_numbers_are_doubles_as_rfc8785_says(data: bytes) -> None:
    assert is_canonical_object(data)[1] is True  # 2**53 as a double is written without a decimal point


def test_not_json_raises() -> None:
    with pytest.raises(json.JSONDecodeError):
        is_canonical_object(b"{not json")
