"""Privileged identity events: one append-only row and one typed transparency-log entry each.

Every privileged change and every deactivation is written twice in the caller's
transaction: to `identity_privileged_event` (append-only: triggers refuse UPDATE and DELETE, and
its rows form a hash chain whose head each checkpoint commits, safeslot/chain.py) and to the
public transparency log. Accounts appear
only as keyed pseudonyms: HMAC-SHA256 under a server key derived from the secret key, so a
monitor can follow one account across events without learning who it is, and nobody
without the key can test a guess ("is this Test Person A?").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

import rfc8785
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.identity.models import PrivilegedEvent
from safeslot.transparency import interfaces as log
from safeslot.transparency.interfaces import IdentityEvent

PREFIX = "identity."


def pseudonym_key(secret_key: str) -> bytes:
    """The pseudonym key, derived from the server's secret key (never stored)."""
    return hmac.new(secret_key.encode(), b"safeslot identity pseudonym v1", hashlib.sha256).digest()


def pseudonym(key: bytes, account_id: int | None) -> str | None:
    """An account's public pseudonym: 24 hex digits (96 bits) of HMAC-SHA256."""
    if account_id is None:
        return None
    return hmac.new(key, f"staff_account:{account_id}".encode(), hashlib.sha256).hexdigest()[:24]


def _rfc3339(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(
    session: Session,
    key: bytes,
    event: str,
    now: dt.datetime,
    *,
    account_id: int | None = None,
    role: str | None = None,
    proposer_id: int | None = None,
    approver_id: int | None = None,
    proposal_id: int | None = None,
    actor_id: int | None = None,
    **extra: Any,
) -> PrivilegedEvent:
    """Append one privileged event (to the table and the log) in the caller's transaction."""
    fields: dict[str, Any] = {
        "time": _rfc3339(now),
        "account": pseudonym(key, account_id),
        "role": role,
        "proposer": pseudonym(key, proposer_id),
        "approver": pseudonym(key, approver_id),
        "proposal_id": proposal_id,
        "actor": pseudonym(key, actor_id),  # single-step acts (deactivation, factor reset): who acted
        **{k: (_rfc3339(v) if isinstance(v, dt.datetime) else v) for k, v in extra.items()},
    }
    # The typed kind (transparency/entries.py) refuses a field or value a privileged event may not hold.
    typed = IdentityEvent.model_validate(dict({k: v for k, v in fields.items() if v is not None},
                                              event=PREFIX + event))
    entry = log.as_json(typed)
    (index,) = log.append(session, [typed], now=now)
    row = PrivilegedEvent(
        event=entry["event"], at=now, account=entry.get("account"), role=role, proposer=entry.get("proposer"),
        approver=entry.get("approver"), proposal_id=proposal_id, entry=rfc8785.dumps(entry).decode(),
        log_index=index,
    )
    session.add(row)
    session.flush()
    return row


def recent(session: Session, limit: int = 200) -> Sequence[PrivilegedEvent]:
    """The latest privileged events, newest first (auditor console)."""
    return session.scalars(select(PrivilegedEvent).order_by(PrivilegedEvent.id.desc()).limit(limit)).all()


def counts(session: Session) -> Mapping[str, int]:
    """Event type → number of events."""
    rows = session.execute(select(PrivilegedEvent.event, func.count()).group_by(PrivilegedEvent.event))
    return {event: n for event, n in rows.tuples()}  # noqa: C416 (Row → tuple)
