"""What the suite computes once per test process instead of once per app it builds.

The suite builds an app per test (about a thousand per run); production builds one. Two parts of
building one are pure and costly, so each test process keeps their results:

1. FastAPI's analysis of each included route (``install_route_cache``).
2. The parsed Cedar policy set (``install_policy_cache``).

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
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

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


def install() -> None:
    install_route_cache()
    install_policy_cache()
