"""Words for the codes staff pages show (console/labels.py): every code's words exist in Spanish too, an
unknown code is shown as it is rather than hidden, and each kind of code the pages read has its words."""

from __future__ import annotations

from functools import cache

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from safeslot.console import i18n
from safeslot.console.labels import LABELS, label


@cache
def _spanish() -> Catalog:
    with (i18n.LOCALE_DIR / "es" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale="es")


@pytest.mark.parametrize("kind", sorted(LABELS))
def test_every_label_reads_in_spanish(kind: str) -> None:
    # a Spanish word may be spelled as the English one ("Auditor"), but it must have been written
    untranslated = [words for words in LABELS[kind].values() if not (m := _spanish().get(words)) or not m.string]
    assert untranslated == [], f"add the Spanish of these {kind} labels to the catalog"


def test_a_known_code_reads_as_words_and_an_unknown_one_as_itself() -> None:
    assert label("ticket", "noshow") == "Missed"
    assert label("ticket_outcome", "done") == "Served"
    assert label("status", "info_requested") == "Waiting for information"
    assert label("status", "a-state-from-a-newer-release") == "a-state-from-a-newer-release"
    with pytest.raises(KeyError):
        label("no-such-kind", "x")  # a page asking for a kind nobody wrote is a bug, not a code to show


def test_the_queue_and_the_appointments_speak_of_the_same_visit_alike() -> None:
    # A missed visit reads the same on the appointments page and on the queue board.
    assert label("appointment", "noshow") == label("ticket", "noshow") == label("ticket_outcome", "noshow")
    assert set(LABELS["ticket"]) == set(LABELS["ticket_outcome"])  # every state a ticket is in is counted
