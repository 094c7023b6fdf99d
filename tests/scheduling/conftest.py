from __future__ import annotations

import datetime as dt

from tests.conftest import NOW


def first_free(client, service: str = "apply", language: str | None = None, day: dt.date | None = None) -> str:  # type: ignore[no-untyped-def]
    params = {"office": "central", "service": service, "from": (day or NOW.date()).isoformat()}
    if language:
        params["language"] = language
    slots = client.get("/api/v1/slots", params=params).json()
    return str(slots[0]["starts_at"])
