"""Fixtures of the public pages: the demo office, and a form walker that keeps the CSRF cookie."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from safeslot.scheduling import demo
from tests.conftest import NOW

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
START = re.compile(r'name="start" value="([^"]+)"')


@pytest.fixture
def office(session: Session) -> str:
    """The demo office with two weeks of slots from NOW."""
    slug = demo.load(session, NOW.date(), weeks=2)
    session.flush()
    return slug


def token(client: TestClient, path: str = "/manage") -> str:
    """The CSRF token of a form page; the client keeps the matching cookie."""
    found = TOKEN.search(client.get(path).text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def free_starts(client: TestClient, service: str = "apply", language: str = "", **extra: str) -> list[str]:
    params = {"office": "central", "service": service, "from": "2027-03-01", "to": "2027-03-05",
              "language": language, **extra}
    page = client.get("/book/slots", params=params)
    assert page.status_code == 200, page.text
    return START.findall(page.text)


def book(client: TestClient, start: str, **fields: str) -> str:
    """Book through the form; returns the confirmation page's path."""
    form = {"office": "central", "service": "apply", "start": start, "name": "M. E.",
            "csrf_token": token(client), **fields}
    answer = client.post("/book", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])
