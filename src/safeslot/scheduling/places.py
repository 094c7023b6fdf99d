"""Where a person is: a ZIP code or a town turned into a point, and distances between points.

A pure core (no database, no clock): the table is read once from a CSV file.
The bundled table (``data/zip_centroids.csv``: zip, town, state, latitude,
longitude) is coarse, rounded to 0.01 degree (about 1 km), and covers only the
demo office's area. A real network loads the U.S. Census Bureau's ZCTA
Gazetteer file (public domain, tab-separated: GEOID, ..., INTPTLAT, INTPTLONG)
by pointing ``finder.zip_table`` at it; towns then come from an optional
``town``/``state`` pair of columns, which the Gazetteer file does not have
(docs/operations.md, "Office finder data").
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from safeslot.kit.errors import InvalidInput
from safeslot.scheduling.errors import PlaceNotFound

BUNDLED = Path(__file__).parent / "data" / "zip_centroids.csv"
EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
ZIP = re.compile(r"^(\d{5})(?:-\d{4})?$")
TOWN = re.compile(r"^([A-Za-zÀ-ÿ][A-Za-zÀ-ÿ .'-]{1,59})(?:,\s*([A-Za-z]{2}))?$")
MAX_INPUT = 80


@dataclass(frozen=True)
class Place:
    label: str  # "01103" or "Springfield, MA": what the page repeats back
    latitude: float
    longitude: float


@dataclass
class PlaceTable:
    zips: dict[str, Place] = field(default_factory=dict)
    towns: dict[str, dict[str, list[Place]]] = field(default_factory=dict)  # town (lower) -> state -> its ZIPs

    def find(self, where: str) -> Place:
        """The point for a ZIP code or a town ("Springfield" or "Springfield, MA")."""
        text = " ".join(where.split())
        if not text or len(text) > MAX_INPUT:
            raise InvalidInput("Type a 5-digit ZIP code, like 01103, or the name of a town, like Springfield.")
        zip_match = ZIP.match(text)
        if zip_match:
            place = self.zips.get(zip_match.group(1))
            if place is None:
                raise PlaceNotFound("We do not know this ZIP code. Check it, or type the name of your town.")
            return place
        town_match = TOWN.match(text)
        if town_match is None:
            raise InvalidInput("Type a 5-digit ZIP code, like 01103, or the name of a town, like Springfield.")
        town, state = town_match.group(1).strip().lower(), (town_match.group(2) or "").upper()
        states = self.towns.get(town, {})
        if state:
            states = {state: states[state]} if state in states else {}
        if not states:
            raise PlaceNotFound("We do not know this town. Check the spelling, or type your ZIP code.")
        if len(states) > 1:
            raise InvalidInput("Several towns have this name. Add the state, like 'Springfield, MA', or type your ZIP.")
        (state_code, places), = states.items()
        name = places[0].label.split(",")[0] if "," in places[0].label else town.title()
        return Place(f"{name}, {state_code}", sum(p.latitude for p in places) / len(places),
                     sum(p.longitude for p in places) / len(places))


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def _read(path: Path) -> PlaceTable:
    table = PlaceTable()
    with path.open(newline="", encoding="utf-8") as f:
        first = f.readline()
        f.seek(0)
        delimiter = "\t" if "\t" in first else ","
        for row in csv.DictReader(f, delimiter=delimiter):
            row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
            zip_code = row.get("zip") or row.get("geoid") or ""
            lat = row.get("latitude") or row.get("intptlat") or ""
            lon = row.get("longitude") or row.get("intptlong") or ""
            if not (len(zip_code) == 5 and zip_code.isdigit() and lat and lon):
                continue
            town, state = row.get("town", ""), row.get("state", "").upper()
            label = f"{town}, {state}" if town and state else zip_code
            place = Place(label, float(lat), float(lon))
            table.zips[zip_code] = Place(zip_code, place.latitude, place.longitude)
            if town and state:
                table.towns.setdefault(town.lower(), {}).setdefault(state, []).append(place)
    return table


@lru_cache(maxsize=4)
def table(path: str | None = None) -> PlaceTable:
    """The ZIP table at ``path`` (a CSV like the bundled one, or the Census ZCTA Gazetteer), else the bundled one."""
    return _read(Path(path) if path else BUNDLED)
