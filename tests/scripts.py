"""Loading a file that is not an importable module — a script without `.py` (scripts/cluster,
scripts/install-venv) or a migration (its name starts with a digit) — so a test can call its functions."""

from __future__ import annotations

import importlib.util
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType


def load_file(path: Path, name: str) -> ModuleType:
    loader = SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    try:
        loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module
