"""Optional domain modules: mounted when present, so each domain lands on its own."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType


def import_optional(module_name: str) -> ModuleType | None:
    """The module, or None when it (or its package) is absent; errors inside it still raise."""
    try:
        return import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            return None
        raise
