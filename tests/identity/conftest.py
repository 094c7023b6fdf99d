from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from safeslot.identity import service
from safeslot.scheduling import demo
from tests.conftest import NOW


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2id parameters for tests; production keeps the RFC 9106 defaults."""
    monkeypatch.setattr(service, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def office(session: Session) -> str:
    """The demo office with a week of slots from NOW."""
    slug = demo.load(session, NOW.date(), weeks=1)
    session.flush()
    return slug
