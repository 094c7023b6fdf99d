"""Which route a request reaches, for middlewares that run before routing (authorization, limits)."""

from __future__ import annotations

from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.routing import Mount, WebSocketRoute


def routes(app: Any) -> list[tuple[Any, frozenset[str] | None, str]]:
    """Every route of the app, flattened through included routers: (path regex, methods, template).

    Mounts (static files, sub-apps) have no methods and the template ``<prefix>/{path:path}``.
    """
    table: list[tuple[Any, frozenset[str] | None, str]] = []
    for ctx in iter_route_contexts(app.router.routes):
        route = ctx.original_route
        if isinstance(route, Mount) or getattr(ctx, "starlette_route", None).__class__ is Mount:
            table.append((ctx.path_regex, None, f"{ctx.path}/{{path:path}}"))
        elif isinstance(route, WebSocketRoute):
            continue
        else:
            table.append((ctx.path_regex, frozenset(ctx.methods or ()), str(ctx.path)))
    return table


# Route tables by the app's shape. Building one walks FastAPI's effective routes, which analyses
# every endpoint's dependencies (about a second for this app); every app ``create_app`` builds
# has the same shape, so one table serves them all (the test suite builds an app per test).
# Each entry keeps the included routers alive, so their ids cannot be reused by another router.
_TABLES: dict[tuple[Any, ...], tuple[list[Any], list[tuple[Any, frozenset[str] | None, str]]]] = {}


def _shape(app: Any) -> tuple[tuple[Any, ...], list[Any]] | None:
    """What the route table depends on: each included router (identity, version, prefix), each plain
    route (class, path, methods). None when a route is of a kind this cannot describe (no caching)."""
    shape: list[Any] = []
    keep: list[Any] = []
    for route in app.router.routes:
        original, context = getattr(route, "original_router", None), getattr(route, "include_context", None)
        if original is not None and context is not None:
            shape.append(("router", id(original), original._get_routes_version(), context.prefix))
            keep.append(original)
        elif hasattr(route, "path"):
            shape.append((type(route).__qualname__, route.path, frozenset(getattr(route, "methods", None) or ())))
        else:
            return None
    return tuple(shape), keep


def cached_routes(app: Any) -> list[tuple[Any, frozenset[str] | None, str]]:
    """``routes(app)``, computed once per shape of app."""
    described = _shape(app)
    if described is None:
        return routes(app)
    key, keep = described
    found = _TABLES.get(key)
    if found is None:
        if len(_TABLES) >= 16:  # a process builds one or two shapes; never grow without bound
            _TABLES.clear()
        found = (keep, routes(app))
        _TABLES[key] = found
    return found[1]


def route_template(app: Any, scope: dict[str, Any]) -> str | None:
    """The path template of the route this request reaches, matched in the router's order."""
    cached = getattr(app.state, "authz_routes", None)
    if cached is None or cached[0] != len(app.router.routes):
        cached = (len(app.router.routes), cached_routes(app))
        app.state.authz_routes = cached
    path, method = scope["path"], scope["method"]
    for regex, methods, template in cached[1]:
        if regex.match(path) and (methods is None or method in methods):
            return template
    return None
