"""Fixtures of the pages: the demo office, a form walker that keeps the CSRF cookie, and signed-in staff."""

from __future__ import annotations

import re
from collections.abc import Callable

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from tests.conftest import NOW
from tests.identity.helpers import make_staff

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
START = re.compile(r'name="start" value="([^"]+)"')
PASSWORD = "correct horse battery staple"
HTML = "text/html,application/xhtml+xml,*/*;q=0.8"  # what a browser sends

SignIn = Callable[..., TestClient]




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


@pytest.fixture
def staff(
    session: Session, keyring: KeyRing, office: str, app_factory: Callable[..., TestClient]
) -> SignIn:
    """A browser-like client signed in (password and TOTP) as a new account with these roles.

    Clerks and supervisors belong to ``office`` unless ``office_slug`` names another one.
    """
    def make(*roles: str, username: str | None = None, office_slug: str | None = None) -> TestClient:
        # privileged roles: proposed and approved by two founder administrators
        account, secret = make_staff(session, keyring, list(roles),
                                     (office_slug or office) if {"clerk", "supervisor"} & set(roles) else None,
                                     username)
        session.flush()
        client = app_factory()
        client.headers["accept"] = HTML
        client.base_url = "https://testserver"  # type: ignore[assignment]  # the session cookie is Secure
        answer = client.post("/console/sign-in", data={
            "username": account.username, "password": PASSWORD, "totp": pyotp.TOTP(secret).at(NOW),
            "csrf_token": token(client, "/console/sign-in")}, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        return client

    return make
