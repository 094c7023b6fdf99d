"""Appending to the log: the event allow-list, the personal-key scan, canonical JSON and `append`.

`append` is what the disclosure gate calls *inside its own transaction*
(invariant "no disclosure without a record"): if it raises, the caller's transaction fails and
nothing is released. It never commits.

Sequencing: `append` (and `proofs.checkpoint`) lock the single ``log_head`` row
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite every transaction already
holds the write lock from ``BEGIN IMMEDIATE``), so there is one writer at a
time and indices are dense.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import rfc8785
from sqlalchemy import text
from sqlalchemy.orm import Session

from safeslot.kit import canonical as canonical_form
from safeslot.transparency import entries, merkle, repository
from safeslot.transparency.errors import EntryRejected, LogInconsistent
from safeslot.transparency.merkle import CompactRange
from safeslot.transparency.models import MAX_ENTRY_BYTES

# The event types the log accepts: derived from the entry models (transparency/entries.py).
EVENTS: frozenset[str] = entries.EVENTS

# Keys that can only carry personal data. Entries hold commitments instead
# (`commitment`); an entry with any of these keys, at any depth, is refused.
# Deliberately narrow: an agency's "name" or "address" is not personal data.
PERSONAL_KEYS: frozenset[str] = frozenset(
    {
        "person_id", "person_name", "first_name", "last_name", "full_name", "given_name", "family_name",
        "email", "phone", "phone_number", "date_of_birth", "dob", "birth_date", "ssn",
        "confirmation_code", "initials", "home_address",
    }
)


def is_known_event(event: str) -> bool:
    return event in EVENTS


def commitment(salt: bytes, person_id: str, request_id: str) -> str:
    """The person's commitment: hex ``SHA-256(salt ‖ person id ‖ request id)`` (UTF-8 ids).

    The person receives the salt with their accounting entry and can then find
    the entry about them; without the salt nobody can link it to them.
    """
    if len(salt) < 16:
        raise ValueError("the salt must be at least 16 random bytes")
    return hashlib.sha256(salt + person_id.encode() + request_id.encode()).hexdigest()


def new_salt() -> bytes:
    return secrets.token_bytes(32)


def personal_keys(value: Any, path: str = "") -> list[str]:
    """Where ``value`` holds a key that can only carry personal data (``subjects[0].full_name``)."""
    found: list[str] = []
    if isinstance(value, Mapping):
        for k, v in value.items():
            here = f"{path}.{k}" if path else str(k)
            if str(k).lower() in PERSONAL_KEYS:
                found.append(here)
            found.extend(personal_keys(v, here))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(personal_keys(v, f"{path}[{i}]"))
    return found


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON (the fast path is proven identical; see kit/canonical.py)."""
    return canonical_form.canonical_json(value)


def canonical(entry: entries.EntryBase | Mapping[str, Any]) -> bytes:
    """Validate an entry and return its RFC 8785 canonical JSON bytes.

    The application's writers pass typed entries (transparency/entries.py: unknown fields and
    free text were refused when the model was built). A plain JSON object (tools, tests,
    benchmarks writing raw entries) gets the checks every entry gets: a known event, no
    personal keys, canonical JSON, the size limit.
    """
    if isinstance(entry, entries.EntryBase):
        value = entries.as_json(entry)
    elif isinstance(entry, Mapping):
        value = entry if type(entry) is dict else dict(entry)
        event = value.get("event")
        if not isinstance(event, str) or not is_known_event(event):
            raise EntryRejected(f"Unknown log event type; use one of: {', '.join(sorted(EVENTS))}.")
    else:
        raise EntryRejected("A log entry must be a JSON object with an 'event' field.")
    plain, personal = canonical_form.scan(value, PERSONAL_KEYS)
    if personal or not plain:
        found = personal_keys(value)  # the general walk, which also says where
        if found:
            raise EntryRejected(
                "Log entries must not hold personal data; replace these fields with commitments: "
                + ", ".join(found[:5])
            )
    data: bytes | None = None
    if plain:
        try:
            data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            data = None  # e.g. a lone surrogate: let rfc8785 name the problem
    try:
        if data is None:
            data = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise EntryRejected(
            f"The entry cannot be written as RFC 8785 canonical JSON ({type(exc).__name__}); "
            "use strings, finite numbers, booleans, null, lists and objects."
        ) from exc
    if len(data) > MAX_ENTRY_BYTES:
        raise EntryRejected(f"The entry is {len(data)} bytes; a log entry holds at most {MAX_ENTRY_BYTES}.")
    return data


def _db_now(session: Session) -> dt.datetime:
    # The database's clock, used only when the caller passes none.
    value = session.execute(text("SELECT CURRENT_TIMESTAMP")).scalar_one()
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _load_compact(session: Session, size: int) -> CompactRange:
    wanted = merkle.subtree_ranges(0, size)
    found = repository.aligned_hashes(session, wanted)
    try:
        return CompactRange(size, [found[p] for p in wanted])
    except KeyError as exc:
        raise LogInconsistent(
            f"The stored tree of size {size} misses subtree {exc.args[0]}; stop the log and restore from backup."
        ) from exc


def append(session: Session, batch: Sequence[entries.EntryBase], *, now: dt.datetime | None = None) -> list[int]:
    """Append typed entries (transparency/entries.py) in one batch; return their indices. Runs in the caller's
    transaction. A plain object is refused: the application's writers build every entry from its model, so
    an unknown field, a sentence where a code goes or a value of the wrong type fails where it is written."""
    for entry in batch:
        if not isinstance(entry, entries.EntryBase):
            raise EntryRejected("A log entry is built from its model in transparency/entries.py, "
                                "not as a plain object.")
    return _append(session, [canonical(e) for e in batch], now)


def append_raw(session: Session, batch: Sequence[entries.EntryBase | Mapping[str, Any]], *,
               now: dt.datetime | None = None) -> list[int]:
    """Append plain JSON objects, with the checks every entry gets (a known event, no personal keys, canonical
    JSON, the size) but not the models': for tools, tests and benchmarks that write synthetic logs, holding
    entries the models would refuse that readers (the report, the verifier) must still survive. Not on the
    face: no domain writes through it."""
    return _append(session, [canonical(e) for e in batch], now)


def _append(session: Session, datas: list[bytes], now: dt.datetime | None) -> list[int]:
    if not datas:
        return []
    now = now or _db_now(session)
    head = repository.lock_head(session)
    compact = _load_compact(session, head.size)
    if compact.root() != head.root:
        raise LogInconsistent(
            "The stored right edge of the tree does not match the head; stop the log and investigate."
        )
    first = head.size
    leaf = merkle.leaf_hash
    rows: list[tuple[int, bytes, bytes]] = []
    nodes: list[tuple[int, int, bytes]] = []
    for i, data in enumerate(datas):
        h = leaf(data)
        rows.append((first + i, data, h))
        nodes.extend(compact.append(h)[1:])  # level 0 lives in log_entry.leaf_hash
    repository.insert_entries(session, rows, now)
    repository.insert_nodes(session, nodes)
    head.size = compact.size
    head.root = compact.root()
    head.updated_at = now
    session.flush()
    return list(range(first, first + len(datas)))


def entry_json(data: bytes) -> Any:
    return json.loads(data)
