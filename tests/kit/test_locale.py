"""The languages and their catalogs (kit/locale.py): English is the source text, Spanish is read from its
catalog (compiled on first use when the .mo is missing or stale), anything else falls back to English."""

from __future__ import annotations

from safeslot.kit import locale


def test_spanish_speaks_from_its_catalog_and_english_is_the_source_text() -> None:
    assert locale.translations("es").gettext("We do not know this place") == "No conocemos este lugar"
    assert locale.translations("en").gettext("We do not know this place") == "We do not know this place"
    assert locale.translations("vi").gettext("We do not know this place") == "We do not know this place"


def test_every_language_has_a_catalog_that_compiles() -> None:
    for lang in locale.LANGUAGES:
        if lang != locale.DEFAULT:
            assert locale.compile_catalog(lang).startswith((b"\xde\x12\x04\x95", b"\x95\x04\x12\xde"))  # .mo magic
