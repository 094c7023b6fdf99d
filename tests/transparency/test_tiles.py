"""The C2SP tlog-tiles layout (transparency/tiles.py): tile paths both ways, which tiles cover a level, and
entry bundles that split back into exactly the entries they hold or say which entry is broken."""

from __future__ import annotations

import pytest

from safeslot.transparency.tiles import (
    TILE_WIDTH,
    BundleError,
    TilePathError,
    bundle,
    encode_index,
    parse_tile_path,
    split_bundle,
    tile_path,
    tiles,
)


def test_tile_paths_group_the_index_by_thousands_and_name_partial_tiles() -> None:
    assert encode_index(0) == "000"
    assert encode_index(1234067) == "x001/x234/067"
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(None, 5, 17) == "tile/entries/005.p/17"
    with pytest.raises(ValueError, match="not negative"):
        encode_index(-1)


@pytest.mark.parametrize(("level", "index", "width"), [(0, 0, TILE_WIDTH), (2, 1234067, 9), (None, 999, 1),
                                                       (63, 1000, TILE_WIDTH - 1)])
def test_a_tile_path_reads_back_as_what_made_it(level: int | None, index: int, width: int) -> None:
    assert parse_tile_path(tile_path(level, index, width).removeprefix("tile/")) == (level, index, width)


@pytest.mark.parametrize(("path", "why"), [
    ("0", "<L>/<N>"), ("64/000", "level"), ("01/000", "level"), ("0/1", "three digits"),
    ("0/001/002", "starts with x"), ("0/x000/001", "leading x000"), ("0/000.p/256", "partial tile width"),
    ("0/000.p/0", "partial tile width"),
])
def test_a_malformed_tile_path_is_refused_with_the_rule_it_breaks(path: str, why: str) -> None:
    with pytest.raises(TilePathError, match=why):
        parse_tile_path(path)


def test_a_level_is_covered_by_full_tiles_and_one_partial_last_tile() -> None:
    assert list(tiles(0)) == []
    assert list(tiles(TILE_WIDTH)) == [(0, TILE_WIDTH)]
    assert list(tiles(2 * TILE_WIDTH + 3)) == [(0, TILE_WIDTH), (1, TILE_WIDTH), (2, 3)]


def test_an_entry_bundle_splits_into_its_entries_or_names_the_broken_one() -> None:
    entries = [b"{}", b"", b'{"event":"policy.change"}']
    data = bundle(entries)
    assert data[:2] == b"\x00\x02"  # big-endian length first
    assert split_bundle(data, 512, 3) == entries
    with pytest.raises(BundleError, match="entry 514"):
        split_bundle(data[:-1], 512, 3)  # ends inside the last entry
    with pytest.raises(BundleError, match="entry 515"):
        split_bundle(data, 512, 4)  # one more expected than it holds
    with pytest.raises(BundleError):
        split_bundle(data + b"\x00", 512, 3)  # bytes after the last
