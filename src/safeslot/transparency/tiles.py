"""The C2SP tlog-tiles layout, written once: tile height and width, paths, entry bundles.

The writer (`transparency.service`: `tile`, `entry_bundle`), the server
(`transparency.endpoints`: ``/log/tile/...``), the independent verifier
(`transparency.verify`) and the report's reader (`reports.service`) all take the
layout from here, so they cannot drift apart. Pure: no database, no HTTP.

c2sp.org/tlog-tiles: a tile holds the hashes of ``2**TILE_HEIGHT`` consecutive nodes at
tree level ``TILE_HEIGHT * L``; a partial tile (the right edge) says its width in the path;
an entry bundle holds the entries of one level-0 tile, each prefixed by its big-endian
uint16 length.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Final

TILE_HEIGHT: Final = 8
TILE_WIDTH: Final = 1 << TILE_HEIGHT  # 256 hashes per full tile
HASH_SIZE: Final = 32  # SHA-256
MAX_LEVEL: Final = 63
_ELEMENT = re.compile(r"[0-9]{3}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class TilePathError(ValueError):
    """A malformed tlog-tiles path."""


class BundleError(ValueError):
    """An entry bundle that does not split into the entries it should hold; the message says where."""


def encode_index(n: int) -> str:
    """tlog-tiles: 1234067 -> ``x001/x234/067``."""
    if n < 0:
        raise ValueError("tile indices are not negative")
    groups = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def tile_path(level: int | None, index: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]`` (level None: the entry bundle)."""
    head = "entries" if level is None else str(level)
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{head}/{encode_index(index)}{suffix}"


def parse_tile_path(path: str) -> tuple[int | None, int, int]:
    """Inverse of `tile_path` (without the leading ``tile/``): (level or None, index, width)."""
    parts = path.split("/")
    if len(parts) < 2:
        raise TilePathError("a tile path is <L>/<N>[.p/<W>]")
    first, rest = parts[0], parts[1:]
    level: int | None
    if first == "entries":
        level = None
    elif _DECIMAL.fullmatch(first) and int(first) <= MAX_LEVEL:
        level = int(first)
    else:
        raise TilePathError(f"the tile level is a decimal from 0 to {MAX_LEVEL} without leading zeros")
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        w = rest[-1]
        if not _DECIMAL.fullmatch(w) or not 1 <= int(w) < TILE_WIDTH:
            raise TilePathError(f"a partial tile width is a decimal from 1 to {TILE_WIDTH - 1}")
        width = int(w)
        rest = [*rest[:-2], rest[-2][:-2]]
    index = 0
    for i, element in enumerate(rest):
        last = i == len(rest) - 1
        if not last:
            if not element.startswith("x"):
                raise TilePathError("every index element but the last starts with x")
            element = element[1:]
        if not _ELEMENT.fullmatch(element):
            raise TilePathError("index elements are three digits")
        index = index * 1000 + int(element)
    if len(rest) > 1 and rest[0] == "x000":
        raise TilePathError("the index has a leading x000 element")
    return level, index, width


def tiles(count: int) -> Iterator[tuple[int, int]]:
    """(tile index, width) of the tiles covering ``count`` nodes of one level, the last one partial."""
    for n in range((count + TILE_WIDTH - 1) // TILE_WIDTH):
        yield n, min(TILE_WIDTH, count - n * TILE_WIDTH)


def bundle(entries: Sequence[bytes]) -> bytes:
    """An entry bundle: each entry prefixed by its big-endian uint16 length."""
    return b"".join(len(d).to_bytes(2, "big") + d for d in entries)


def split_bundle(data: bytes, first: int, width: int) -> list[bytes]:
    """The ``width`` entries of a bundle whose first entry has log index ``first``.

    Raises `BundleError` naming the entry when the bundle ends early, ends inside an entry
    or has bytes after the last one.
    """
    out: list[bytes] = []
    pos, end = 0, len(data)
    for i in range(width):
        if pos + 2 > end:
            raise BundleError(f"entry {first + i}: the entry bundle ends early")
        n = (data[pos] << 8) | data[pos + 1]
        pos += 2
        if pos + n > end:
            raise BundleError(f"entry {first + i}: the entry bundle ends inside the entry")
        out.append(data[pos : pos + n])
        pos += n
    if pos != end:
        raise BundleError(f"entries {first}..{first + width - 1}: the bundle has trailing bytes")
    return out
