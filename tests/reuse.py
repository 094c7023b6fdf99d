"""What the suite computes once per test process instead of once per app it builds.

The suite builds an app per test (about a thousand per run); production builds one. Two parts of
building one are pure and costly, so each test process keeps their results:

1. FastAPI's analysis of each included route (``install_route_cache``).
2. The parsed Cedar policy set (``install_policy_cache``).
3. The OpenAPI document (``install_openapi_cache``).

Each falls back to doing nothing if the code it wraps changes shape: the suite is then slower, not
wrong. ``SAFESLOT_TEST_REUSE=0`` turns both off.

**Routes.** FastAPI analyses an included router's endpoints (their dependencies, parameters and response models)
lazily, on an app's first request, and keeps the result on that app's include. The suite builds an app
per test, so this analysis ran about a thousand times per run and took a third of the suite's CPU time
(py-spy, 27 Nov 2026). Production builds one app, so the analysis runs once there anyway.

The result depends only on the route and on how it was included (prefix, dependencies, response class,
limits), which are the same for every app ``create_app`` builds: module-level routers, included the same
way. It also names the app whose ``dependency_overrides`` it consults; no test overrides dependencies,
and an app that does is analysed afresh (``_reusable``). Each cache entry keeps its route alive, so a
route's id is never reused by another while its entry exists.


**Policies.** ``disclosure.endpoints.setup`` loads and validates the policy files for every app
(``PolicyEngine.load``, about 6% of the suite's CPU). The engine is immutable (its docstring: "safe to
share"); the cache is keyed by the profile and the files' full text, so a test that loads other or
broken files gets its own engine or its own ``PolicyInvalid``.

**OpenAPI.** ``safeslot.openapi.install``'s ``app.openapi()`` builds the document on an app's first
``/openapi.json`` (0.23-0.37 s of CPU); the fuzz, the authorization matrix and the pages' tests ask for it
once per app (11% of the fuzz's CPU, py-spy, 28 Nov 2026). The document depends on the app's routes, its
title, version, description, tags and servers, and on the authorization table (``openapi.complete``). The
cache is keyed by all of these: each included router by identity, version and include context (as the
route cache), each other route by its class, path, methods, endpoint code, response model and options. A
route a test adds after building its app (tests/identity/test_authz.py) changes the key. Each app gets its
own copy (parsed from the stored JSON), so a test that edits its document changes no other test's.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import orjson
from fastapi import routing
from fastapi.datastructures import DefaultPlaceholder

# FastAPI's private classes of lazy includes (0.16x); None in a FastAPI without them
_EffectiveRouteContext: Any = getattr(routing, "_EffectiveRouteContext", None)
_RouterIncludeContext: Any = getattr(routing, "_RouterIncludeContext", None)

# (route, include fingerprint) -> (route kept alive, its analysed context)
_CACHE: dict[tuple[Any, ...], tuple[Any, Any]] = {}
_LOCK = threading.Lock()
HITS = [0, 0]  # reused, analysed (for measuring)


def _fingerprint(context: Any) -> tuple[Any, ...] | None:
    """Every field of the include context but the overrides provider, by value or identity."""
    parts: list[Any] = []
    for f in dataclasses.fields(context):
        if f.name == "dependency_overrides_provider":
            continue
        value = getattr(context, f.name)
        if isinstance(value, DefaultPlaceholder):  # a new placeholder per include, around the same default
            value = ("default", value.value if isinstance(value.value, (bool, type(None))) else id(value.value))
        elif f.name == "dependencies":
            value = tuple((id(d.dependency), d.use_cache, type(d).__name__) for d in value)
        elif f.name in ("tags", "callbacks"):
            value = tuple(id(v) if not isinstance(v, str) else v for v in value)
        elif f.name in ("responses", "form_limits"):
            value = repr(value)
        elif not isinstance(value, (str, int, float, bool, type(None))):
            value = ("id", id(value))
        parts.append((f.name, value))
    return tuple(parts)


def _reusable(context: Any) -> bool:
    provider = getattr(context, "dependency_overrides_provider", None)
    return not getattr(provider, "dependency_overrides", None)


def install_route_cache() -> None:
    if _EffectiveRouteContext is None or not hasattr(_EffectiveRouteContext, "from_api_route"):
        return
    if not dataclasses.is_dataclass(_RouterIncludeContext):
        return
    original = getattr(_EffectiveRouteContext.from_api_route, "__func__", None)
    if original is None:
        return
    if getattr(original, "_suite_cached", False):
        return

    def from_api_route(cls: Any, *, original_route: Any, include_context: Any) -> Any:
        if not _reusable(include_context):
            return original(cls, original_route=original_route, include_context=include_context)
        key = (id(original_route), _fingerprint(include_context))
        found = _CACHE.get(key)
        if found is not None and found[0] is original_route:
            HITS[0] += 1
            return found[1]
        made = original(cls, original_route=original_route, include_context=include_context)
        with _LOCK:
            _CACHE[key] = (original_route, made)
        HITS[1] += 1
        return made

    from_api_route._suite_cached = True  # type: ignore[attr-defined]
    _EffectiveRouteContext.from_api_route = classmethod(from_api_route)


_ENGINES: dict[tuple[Any, ...], Any] = {}


def install_policy_cache() -> None:
    from safeslot.disclosure import policy, policy_set

    load = getattr(policy.PolicyEngine.load, "__func__", None)
    if load is None or getattr(load, "_suite_cached", False):
        return

    def cached(cls: Any, policies_dir: Any, profile: str) -> Any:
        try:
            files = policy_set.read_files(policies_dir, profile)
        except Exception:  # unreadable or unknown: the real load says how
            return load(cls, policies_dir, profile)
        key = (cls, profile, tuple(sorted(files.items())))
        if key not in _ENGINES:
            _ENGINES[key] = load(cls, policies_dir, profile)
        return _ENGINES[key]

    cached._suite_cached = True  # type: ignore[attr-defined]
    policy.PolicyEngine.load = classmethod(cached)  # type: ignore[method-assign,assignment]


# app shape -> (the objects its key names by identity, kept alive; the document as JSON)
_SCHEMAS: dict[tuple[Any, ...], tuple[list[Any], bytes]] = {}
SCHEMA_HITS = [0, 0]  # reused, built (for measuring and tests/test_harness.py)


def _app_shape(app: Any) -> tuple[tuple[Any, ...], list[Any]] | None:
    """What the app's OpenAPI document depends on, or None when a route is of a kind this cannot describe."""
    from safeslot.identity import authz

    parts: list[Any] = [app.title, app.version, app.openapi_version, app.description, repr(app.openapi_tags),
                        repr(app.servers), repr(sorted(authz.RULES.items()))]
    keep: list[Any] = []
    for route in app.router.routes:
        original, context = getattr(route, "original_router", None), getattr(route, "include_context", None)
        if original is not None and context is not None:
            parts.append(("router", id(original), original._get_routes_version(), _fingerprint(context)))
            keep.append(original)
            continue
        endpoint = getattr(route, "endpoint", None)
        code = getattr(endpoint, "__code__", None)
        if endpoint is not None and code is None:
            return None
        model = getattr(route, "response_model", None)
        parts.append((
            type(route).__qualname__, getattr(route, "path", None), frozenset(getattr(route, "methods", None) or ()),
            id(code), id(model), getattr(route, "include_in_schema", None), getattr(route, "status_code", None),
            getattr(route, "name", None), getattr(route, "operation_id", None), repr(getattr(route, "tags", None)),
            repr(getattr(route, "responses", None)), repr(getattr(route, "response_class", None)),
        ))
        keep.extend((code, model))
    return tuple(parts), keep


def install_openapi_cache() -> None:
    from safeslot import openapi as module

    original = module.install
    if getattr(original, "_suite_cached", False):
        return

    def install(app: Any, **kwargs: Any) -> None:
        original(app, **kwargs)
        build = app.openapi

        def openapi() -> dict[str, Any]:
            if app.openapi_schema is not None:
                return app.openapi_schema  # type: ignore[no-any-return]
            described = _app_shape(app)
            if described is None:
                return build()  # type: ignore[no-any-return]
            key, keep = described
            found = _SCHEMAS.get(key)
            if found is not None:
                SCHEMA_HITS[0] += 1
                app.openapi_schema = orjson.loads(found[1])
                return app.openapi_schema  # type: ignore[no-any-return]
            schema: dict[str, Any] = build()
            SCHEMA_HITS[1] += 1
            try:
                with _LOCK:
                    _SCHEMAS[key] = (keep, orjson.dumps(schema))
            except TypeError:  # not plain JSON (orjson.JSONEncodeError): every app builds its own
                pass
            return schema

        app.openapi = openapi

    install._suite_cached = True  # type: ignore[attr-defined]
    module.install = install  # type: ignore[assignment]


def install() -> None:
    install_route_cache()
    install_policy_cache()
    install_openapi_cache()
