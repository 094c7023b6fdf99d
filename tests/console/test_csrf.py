"""The console's CSRF checks (console/csrf.py), tried on their own: the signed double-submit token of
the public forms, and the cookie-less check of the walk-in kiosk's forms."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from safeslot.console import csrf


def _request(headers: dict[str, str], host: str = "office.example") -> Request:
    return Request({"type": "http", "method": "POST", "scheme": "https", "server": (host, 443), "path": "/queue",
                    "query_string": b"", "headers": [(k.lower().encode(), v.encode()) for k, v in
                                                     {"host": host, **headers}.items()]})


@pytest.mark.parametrize(("headers", "same"), [
    ({"sec-fetch-site": "same-origin"}, True),
    ({"sec-fetch-site": "none"}, True),  # typed or bookmarked
    ({"sec-fetch-site": "cross-site"}, False),
    ({"sec-fetch-site": "same-site"}, False),  # a sibling subdomain is another site here
    ({"sec-fetch-site": "same-origin", "origin": "https://evil.example"}, True),  # Fetch Metadata decides
    ({"origin": "https://office.example"}, True),  # an older browser: the Origin decides
    ({"origin": "https://evil.example"}, False),
    ({"origin": "null"}, True),
    ({}, True),  # neither header: not a browser's cross-site form
])
def test_a_cookieless_form_is_accepted_only_from_this_site(headers: dict[str, str], same: bool) -> None:
    assert csrf.same_site(_request(headers)) is same


def test_the_form_token_matches_only_its_own_cookie_and_secret() -> None:
    value = csrf.new_value()
    token = csrf.token_for(value, "secret")
    assert token != csrf.token_for(value, "secret")  # masked afresh for each page
    assert csrf.valid(value, token, "secret")
    assert not csrf.valid(csrf.new_value(), token, "secret")  # another browser's cookie
    assert not csrf.valid(value, token, "another secret")
    assert not csrf.valid(value, None, "secret") and not csrf.valid(None, token, "secret")
