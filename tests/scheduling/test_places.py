"""Where a person is (scheduling/places.py): a ZIP code or a town read from a small table, and distances.

A table of its own in ``tmp_path`` (the finder stories in test_finder.py use the bundled one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeslot.kit.errors import InvalidInput
from safeslot.scheduling import places
from safeslot.scheduling.errors import PlaceNotFound

ROWS = """zip,town,state,latitude,longitude
01103,Springfield,MA,42.10,-72.59
01109,Springfield,MA,42.12,-72.55
62701,Springfield,IL,39.80,-89.65
01013,Chicopee,MA,42.16,-72.61
99999,,,10.0,10.0
1234,Nowhere,MA,1.0,1.0
"""


@pytest.fixture
def table(tmp_path: Path) -> places.PlaceTable:
    path = tmp_path / "zips.csv"
    path.write_text(ROWS, encoding="utf-8")
    return places.table(str(path))


def test_a_zip_code_or_zip_plus_four_is_its_own_point(table: places.PlaceTable) -> None:
    assert table.find("01103") == places.Place("01103", 42.10, -72.59)
    assert table.find(" 01103-1234 ") == table.find("01103")
    assert table.find("99999").label == "99999"  # a ZIP with no town is still a place


def test_a_town_is_the_middle_of_its_zip_codes_and_a_shared_name_needs_its_state(table: places.PlaceTable) -> None:
    found = table.find("springfield,  ma")
    assert found.label == "Springfield, MA"
    assert found.latitude == pytest.approx(42.11) and found.longitude == pytest.approx(-72.57)
    assert table.find("Chicopee").label == "Chicopee, MA"
    with pytest.raises(InvalidInput, match="Add the state"):
        table.find("Springfield")


def test_unknown_places_and_unreadable_input_say_what_to_type(table: places.PlaceTable) -> None:
    with pytest.raises(PlaceNotFound, match="ZIP code"):
        table.find("02134")
    with pytest.raises(PlaceNotFound, match="town"):
        table.find("Springfield, TX")
    with pytest.raises(PlaceNotFound):
        table.find("Nowhere")  # its row had a 4-digit ZIP: skipped, not guessed
    for bad in ("", "   ", "x" * 81, "12", "<script>"):
        with pytest.raises(InvalidInput, match="5-digit ZIP"):
            table.find(bad)


def test_distances_are_great_circle_kilometres() -> None:
    assert places.distance_km(42.10, -72.59, 42.10, -72.59) == 0
    one_degree_of_latitude = places.distance_km(42.0, -72.0, 43.0, -72.0)
    assert one_degree_of_latitude == pytest.approx(111.2, abs=0.1)
    assert places.distance_km(42.10, -72.59, 39.80, -89.65) == pytest.approx(1440, rel=0.02)  # MA to IL


def test_the_bundled_table_knows_the_demo_network() -> None:
    assert places.table().find("Chicopee, MA").label == "Chicopee, MA"
