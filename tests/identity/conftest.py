from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from safeslot.scheduling import demo
from tests.conftest import NOW


@pytest.fixture
def office(session: Session) -> str:
    """The demo office with a week of slots from NOW."""
    slug = demo.load(session, NOW.date(), weeks=1)
    session.flush()
    return slug
