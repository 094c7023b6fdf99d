"""The transparency log's face: all that another domain may use of the log, in one module (the pattern
of Warehouse's ``accounts/interfaces.py``; docs/architecture.md, "Allowed arrows").

To the domains that write to the log or read it as a verifier:

* disclosure and identity append their typed entries (the kinds of ``entries``, documented in
  docs/log-entries.md) with ``append``, in their own transaction, and disclosure seals a person's
  commitment with ``new_salt`` and ``commitment`` and signs a release's note with the log's key
  (``open_signer``, ``LogSigner``, ``sign_note``);
* reports reads the log as any outside verifier does: the signed checkpoint (``checkpoint_note``,
  ``open_checkpoint``), the entry bundles (``entry_bundle``, ``entry_chunks``, in ``tiles``' layout) and
  consistency proofs checked with the pure core (``verify_consistency``); it appends ``ReportPublished``.

To the console and the CLI besides (they may also call ``service``): the age of the newest checkpoint (a
gauge of ``/metrics``), keeping the served checkpoint current, checking one person's entry as an outside
verifier would, and the self-verification runs an auditor starts and reads.

No domain imports the package's other modules, and no shell its ``endpoints`` (a route module is wiring,
not a contract). This module loads no web framework: the outbox worker reaches it through identity's and
disclosure's log writers.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from safeslot.transparency import merkle, note, service
from safeslot.transparency import repository as repo
from safeslot.transparency.entries import (
    Accounting,
    AgreementChanged,
    AgreementCreated,
    AgreementRenewed,
    CategoryOutcome,
    Decision,
    EntryBase,
    HoldCreated,
    HoldLifted,
    HoldScope,
    IdentityEvent,
    PolicyChange,
    Refused,
    RefusedBeforeGate,
    Release,
    ReportPublished,
    RequestClosed,
    Review,
    as_json,
)
from safeslot.transparency.merkle import EMPTY_ROOT, ProofError, verify_consistency
from safeslot.transparency.note import (
    Checkpoint,
    LogSigner,
    NoteError,
    NoteSigner,
    NoteVerifier,
    open_checkpoint,
    open_note,
    sign_note,
)
from safeslot.transparency.selfcheck import last as last_verifications
from safeslot.transparency.selfcheck import self_verify
from safeslot.transparency.service import (
    append,
    checkpoint,
    checkpoint_note,
    commitment,
    consistency,
    entry_bundle,
    entry_chunks,
    new_salt,
    open_signer,
)
from safeslot.transparency.tiles import TILE_WIDTH, BundleError, split_bundle, tile_path

if TYPE_CHECKING:
    from fastapi import Request

__all__ = [
    "EMPTY_ROOT",
    "TILE_WIDTH",
    "WITNESS_RETRY_SECONDS",
    "Accounting",
    "AgreementChanged",
    "AgreementCreated",
    "AgreementRenewed",
    "BundleError",
    "CategoryOutcome",
    "Checkpoint",
    "Decision",
    "EntryBase",
    "EntryCheck",
    "HoldCreated",
    "HoldLifted",
    "HoldScope",
    "IdentityEvent",
    "LogSigner",
    "NoteError",
    "NoteSigner",
    "NoteVerifier",
    "PolicyChange",
    "ProofError",
    "Refused",
    "RefusedBeforeGate",
    "Release",
    "ReportPublished",
    "RequestClosed",
    "Review",
    "append",
    "as_json",
    "check_entry",
    "checkpoint",
    "checkpoint_age",
    "checkpoint_note",
    "commitment",
    "consistency",
    "entry_bundle",
    "entry_chunks",
    "last_verifications",
    "new_salt",
    "open_checkpoint",
    "open_note",
    "open_signer",
    "refresh_checkpoint",
    "self_verify",
    "sign_note",
    "split_bundle",
    "tile_path",
    "verify_consistency",
]

WITNESS_RETRY_SECONDS = 60.0


def checkpoint_age(session: Session, now: dt.datetime) -> dict[tuple[str, ...], float]:
    """Seconds since the newest checkpoint was signed (``/metrics``: the checkpoint timer's unit can succeed
    while nothing is signed); nothing before the first checkpoint."""
    latest = repo.latest_checkpoint(session)
    return {} if latest is None else {(): max(0.0, (now - latest.signed_at).total_seconds())}


def refresh_checkpoint(request: Request, session: Session, now: dt.datetime) -> None:
    """Sign a checkpoint over the entries appended since the last one, with the app's key and witnesses."""
    state = request.app.state
    signer: note.LogSigner = state.log_signer
    latest = service.published_size(session)
    cp = service.checkpoint(session, signer, now, origin=state.settings.log.origin)
    # A newly signed checkpoint goes to the witnesses; one that a configured witness has not
    # cosigned yet (it was down, or the checkpoint was signed by a command) is resubmitted at most
    # once a minute, so readers do not keep waiting on a witness that is down.
    if not state.log_witnesses:
        return
    missing = {w.verifier.name for w in state.log_witnesses} - set(service.status(session).cosigners)
    retry = missing and time.monotonic() >= getattr(state, "log_witness_retry_at", 0.0)
    if cp.size != latest or retry:
        state.log_witness_retry_at = time.monotonic() + WITNESS_RETRY_SECONDS
        with state.log_http() as http:
            service.submit_to_witnesses(session, cp, state.log_witnesses, now, http)


@dataclass(frozen=True)
class EntryCheck:
    """The result of checking one person's entry, step by step."""

    commitment_ok: bool  # SHA-256(salt ‖ person id ‖ request id) equals the entry's commitment
    in_entry: bool  # the public log entry at that index carries that commitment
    signed: bool  # the latest checkpoint carries the log's valid signature
    included: bool  # the inclusion proof leads from the entry to the checkpoint's root
    size: int  # the checkpoint's tree size

    @property
    def ok(self) -> bool:
        return self.commitment_ok and self.in_entry and self.signed and self.included


def check_entry(session: Session, verifier: note.Verifier, origin: str, checkpoint_note: str, *,
                salt: str, person_id: str, request_id: str, commitment: str, log_index: int) -> EntryCheck:
    """Check a person's commitment against a signed checkpoint with the pure core (``merkle``,
    ``note``), doing what anyone can redo from the public log and the salt the person holds."""
    recomputed = service.commitment(bytes.fromhex(salt), person_id, request_id)
    commitment_ok = recomputed == commitment
    try:
        checkpoint, _ = note.open_checkpoint(checkpoint_note, origin, verifier)
    except note.NoteError:
        return EntryCheck(commitment_ok, False, False, False, 0)
    if log_index >= checkpoint.size:
        return EntryCheck(commitment_ok, False, True, False, checkpoint.size)
    data, _ = service.entry(session, log_index)
    published = service.entry_json(data)
    in_entry = isinstance(published, dict) and published.get("commitment") == recomputed
    proof = service.inclusion(session, log_index, checkpoint.size)
    included = merkle.inclusion_is_valid(log_index, checkpoint.size, merkle.leaf_hash(data), proof.proof,
                                         checkpoint.root_hash)
    return EntryCheck(commitment_ok, in_entry, True, included, checkpoint.size)
