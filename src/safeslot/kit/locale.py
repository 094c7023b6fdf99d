"""The languages the service speaks and their gettext catalogs: the pages' and the messages' alike.

The catalogs live in ``safeslot/locale/<lang>/LC_MESSAGES/messages.po``. ``scripts/build-assets``
compiles them to ``.mo`` at install; when a ``.mo`` is missing or older than its ``.po`` (a fresh
checkout, a test run) it is compiled here on first use, and if the folder is read-only the catalog
is used straight from memory. In the kernel because both the console's pages and the reminders a
domain (notifications) writes are translated with them.
"""

from __future__ import annotations

import io
import os
import tempfile
from functools import lru_cache
from gettext import GNUTranslations, NullTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("en", "es")
DEFAULT = "en"


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
