"""What an approved privileged change does (identity/proposal_effects.py): every kind of change has its
public event; the changes to what another domain owns are that domain's to apply, registered when its module
loads, and identity refuses to take one of its own from elsewhere. The approvals themselves (who may approve
what) are tested in test_proposals.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from safeslot.identity import proposal_effects
from safeslot.identity.authz import Change
from safeslot.identity.models import StaffAccount


def test_every_change_has_its_public_event_and_each_is_applied_in_one_place() -> None:
    assert set(proposal_effects.EFFECT_EVENTS) == set(Change)
    assert len(set(proposal_effects.EFFECT_EVENTS.values())) == len(Change)  # one event name per kind
    assert set(Change) > proposal_effects.OWNED_ELSEWHERE


def test_identity_refuses_an_effect_for_a_change_it_applies_itself() -> None:
    def effect(*_: Any) -> dict[str, Any]:
        return {}

    with pytest.raises(ValueError, match="grant_role"):
        proposal_effects.register(Change.grant_role, effect)
    assert Change.grant_role not in proposal_effects._EFFECTS


def test_the_public_trace_of_an_office_scope_names_the_office_role_only() -> None:
    def role_of(roles: str) -> str | None:
        return proposal_effects.office_role(StaffAccount(roles=roles))

    assert role_of("clerk supervisor") == "supervisor"
    assert role_of("clerk") == "clerk"
    assert role_of("privacy_officer auditor") is None


def test_a_served_app_can_apply_every_change_owned_by_another_domain(tmp_path: Path) -> None:
    # In a fresh process: building the app loads disclosure's and scheduling's proposals, which register
    # their effects; nothing else has to remember to.
    code = (
        "from pathlib import Path; import sys\n"
        "from safeslot.config import Environment, Settings\n"
        "from safeslot.identity import proposal_effects\n"
        "unowned = lambda: sorted(c.value for c in proposal_effects.OWNED_ELSEWHERE - proposal_effects._EFFECTS.keys())"
        "\n"
        "before = unowned()\n"
        "from safeslot.app import create_app\n"
        "d = Path(sys.argv[1])\n"
        "create_app(Settings(environment=Environment.test, database={'url': f'sqlite:///{d}/x.db'},\n"
        "                    crypto={'key_file': d / 'keys.json'}, log={'signing_key_file': d / 'log.key'}))\n"
        "print(before, unowned())\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == ("['close_office', 'lift_hold', 'open_office', 'reinstate_agreement', "
                                     "'suspend_agreement'] []")
