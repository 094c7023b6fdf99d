"""The database URL (dburl.py), checked when the settings are read: what hosting platforms hand out works,
and anything else stops start-up saying what to write instead."""

from __future__ import annotations

import pytest

from safeslot.dburl import normalize_url


def test_postgres_urls_as_platforms_give_them_mean_psycopg_3_and_keep_their_password() -> None:
    assert normalize_url("postgres://app:s3cret@db.test:5432/safeslot") == (
        "postgresql+psycopg://app:s3cret@db.test:5432/safeslot")
    assert normalize_url("postgresql://app@db.test/safeslot") == "postgresql+psycopg://app@db.test/safeslot"
    assert normalize_url("sqlite:///var/safeslot.db") == "sqlite:///var/safeslot.db"


@pytest.mark.parametrize(("url", "says"), [
    ("not a url", "cannot be read"),
    ("mysql://app@db.test/safeslot", "SQLite or PostgreSQL"),
    ("postgresql+nosuchdriver://app@db.test/safeslot", "not installed"),
])
def test_an_unusable_url_says_what_to_write(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        normalize_url(url)
