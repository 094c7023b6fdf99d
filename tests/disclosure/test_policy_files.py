"""Policy changes sent as files (disclosure/policy_files.py): checked exactly as start-up checks the policies
folder, named only inside the profile, and an adopted change written where the server reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeslot.disclosure import policy_files
from safeslot.disclosure.policy import PolicyEngine
from safeslot.kit.errors import InvalidInput
from tests.disclosure.conftest import POLICIES


def _federal() -> dict[str, str]:
    files = {"schema.cedarschema": (POLICIES / "schema.cedarschema").read_text()}
    files |= {f"federal/{p.name}": p.read_text() for p in (POLICIES / "federal").glob("*.cedar")}
    return files


def test_the_shipped_files_sent_back_make_the_same_policy_set() -> None:
    assert policy_files.engine_from_files(_federal(), "federal").policy_set_hash == (
        PolicyEngine.load(POLICIES, "federal").policy_set_hash)


@pytest.mark.parametrize(("change", "says"), [
    ({"schema.cedarschema": None}, "Send the schema"),
    ({"../outside.cedar": "// x"}, "is not a policy of profile"),
    ({"state/10-extra.cedar": "// x"}, "is not a policy of profile 'federal'"),
    ({"federal/notes.txt": "x"}, "is not a policy of profile"),
    ({"federal/70-broken.cedar": "permit (principal, action, resource"}, "is invalid"),
])
def test_a_change_outside_the_profile_or_that_would_not_load_is_refused(change: dict[str, str | None],
                                                                         says: str) -> None:
    files = _federal()
    for name, text in change.items():
        if text is None:
            files.pop(name)
        else:
            files[name] = text
    with pytest.raises(InvalidInput, match=says):
        policy_files.engine_from_files(files, "federal")


def test_an_unknown_profile_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Unknown profile 'county'"):
        policy_files.engine_from_files(_federal(), "county")


def test_an_adopted_change_is_written_into_the_policies_folder(tmp_path: Path) -> None:
    policy_files.install({"federal/70-new.cedar": "// adopted\n", "schema.cedarschema": "// schema\n"}, tmp_path)
    assert (tmp_path / "federal" / "70-new.cedar").read_text() == "// adopted\n"
    assert (tmp_path / "schema.cedarschema").read_text() == "// schema\n"
    assert not list(tmp_path.rglob("*.new"))
