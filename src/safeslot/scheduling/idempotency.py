"""Idempotency-Key handling (invariant "nothing lost, nothing doubled").

The key is claimed first, with ``INSERT … ON CONFLICT DO NOTHING`` in the
request's own transaction. A concurrent request with the same key waits on the
claim (PostgreSQL waits for the first transaction's outcome; SQLite's write
lock serialises them) and then replays the stored answer. If the first request
fails, its claim rolls back with everything else, so a retry runs afresh:
only answers that wrote something are stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from safeslot.kit.errors import IdempotencyKeyReused, InvalidInput, Recorded
from safeslot.scheduling import repository
from safeslot.scheduling.models import IdempotencyRecord

MAX_KEY_LENGTH = 200


def request_hash(body: Any) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters; a UUID is a good choice."
        )
    return key


def run_once(
    session: Session,
    scope: str,
    key: str | None,
    body_hash: str,
    now: dt.datetime,
    run: Callable[[], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any], bool]:
    """Run ``run`` once per (scope, key); returns (status, body, replayed)."""
    if key is None:
        status, body = run()
        return status, body, False
    check_key(key)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    claimed = session.execute(
        insert(IdempotencyRecord)
        .values(scope=scope, key=key, request_hash=body_hash, status_code=0, body="", created_at=now)
        .on_conflict_do_nothing()
        .returning(IdempotencyRecord.key)
    ).first()
    if claimed is None:
        record = repository.idempotency_record(session, scope, key)
        if record is None or record.status_code == 0:  # pragma: no cover - the claim's holder vanished
            raise IdempotencyKeyReused("That Idempotency-Key is in use by a request still running; retry shortly.")
        if record.request_hash != body_hash:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used with a different body. Use a new key for a new request."
            )
        return record.status_code, orjson.loads(record.body), True
    try:
        status, body = run()
    except Recorded:
        # A refusal that keeps its own record (kit/errors.py) is committed: the claim must not be, or the key
        # would stay "in use" for good. A retry then runs afresh, as after any other refusal.
        session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
            .execution_options(synchronize_session=False)
        )
        raise
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        .values(status_code=status, body=orjson.dumps(body).decode())
        .execution_options(synchronize_session=False)
    )
    return status, body, False
