"""The endpoints' guards (identity/guard.py): who is calling, as the middleware set it, and what each
dependency lets through; the CSRF token bound to one console session. The authorization table over HTTP is
tested in test_authz.py."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest
from starlette.requests import Request

from safeslot.identity import guard
from safeslot.identity.errors import RoleRefused
from safeslot.identity.service import Principal
from safeslot.kit.errors import Unauthenticated

CLERK = Principal("staff", 1, "Test Person 1", frozenset({"clerk"}), 1, 10, "session", "hash-1")
OFFICIAL = Principal("agency", 2, "Test Person 2", frozenset({"agency"}), None, 11, "agency", "hash-2")


def _request(principal: Principal | None, **extra: Any) -> Request:
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": [], **extra}
    if principal is not None:
        scope[guard.SCOPE_KEY] = principal
    return Request(scope)


def test_nobody_signed_in_is_asked_to_sign_in() -> None:
    with pytest.raises(Unauthenticated, match="Sign in"):
        guard.principal_of(_request(None))
    with pytest.raises(Unauthenticated, match="Sign in"):
        asyncio.run(guard.current_principal(_request(None)))


def test_staff_routes_refuse_officials_and_gate_routes_refuse_staff() -> None:
    assert guard.staff_of(_request(CLERK)) is CLERK
    assert guard.official_of(_request(OFFICIAL)) is OFFICIAL
    with pytest.raises(RoleRefused, match="Only staff"):
        guard.staff_of(_request(OFFICIAL))
    with pytest.raises(RoleRefused, match="agency official"):
        guard.official_of(_request(CLERK))
    # the dependencies FastAPI calls give the same answers
    assert asyncio.run(guard.current_staff(_request(CLERK))) is CLERK
    assert asyncio.run(guard.current_official(_request(OFFICIAL))) is OFFICIAL
    with pytest.raises(RoleRefused, match="Only staff"):
        asyncio.run(guard.current_staff(_request(OFFICIAL)))
    with pytest.raises(RoleRefused, match="agency official"):
        asyncio.run(guard.current_official(_request(CLERK)))


def test_the_identity_dependencies_run_on_the_event_loop_not_in_the_thread_pool() -> None:
    """FastAPI sends a plain `def` dependency to the thread pool: a thread hop per staff request for a read of
    the scope. These are coroutine functions, which FastAPI awaits in place (fastapi.dependencies.utils)."""
    from safeslot.disclosure import endpoints as disclosure_endpoints
    from safeslot.scheduling import endpoints as scheduling_endpoints
    from safeslot.scheduling.queue import endpoints as queue_endpoints

    for dependency in (guard.current_principal, guard.current_staff, guard.current_official,
                       queue_endpoints.queue_settings, disclosure_endpoints._engine,
                       scheduling_endpoints._idempotency_key):
        assert inspect.iscoroutinefunction(dependency), dependency.__qualname__


def test_a_role_dependency_lets_through_any_of_its_roles_only() -> None:
    assert guard.require_roles("clerk", "supervisor")(_request(CLERK)) is CLERK
    with pytest.raises(RoleRefused, match="auditor, privacy_officer"):
        guard.require_roles("privacy_officer", "auditor")(_request(CLERK))


def test_a_csrf_token_belongs_to_one_session_and_one_server_secret() -> None:
    token = guard.csrf_token("secret-1", "hash-1")
    assert token == guard.csrf_token("secret-1", "hash-1") and len(token) == 64
    assert token != guard.csrf_token("secret-1", "hash-2")
    assert token != guard.csrf_token("secret-2", "hash-1")
