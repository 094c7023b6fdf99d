"""Nothing lost, nothing doubled: an acknowledged write is durable.

FastAPI runs the exit code of a ``yield`` dependency *after* the response is
sent unless the dependency has ``scope="function"``. For the session
dependency that would mean a client hears 201 before the commit, and keeps
hearing it if the commit then fails. Every route that uses the session must
commit before it answers.
"""

from __future__ import annotations

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from safeslot.deps import get_session


def _session_scopes(dependant: Dependant) -> list[str | None]:
    found = [dependant.scope] if dependant.call is get_session else []
    for sub in dependant.dependencies:
        found.extend(_session_scopes(sub))
    return found


def _api_routes(app: object) -> list[tuple[str, Dependant]]:
    """(path, dependant) of every API route, through included routers (FastAPI 0.165 nests them)."""
    out = []
    for ctx in iter_route_contexts(app.router.routes):  # type: ignore[attr-defined]
        route = ctx.original_route
        if isinstance(route, APIRoute):
            out.append((str(ctx.path), route.dependant))
    return out


def test_every_route_commits_before_it_answers(client: TestClient) -> None:
    routes = _api_routes(client.app)
    using_session = {path: _session_scopes(dep) for path, dep in routes if _session_scopes(dep)}
    assert "/api/v1/appointments" in using_session, "the booking route should use the session dependency"
    late = sorted(path for path, scopes in using_session.items() if any(s != "function" for s in scopes))
    assert late == [], f"these routes would answer before committing: {late}"
