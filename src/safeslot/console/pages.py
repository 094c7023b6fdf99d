"""Rendering shared by every page: one Jinja2 environment per language, cookies, security headers,
the redirect after a form, and errors as pages (``PageRoute``).

Kept apart from the routes so that each page module (``public/``, ``staff/``) reads as its list of pages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Request
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from safeslot.console import csrf, i18n
from safeslot.console.assets import asset_url
from safeslot.console.i18n import N_
from safeslot.kit.errors import DomainError, status_for

LOG = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"  # served by console/assets.py
USWDS_CSS = STATIC / "uswds" / "uswds.css"  # purged by scripts/build-assets; absent without npm

# Headers on every page: no caching of pages that may show a code, no referrer
# leaking the code in a URL, no framing, scripts and styles only from here.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "font-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}

# Titles of error pages, by the problem slug of the domain error.
ERROR_TITLES: dict[str, str] = {
    "office-not-found": N_("We could not find that office"),
    "service-not-found": N_("We could not find that service"),
    "appointment-not-found": N_("We could not find an appointment with that code"),
    "invalid-transition": N_("This appointment cannot be changed"),
    "not-found": N_("We could not find that page"),
    "csrf": N_("This form has expired"),
    "stop-link-unknown": N_("We could not find that stop link"),
    "internal": N_("Something went wrong on our side"),
    "rate-limited": N_("Too many tries for now"),
    "unavailable": N_("This service is briefly unavailable"),
    "invalid-input": N_("Some of what you typed cannot be used"),
}
ERROR_ADVICE: dict[str, str] = {
    "appointment-not-found": N_("Check the code on your confirmation. It has 10 letters and numbers."),
    "invalid-transition": N_("It was cancelled or the visit already happened. You can book a new appointment."),
    "csrf": N_("Go back, reload the page, and try again."),
    "stop-link-unknown": N_("Open the whole link from the message, or call the office to stop reminders."),
    "internal": N_("Nothing was saved. Please try again in a few minutes."),
    "rate-limited": N_("Nothing was saved. Please wait a few minutes, then try again."),
    "unavailable": N_("Nothing was saved. Please try again in a minute."),
    "invalid-input": N_("Nothing was saved. Check what you typed, remove unusual characters, and try again."),
}
DEFAULT_ADVICE = N_("Go back to the start page and try again.")


@lru_cache(maxsize=len(i18n.LANGUAGES))
def environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals["asset"] = asset_url  # hashed, cached-for-a-year static URLs (console/assets.py)
    return env


def language(request: Request) -> str:
    return i18n.pick(
        request.query_params.get("lang"), request.cookies.get(i18n.COOKIE), request.headers.get("accept-language")
    )


def gettext(request: Request) -> Callable[[str], str]:
    return i18n.translations(language(request)).gettext


def _switch_url(path: str, query: Mapping[str, str], lang: str) -> str:
    params = {k: v for k, v in query.items() if k != "lang"}
    params["lang"] = lang
    return f"{path}?{urlencode(params)}"


def switcher(lang: str, path: str, query: Mapping[str, str]) -> list[dict[str, str]]:
    """Links to this page (a GET page) in each other language, each named in itself."""
    return [{"code": code, "name": i18n.NATIVE_NAMES[code], "url": _switch_url(path, query, code)}
            for code in i18n.LANGUAGES if code != lang]


def remember_language(request: Request, response: Response, lang: str) -> None:
    """A language chosen with ?lang= is kept in a cookie for the next pages."""
    if request.query_params.get("lang") in i18n.LANGUAGES and request.cookies.get(i18n.COOKIE) != lang:
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 86400, samesite="lax",
                            secure=request.url.scheme == "https", path="/")


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    page_url: str | None = None,
) -> Response:
    """Render a page in the person's language, with a fresh CSRF token and the language switcher.

    ``page_url`` is where the language switcher links for pages answering a
    POST (the switcher is a plain link, so it must point to a GET page).
    """
    lang = language(request)
    if template == "error.html" and request.headers.get("hx-request") == "true":
        # HTMX swaps the answer into the page: a fragment with the message, the status code kept.
        template = "_error_fragment.html"
    secure = request.url.scheme == "https"
    csrf_cookie = csrf.cookie_name(secure)
    csrf_value = request.cookies.get(csrf_cookie) or csrf.new_value()
    secret: str = request.app.state.settings.secret_key
    if page_url is not None:
        path, _, query_string = page_url.partition("?")
        query = dict(parse_qsl(query_string))
    else:
        path, query = request.url.path, dict(request.query_params)
    html = environment(lang).get_template(template).render(
        lang=lang,
        switcher=switcher(lang, path, query),
        csrf_field=csrf.FIELD,
        csrf_token=csrf.token_for(csrf_value, secret),
        uswds=USWDS_CSS.exists(),
        **{"errors": {}, **context},
    )
    response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
    if request.cookies.get(csrf_cookie) != csrf_value:
        response.set_cookie(csrf_cookie, csrf_value, httponly=True, samesite="lax", secure=secure, path="/")
    remember_language(request, response, lang)
    return response


def see_other(url: str) -> Response:
    """The answer to a form that worked (Post/Redirect/Get): 303 to a GET page, never cached."""
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def error_page(request: Request, slug: str, status: int) -> Response:
    context = {
        "title": ERROR_TITLES.get(slug, ERROR_TITLES["not-found"]),
        "advice": ERROR_ADVICE.get(slug, DEFAULT_ADVICE),
    }
    page_url = "/" if request.method != "GET" else None
    return render(request, "error.html", context, status=status, page_url=page_url)


class PageRoute(APIRoute):
    """A route whose errors are pages in the person's language, never problem+json or a stack trace."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as exc:
                return error_page(request, exc.slug, status_for(exc))
            except Exception as exc:
                from safeslot import failures

                if failures.unavailable(exc):  # the database is down or its disk read-only: 503, try again
                    page = error_page(request, "unavailable", 503)
                    page.headers["Retry-After"] = str(failures.RETRY_AFTER)
                    return page
                if failures.unstorable(exc):
                    return error_page(request, "invalid-input", 422)
                # No exception text on the page or in the log: it may carry personal data.
                LOG.error("public page %s failed: %s", request.url.path.split("/")[1], type(exc).__name__)
                if request.app.state.settings.debug_pages:  # SAFESLOT_DEBUG_PAGES=1 (config.py)
                    raise
                return error_page(request, "internal", 500)

        return page_handler


def status_page(scope: dict[str, Any], slug: str, status: int) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """An error page for an ASGI middleware's refusal (429 rate limit, 503 unavailable), as raw parts."""
    response = error_page(Request(scope), slug, status)
    return response.status_code, [(k, v) for k, v in response.raw_headers if k != b"content-length"], bytes(
        response.body
    )


def throttled_page(scope: dict[str, Any], wait: int) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The page shown instead of the rate limiter's problem+json on the public pages and the console."""
    return status_page(scope, "rate-limited", 429)
