"""The slot search's reads, in the shape its arithmetic uses: times as UTC epoch seconds, people as bits.

A search reads thousands of holds and hundreds of starts; as ORM or typed datetimes each row cost
a parse and a time-zone conversion, more than the database spent finding it (docs/performance.md,
"Slot search"). Here the database hands back integers (epoch seconds, the same hour arithmetic as the
availability triggers of migration 0481), and the masks statement is written with its (integer) staff
ids and bits inline, built once per set of candidates: PostgreSQL evaluated a CASE of bound parameters
three times slower than one of constants.

- ``held_masks``: per unit with a hold, the sum of the bits of the candidates held then;
- ``open_starts``: the starts of the service's open grid rows;
- ``hour_versions``: the office's setup version and its hours' version rows (search_cache.py);
- ``Setup``/``read_setup``: what the office's setup version decides for a search — the candidates,
  their bits and working hours — read once per version by the cache, or per search without one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import TextClause, bindparam, select, text
from sqlalchemy.orm import Session

from safeslot.scheduling import repository as repo
from safeslot.scheduling.assignment import Candidates, Person, candidates
from safeslot.scheduling.duty import Duty
from safeslot.scheduling.models import Staff, StaffHold

MAX_SHIFT = 61  # the highest bit a shifted mask uses: a sum of distinct bits below 2**62 fits a signed 64-bit
_TIME = StaffHold.starts_at.type  # binds aware UTC datetimes as each database stores them
_EPOCH = {"sqlite": "CAST(strftime('%s', {col}) AS INTEGER)",
          "postgresql": "CAST(floor(extract(epoch FROM {col})) AS BIGINT)"}


def epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _masks_select(dialect: str, bits: tuple[tuple[int, int], ...] | None) -> str:
    """Per unit of [lo, until) with a hold: its epoch second and the sum of the bits of those held. ``bits``
    None: bit = 1 << (staff id - :base), for ids up to :top (no CASE to evaluate per hold: some 40% of the
    statement's time on both databases); else a CASE with the (integer) ids and bits written in."""
    if bits is None:
        mask, which = "sum(CAST(1 AS BIGINT) << (staff_id - :base))", "staff_id >= :base AND staff_id <= :top"
    else:
        whens = " ".join(f"WHEN {int(who)} THEN {int(bit)}" for who, bit in bits)
        mask = f"sum(CASE staff_id {whens} ELSE 0 END)"
        which = f"staff_id IN ({', '.join(str(int(who)) for who, _ in bits)})"
    return (f"SELECT 1, {_EPOCH[dialect].format(col='starts_at')}, CAST({mask} AS BIGINT) FROM staff_hold "
            f"WHERE office_id = :office_id AND starts_at >= :lo AND starts_at < :until AND {which} GROUP BY starts_at")


@lru_cache(maxsize=256)
def _sql(dialect: str, bits: tuple[tuple[int, int], ...] | None, starts: bool) -> TextClause:
    """The masks statement (none when ``bits`` is empty), after the service's open starts of [lo, hi) when
    ``starts``: one round trip for both."""
    masks = bits != ()
    parts = [_masks_select(dialect, bits)] if masks else []
    if starts:
        parts.insert(0, f"SELECT 0, {_EPOCH[dialect].format(col='starts_at')}, 0 FROM slot_capacity WHERE "
                     "service_id = :service_id AND starts_at >= :lo AND starts_at < :hi AND booked < capacity")
    names = ("lo", *(("until",) if masks else ()), *(("hi",) if starts else ()))
    return text(" UNION ALL ".join(parts)).bindparams(*(bindparam(name, type_=_TIME) for name in names))


_HOUR_ROWS = text(
    "SELECT -1, coalesce(max(version), 0) FROM availability_office WHERE office_id = :office_id "
    "UNION ALL SELECT hour, version FROM availability_hour "
    "WHERE office_id = :office_id AND hour >= :first AND hour <= :last"
)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def held_masks(
    session: Session, office_id: int, lo: dt.datetime, until: dt.datetime, bits: Mapping[int, int],
    base: int | None = None,
) -> dict[int, int]:
    """For each unit of [lo, until) with a hold, by epoch second: the OR of ``bits[staff_id]`` of the people held
    then (the database adds the bits, one row per unit; a person is held at most once per unit). With a
    ``base``, ``bits`` are ``1 << (id - base)`` (``shifted_bits``): the database computes them, and the bits of
    anyone else between the lowest and highest id are there too (no candidate's, so no count sees them)."""
    return starts_and_masks(session, office_id, None, lo, None, until, bits, base)[1]


def starts_and_masks(
    session: Session, office_id: int, service_id: int | None, lo: dt.datetime, hi: dt.datetime | None,
    until: dt.datetime, bits: Mapping[int, int], base: int | None = None,
) -> tuple[list[int], dict[int, int]]:
    """In one statement: the starts of the service's open slots in [lo, hi) in time order (with a
    ``service_id``), and ``held_masks`` of [lo, until) (with ``bits``)."""
    if not bits and service_id is None:
        return [], {}
    params: dict[str, object] = {"lo": lo}
    if bits:
        params.update(office_id=office_id, until=until)
    if service_id is not None:
        params.update(service_id=service_id, hi=hi)
    if base is not None:
        params.update(base=base, top=max(bits))
    shape = None if base is not None else tuple(sorted(bits.items()))
    starts, masks = [], {}
    for kind, unit, held in session.execute(_sql(_dialect(session), shape, service_id is not None), params).all():
        if kind:
            masks[unit] = held
        else:
            starts.append(unit)
    starts.sort()
    return starts, masks


def shifted_bits(ids: Sequence[int]) -> tuple[dict[int, int], int | None]:
    """Bits ``1 << (id - lowest id)`` and that lowest id, when the ids span at most 62 (an office's staff,
    added together, usually do); else one bit per place in ``ids`` and None."""
    if ids and max(ids) - min(ids) <= MAX_SHIFT:
        base = min(ids)
        return {who: 1 << (who - base) for who in ids}, base
    return {who: 1 << i for i, who in enumerate(ids)}, None


def hour_versions(session: Session, office_id: int, first: int, last: int) -> tuple[int, list[int], list[int]]:
    """The office's setup version, and its hours [first, last] that have a row with their versions, by hour (one
    statement). Eight weeks are some 400 rows, read by every search: taken apart column-wise, not row by row."""
    rows = session.execute(_HOUR_ROWS, {"office_id": office_id, "first": first, "last": last}).all()
    hours, versions = [row[0] for row in rows], [row[1] for row in rows]
    at = hours.index(-1)  # the office's row is always there
    del hours[at]
    setup = versions.pop(at)
    if hours != sorted(hours):  # (the index gives them in order; nothing promises it)
        hours, versions = (list(column) for column in zip(*sorted(zip(hours, versions, strict=True)), strict=True))
    return setup, hours, versions


@dataclass(frozen=True, slots=True)
class Setup:
    """A search's people, as the office's setup decides them: the candidates, one bit each (``slots.
    candidate_bits``), and the working hours of those with their own or with absences from ``since`` on."""

    candidates: Candidates
    bits: Mapping[int, int]
    base: int | None  # bits are 1 << (id - base) (``shifted_bits``)
    duties: Mapping[int, Duty]
    since: dt.date
    until: dt.date

    def covers(self, first: dt.date, last: dt.date) -> bool:
        return self.since <= first and last <= self.until


def read_setup(session: Session, office_id: int, service_slug: str, language: str | None, first: dt.date,
               last: dt.date) -> Setup:
    """The candidates of the office's active staff and their working hours, absences touching [first, last]."""
    rows = session.execute(select(Staff.id, Staff.languages, Staff.services, Staff.own_hours).where(
        Staff.office_id == office_id, Staff.active.is_(True)).order_by(Staff.id)).tuples().all()
    people = [Person(who, frozenset(langs.split()), frozenset(svcs.split())) for who, langs, svcs, _ in rows]
    c = candidates(people, service_slug, language)
    duties = repo.duties(session, office_id, first, last, own=[who for who, _, _, own in rows if own])
    bits, base = shifted_bits(c.everyone)
    return Setup(c, bits, base, duties, first, last)
