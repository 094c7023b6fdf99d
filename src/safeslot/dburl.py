"""The database URL as SQLAlchemy should read it, checked when the settings are read.

Apart from db.py so that reading the settings (`safeslot log vkey` does, and nothing else of the
database) loads SQLAlchemy's URL parser, not its ORM (docs/decisions.md, "A command imports only what
it runs").
"""

from __future__ import annotations

from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError


def normalize_url(url: str) -> str:
    """The URL SQLAlchemy should use; ``postgresql://`` and ``postgres://`` (as hosting platforms and
    libpq hand them out) mean the installed psycopg 3 driver. An unusable URL raises ValueError
    saying what to change, so the app and the CLI fail at start, not on the first query."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(
            "The database URL cannot be read. Use sqlite:///var/safeslot.db or "
            "postgresql://user@host:5432/dbname."
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"safeslot runs on SQLite or PostgreSQL, not {backend!r}: use sqlite:/// or postgresql://.")
    try:
        parsed.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError):
        raise ValueError(
            f"The database driver {parsed.drivername!r} is not installed: use postgresql:// "
            "(psycopg 3, installed with safeslot) or postgresql+psycopg://."
        ) from None
    return parsed.render_as_string(hide_password=False)
