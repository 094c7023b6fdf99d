"""`safeslot policy check` validates every profile and fails, naming the problem, on a broken set;
`policy propose` / `approve` adopt a change only at the second approval, and write it then."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeslot.cli import common
from safeslot.cli.disclosure import policy_app
from safeslot.db import build_engine, build_sessionmaker, transaction
from tests.disclosure.conftest import POLICIES
from tests.identity.helpers import make_staff


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


def test_the_second_approval_writes_the_adopted_policies_and_one_approval_writes_nothing(
    cli_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    live, proposed = tmp_path / "live", tmp_path / "proposed"
    shutil.copytree(POLICIES, live)
    shutil.copytree(POLICIES, proposed)
    rule = Path("federal") / "00-always.cedar"
    (proposed / rule).write_text((proposed / rule).read_text() + "\n// Reworded after review.\n")
    monkeypatch.setenv("SAFESLOT_POLICIES_DIR", str(live))
    common.settings.cache_clear()
    engine = build_engine(cli_url)
    with transaction(build_sessionmaker(engine)) as session:
        for role, username in (("privacy_officer", "po"), ("counsel", "co"), ("admin", "ad")):
            make_staff(session, common.keyring(), [role], username=username)
    engine.dispose()
    runner = CliRunner()
    made = runner.invoke(policy_app, ["propose", "--dir", str(proposed), "--by", "po", "--summary", "Reworded"])
    assert made.exit_code == 0, made.output
    change = re.search(r"Proposed change (\d+)", made.output)
    assert change is not None
    assert runner.invoke(policy_app, ["approve", change.group(1), "--by", "co"]).exit_code == 0
    assert (live / rule).read_text() == (POLICIES / rule).read_text()  # one approval changes nothing
    assert runner.invoke(policy_app, ["approve", change.group(1), "--by", "po"]).exit_code == 1  # the proposer
    adopted = runner.invoke(policy_app, ["approve", change.group(1), "--by", "ad"])
    assert adopted.exit_code == 0 and "adopted" in adopted.output, adopted.output
    assert (live / rule).read_text() == (proposed / rule).read_text()
    assert not list(live.rglob("*.new"))  # written whole, then moved into place
