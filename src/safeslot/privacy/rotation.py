"""Key rotation: re-seal every sealed value under the ring's current key, in batches.

Privacy decides when (``safeslot keys rotate``, ``keys seal-months``, retention before a month's key
goes); each domain that owns sealed rows re-seals them through its face (scheduling's appointments
and walk-in tickets, identity's second factors), with the kernel's ``kit/sealed_rows.py``, so privacy
builds no query on another domain's tables. Resumable by construction: a batch takes only values whose
key id is not the current one, re-seals them and is committed by the caller. An interrupted run leaves
some values under the old key and some under the new, all readable (both keys are in the ring); running
again continues where it stopped.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from safeslot.identity import interfaces as identity
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import interfaces as scheduling


def seal_by_month_batch(session: Session, ring: KeyRing, month: str, batch_size: int = 500) -> int:
    """Move up to ``batch_size`` appointments of this month (UTC) under the month's data key."""
    return scheduling.seal_month_batch(session, ring, month, batch_size)


def pending(session: Session, ring: KeyRing) -> int:
    """How many rows still hold a value sealed under another key than the current one."""
    return scheduling.pending_reseal(session, ring) + identity.pending_reseal(session, ring)


def reseal_batch(session: Session, ring: KeyRing, batch_size: int = 500) -> int:
    """Re-seal up to ``batch_size`` rows under the current key; returns how many rows changed."""
    done = scheduling.reseal_batch(session, ring, batch_size)
    return done + (identity.reseal_batch(session, ring, batch_size - done) if done < batch_size else 0)


def keys_in_use(session: Session) -> set[str]:
    """Key ids that some stored value still names (checked before a key is retired)."""
    return scheduling.sealed_key_ids(session) | identity.sealed_key_ids(session)
