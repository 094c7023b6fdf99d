"""`safeslot policy check` validates every profile and fails, naming the problem, on a broken set."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from safeslot.cli.disclosure import policy_app
from tests.disclosure.conftest import POLICIES


def test_policy_check_passes_on_the_published_policies() -> None:
    result = CliRunner().invoke(policy_app, ["check", "--dir", str(POLICIES)])
    assert result.exit_code == 0, result.output
    assert "federal:" in result.output and "state:" in result.output


def test_policy_check_fails_on_a_misspelled_category(tmp_path: Path) -> None:
    broken = tmp_path / "policies"
    shutil.copytree(POLICIES, broken)
    with (broken / "federal" / "99-broken.cedar").open("w") as f:
        f.write('@id("broken")\n@reason("A typo.")\npermit (principal, action == Action::"disclose", resource)\n'
                'when { resource == Category::"immigration_status" };\n')
    result = CliRunner().invoke(policy_app, ["check", "--dir", str(broken)])
    assert result.exit_code == 1
    assert "99-broken.cedar" in result.output
