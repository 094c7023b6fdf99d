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


def route_template(app: Any, scope: dict[str, Any]) -> str | None:
    """The path template of the route this request reaches, matched in the router's order."""
    cached = getattr(app.state, "authz_routes", None)
    if cached is None or cached[0] != len(app.router.routes):
        cached = (len(app.router.routes), routes(app))
        app.state.authz_routes = cached
    path, method = scope["path"], scope["method"]
    for regex, methods, template in cached[1]:
        if regex.match(path) and (methods is None or method in methods):
            return template
    return None
