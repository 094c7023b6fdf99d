"""Languages: every message has a Spanish translation, catalogs compile themselves, dates follow the locale."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from safeslot.console import i18n
from safeslot.kit import locale

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "safeslot"  # the pages, and the error titles of every domain (shown by the console)
METHODS = [("console/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"console/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "gettext": None, "N_": None}


def _extracted() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PACKAGE), METHODS, OPTIONS, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(lang: str):  # type: ignore[no-untyped-def]
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_catalog_is_well_formed(lang: str) -> None:
    # A merge once left a msgid without its msgstr: pybabel compiled it with a warning and the message after
    # it was lost from the catalog. read_po with abort_invalid raises on exactly that.
    path = i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang, abort_invalid=True)
    # and every message written in the file is in the catalog (none swallowed by its neighbour)
    written = [line for line in path.read_text(encoding="utf-8").splitlines()
               if line.startswith('msgid "') and line != 'msgid ""']
    assert len(catalog) == len(written) > 100


def test_every_message_in_the_code_and_templates_has_a_spanish_translation() -> None:
    messages = _extracted()
    assert len(messages) > 100, "extraction found the page messages"
    spanish = _catalog("es")
    missing = sorted(m for m in messages if not (spanish.get(m) and spanish.get(m).string))
    fuzzy = sorted(m.id for m in spanish if m.id and m.fuzzy)
    assert not missing, f"no Spanish for: {missing}"
    assert not fuzzy, f"fuzzy (unchecked) Spanish for: {fuzzy}"


def test_the_catalogs_hold_no_message_the_code_no_longer_uses() -> None:
    messages = _extracted()
    for lang in ("en", "es"):
        stale = sorted(m.id for m in _catalog(lang) if m.id and m.id not in messages)
        assert not stale, f"{lang}: messages no page shows any more (run pybabel update --ignore-obsolete): {stale}"


def test_every_error_title_has_a_spanish_translation() -> None:
    """The console shows a domain error's title in the page's language: a new error class must mark it N_()."""
    import importlib
    import pkgutil

    import safeslot
    from safeslot.kit.errors import DomainError

    for module in pkgutil.walk_packages(safeslot.__path__, "safeslot."):
        # safeslot.asgi builds an app from the environment's settings (production needs a secret key)
        if not module.name.startswith("safeslot.migrations") and module.name != "safeslot.asgi":
            importlib.import_module(module.name)
    classes, todo = set(), [DomainError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in classes:
                classes.add(sub)
                todo.append(sub)
    assert len(classes) > 40
    spanish = _catalog("es")
    # the app's own errors: a test module's test-only error (tests/test_recorded.py) is never shown to anyone,
    # and is a subclass here only when that module was imported first in the same process
    shipped = {c for c in classes if c.__module__.startswith("safeslot.")}
    untranslated = sorted(c.title for c in {DomainError, *shipped} if not (spanish.get(c.title) and
                                                                           spanish.get(c.title).string))
    assert not untranslated, f"no Spanish for these error titles (mark them N_ and translate): {untranslated}"


def test_translations_keep_their_placeholders() -> None:
    for message in _catalog("es"):
        if message.id:
            assert set(re.findall(r"%\(\w+\)s", message.id)) == set(re.findall(r"%\(\w+\)s", message.string))


def test_a_missing_or_stale_mo_is_compiled_on_first_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "es" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    shutil.copy(i18n.LOCALE_DIR / "es" / "LC_MESSAGES" / "messages.po", folder / "messages.po")
    monkeypatch.setattr(locale, "LOCALE_DIR", tmp_path)
    assert not (folder / "messages.mo").exists()
    locale.compile_catalog("es")
    assert (folder / "messages.mo").exists()
    # an edited .po makes the .mo stale: it is compiled again
    os.utime(folder / "messages.mo", (1, 1))
    po = (folder / "messages.po").read_text(encoding="utf-8")
    (folder / "messages.po").write_text(po.replace('msgstr "Pedir una cita"', 'msgstr "Reservar una cita"'),
                                        encoding="utf-8")
    from gettext import GNUTranslations
    from io import BytesIO

    fresh = GNUTranslations(BytesIO(locale.compile_catalog("es")))
    assert fresh.gettext("Book an appointment") == "Reservar una cita"
    assert (folder / "messages.mo").stat().st_mtime > 1


def test_the_language_comes_from_the_choice_then_the_cookie_then_the_browser() -> None:
    assert i18n.pick("es", "en", "en-US") == "es"
    assert i18n.pick(None, "es", "en-US") == "es"
    assert i18n.pick(None, None, "es-MX,es;q=0.9,en;q=0.5") == "es"
    assert i18n.pick("xx", None, "fr-FR") == "en"


def test_dates_are_formatted_for_the_locale_in_the_office_zone() -> None:
    when = dt.datetime(2027, 3, 1, 14, 30, tzinfo=dt.UTC)
    tz = ZoneInfo("America/New_York")
    assert i18n.when_label(when, tz, "en") == "Monday, March 1, 2027, 9:30\u202fAM"
    assert i18n.when_label(when, tz, "es") == "lunes, 1 de marzo de 2027, 9:30"
    assert i18n.language_name("vi", "es") == "vietnamita"
