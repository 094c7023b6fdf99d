"""Policy changes sent as files over HTTP: validate them as a policy set, and write an
adopted change to the policies folder (the same as `safeslot policy approve`)."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from safeslot.disclosure.policy import PROFILES, SCHEMA_FILE, PolicyEngine, PolicyInvalid
from safeslot.kit.errors import InvalidInput

_NAME = re.compile(r"^[a-z0-9_-]+/[A-Za-z0-9_.-]+\.cedar$")


def _check_names(files: dict[str, str], profile: str) -> None:
    if SCHEMA_FILE not in files:
        raise InvalidInput(f"Send the schema ({SCHEMA_FILE}) with the policies.")
    for name in files:
        if name == SCHEMA_FILE:
            continue
        if not _NAME.match(name) or ".." in name or name.split("/")[0] not in PROFILES[profile]:
            raise InvalidInput(f"File {name!r} is not a policy of profile {profile!r}; "
                               f"name files like {PROFILES[profile][0]}/rules.cedar.")


def engine_from_files(files: dict[str, str], profile: str) -> PolicyEngine:
    """Validate the proposed files exactly as start-up validates the policies folder."""
    if profile not in PROFILES:
        raise InvalidInput(f"Unknown profile {profile!r}; use one of {', '.join(sorted(PROFILES))}.")
    _check_names(files, profile)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        try:
            return PolicyEngine.load(root, profile)
        except PolicyInvalid as exc:
            raise InvalidInput("The proposed policy set is invalid: " + "; ".join(exc.messages[:10])) from exc


def install(files: dict[str, str], target: Path) -> None:
    """Write an adopted change to the policies folder; it takes effect on restart."""
    for name, text in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".new")
        tmp.write_text(text)
        shutil.move(tmp, path)
