from __future__ import annotations

import pytest


@pytest.fixture
def office_weeks() -> int:
    return 1
