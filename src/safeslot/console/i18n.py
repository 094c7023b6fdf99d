"""Languages of the public pages: gettext catalogs (Babel), locale choice, dates in the office's zone.

The catalogs live in ``safeslot/locale/<lang>/LC_MESSAGES/messages.po``.
``scripts/build-assets`` compiles them to ``.mo`` at install; when a ``.mo``
is missing or older than its ``.po`` (a fresh checkout, a test run) it is
compiled here on first use, and if the folder is read-only the catalog is
used straight from memory. Either way the pages are always translated.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
from functools import lru_cache
from gettext import GNUTranslations, NullTranslations
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from safeslot.kit.errors import N_ as N_  # the pages mark their messages with it

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("en", "es")
DEFAULT = "en"
# The name of each language in itself, for the switcher (never translated).
NATIVE_NAMES = {"en": "English", "es": "Español"}
COOKIE = "safeslot_lang"


def _po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


def compile_catalog(lang: str) -> bytes:
    """The compiled .mo of ``lang``, written next to the .po when it is missing or stale."""
    po = _po_path(lang)
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        return mo.read_bytes()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    data = buf.getvalue()
    try:
        # Write then rename: parallel test workers never read half a file.
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, mo)
    except OSError:
        pass  # read-only install: use the catalog from memory
    return data


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> NullTranslations:
    if lang == DEFAULT or lang not in LANGUAGES:
        return NullTranslations()  # English is the source language of every message
    return GNUTranslations(io.BytesIO(compile_catalog(lang)))


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
