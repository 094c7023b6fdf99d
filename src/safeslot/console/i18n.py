"""Languages of the pages: the choice of language, language names, dates in the office's zone.

The languages and their gettext catalogs (compiled on first use when a ``.mo`` is missing or stale)
are the kernel's, ``kit/locale.py``, named here too for the pages.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time

from safeslot.kit import locale
from safeslot.kit.errors import N_ as N_  # the pages mark their messages with it

# The languages and their catalogs are the kernel's (kit/locale.py): the reminders are translated too.
LOCALE_DIR = locale.LOCALE_DIR
LANGUAGES = locale.LANGUAGES
DEFAULT = locale.DEFAULT
compile_catalog = locale.compile_catalog
translations = locale.translations
# The name of each language in itself, for the switcher (never translated).
NATIVE_NAMES = {"en": "English", "es": "Español"}
COOKIE = "safeslot_lang"


def pick(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page language: ``?lang=`` first, then the remembered choice, then the browser's wish."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT


def language_name(code: str, ui: str) -> str:
    """A language's name in the page's language, e.g. 'vi' → 'vietnamita' on a Spanish page."""
    name = Locale.parse(ui).languages.get(code.split("-")[0])
    return name or code


def day_label(day: dt.date, ui: str) -> str:
    return format_date(day, "full", locale=ui)


def time_label(when: dt.datetime, tz: ZoneInfo, ui: str) -> str:
    return format_time(when, "short", tzinfo=tz, locale=ui)


def when_label(when: dt.datetime, tz: ZoneInfo, ui: str) -> str:
    """A date and time for people, in the office's zone: "Monday, March 1, 2027 at 9:30 AM"."""
    local = when.astimezone(tz)
    return f"{format_date(local.date(), 'full', locale=ui)}, {format_time(local, 'short', tzinfo=tz, locale=ui)}"
