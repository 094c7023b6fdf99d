"""Static files under content-hashed names, cached for a year; pages link them through ``asset_url``.

``asset_url("safeslot.css")`` is ``/static/safeslot.<12 hex of SHA-256>.css``.
That URL is answered with ``Cache-Control: public, max-age=31536000,
immutable``: a new file gets a new name, so a phone that has the stylesheet
never asks for it again (the repeat visit costs only the page). The same
scheme as Django's ManifestStaticFilesStorage, computed when first asked
instead of by a collect step, so a fresh checkout needs nothing more than
``make install``. A hashed name whose hash is not the file's current one is
404, so no cache ever keeps the wrong bytes under a name. The plain name still
works (``Cache-Control: no-cache``: revalidated by ETag), for anyone who
typed it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
PREFIX = "/static/"
IMMUTABLE = "public, max-age=31536000, immutable"
HASHED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{12})(?P<ext>\.[A-Za-z0-9]+)$")

_digests: dict[Path, tuple[int, int, str]] = {}


def digest(path: Path) -> str:
    """The first 12 hex digits of the file's SHA-256, recomputed only when the file changes."""
    stat = path.stat()
    known = _digests.get(path)
    if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
        return known[2]
    value = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    _digests[path] = (stat.st_mtime_ns, stat.st_size, value)
    return value


def asset_url(name: str, root: Path = STATIC) -> str:
    """The URL of a static file under its hashed name (the plain one if the file is missing)."""
    path = root / name
    if not path.is_file():
        return PREFIX + name
    stem, dot, ext = name.rpartition(".")
    return f"{PREFIX}{stem}.{digest(path)}.{ext}" if dot else f"{PREFIX}{name}.{digest(path)}"


def exists(name: str, root: Path = STATIC) -> bool:
    return (root / name).is_file()


class HashedStaticFiles(StaticFiles):
    """Starlette's StaticFiles (ETag, ranges, HEAD) plus the hashed names and their cache headers."""

    def __init__(self, *, directory: Path = STATIC, **options: Any) -> None:
        super().__init__(directory=directory, **options)
        self.root = Path(directory)

    async def get_response(self, path: str, scope: Scope) -> Response:
        match = HASHED.match(path)
        if match is not None:
            plain = match["stem"] + match["ext"]
            file = self.root / plain
            if (file.is_file() and file.resolve().is_relative_to(self.root.resolve())
                    and digest(file) == match["digest"]):
                response = await super().get_response(plain, scope)
                response.headers["Cache-Control"] = IMMUTABLE
                return response
            raise HTTPException(status_code=404)
        response = await super().get_response(path, scope)
        response.headers.setdefault("Cache-Control", "no-cache")
        return response
