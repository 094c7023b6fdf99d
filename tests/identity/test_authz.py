"""Every endpoint and every role: the allowed get through, the others get 403, no credentials get 401.

The table in safeslot/identity/authz.py is the single source of truth; a route
with no entry fails here, naming the route.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from safeslot.identity import authz, service
from safeslot.identity.models import AgencyOfficial, StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.kit.routing import routes
from tests.conftest import NOW
from tests.identity.helpers import make_staff

PARAM = re.compile(r"\{[^}]+\}")
GATE_REFUSALS = {"/problems/role-refused", "/problems/route-not-authorized", "/problems/credential-invalid"}


def _problem_type(response: object) -> str:
    try:
        return str(response.json().get("type", ""))  # type: ignore[attr-defined]
    except ValueError:
        return ""


def _all_routes(client: TestClient) -> list[tuple[str, str]]:
    pairs = []
    for _, methods, template in routes(client.app):
        for method in sorted(methods or {"GET"}):
            if method != "HEAD":
                pairs.append((method, template))
    return pairs


def test_every_route_has_an_entry(client: TestClient) -> None:
    missing = [f"{m} {t}" for m, t in _all_routes(client) if authz.allowed(m, t) is None]
    assert not missing, (
        "These routes have no entry in safeslot/identity/authz.py RULES (add one line each): " + "; ".join(missing)
    )


def test_route_without_entry_is_refused(client: TestClient) -> None:
    @client.app.get("/api/v1/forgotten")  # type: ignore[attr-defined,untyped-decorator]
    def forgotten() -> dict[str, str]:
        return {"secret": "x"}

    r = client.get("/api/v1/forgotten")
    assert r.status_code == 403 and r.json()["type"] == "/problems/route-not-authorized"
    assert "GET /api/v1/forgotten" in r.json()["detail"]


# The routes, sorted, are dealt into this many tests so pytest-xdist spreads the matrix over its workers
# (as one test it was among the suite's longest, and the slowest worker sets the wall time).
SHARDS = 3


def _fresh_secrets(
    session: Session, holders: dict[str, StaffAccount | None], official: AgencyOfficial, count: int
) -> dict[str, Iterator[str]]:
    """``count`` new credentials per principal (``None``: the official's agency key), each for one request (a
    request may revoke the one it carries: sign-out), written in one flush instead of one flush each."""
    made: dict[str, list[str]] = {}
    for principal, account in holders.items():
        made[principal] = []
        for _ in range(count):
            credential, secret = (service.new_credential("api", NOW, staff=account) if account is not None
                                  else service.new_credential("agency", NOW, official=official))
            session.add(credential)
            made[principal].append(secret)
    session.flush()
    return {principal: iter(secrets) for principal, secrets in made.items()}


@pytest.mark.parametrize("shard", range(SHARDS))
def test_matrix(client: TestClient, session: Session, keyring: KeyRing, office: str, shard: int) -> None:
    accounts = {role.value: make_staff(session, keyring, [role.value], "central")[0] for role in authz.Role}
    agency = service.create_agency(session, "Example Agency", "1 Example Way", NOW)
    official: AgencyOfficial = service.add_official(
        session, agency.id, "Officer Example", "Chief", "head_of_agency", NOW
    )
    official.verified_at = NOW
    session.flush()

    principals = [*accounts, authz.AGENCY, "none"]
    pairs = sorted(_all_routes(client))[shard::SHARDS]
    fresh = _fresh_secrets(session, {p: accounts.get(p) for p in principals if p != "none"}, official, len(pairs))

    def headers_for(principal: str) -> dict[str, str]:
        return {} if principal == "none" else {"Authorization": f"Bearer {next(fresh[principal])}"}

    wrong: list[str] = []
    for method, template in pairs:
        rule = authz.allowed(method, template)
        assert rule is not None, f"{method} {template} has no entry in authz.RULES"
        url = PARAM.sub("1", template)
        for principal in principals:
            send: Callable[..., object] = client.request
            r = send(method, url, headers=headers_for(principal), json={} if method != "GET" else None)
            status = r.status_code  # type: ignore[attr-defined]
            refused_here = status == 401 or (status == 403 and _problem_type(r) in GATE_REFUSALS)
            if authz.PUBLIC in rule or principal in rule:
                # a public form may still refuse for its own reasons (the console's CSRF check): not ours
                ok = not refused_here
            elif principal == "none":
                ok = status == 401
            else:
                ok = status == 403 and r.json()["type"] == "/problems/role-refused"  # type: ignore[attr-defined]
            if not ok:
                wrong.append(f"{principal} {method} {template} -> {status}")
    assert not wrong, "\n".join(wrong)
