"""The transparency log's service: what the console, the CLI, tests and tools call.

The rules live in three modules, each one concern:

* `appends` — the event allow-list (from the typed kinds in `entries`), the personal-key
  scan, canonical JSON and `append` of typed entries in the caller's transaction (invariant "no
  disclosure without a record": it never commits; if it raises, the caller's transaction fails);
  `append_raw` writes plain objects, for tools, tests and benchmarks building synthetic logs.
* `proofs` — what readers see (up to the latest signed checkpoint): proofs, tiles and entry
  bundles (layout in `tiles`), signing checkpoints only over a tree that extends the last
  one, the log's status and signing key.
* `witnesses` — the witness client: submitting checkpoints, keeping cosignatures.

Other domains never import this module: they call the log through its face,
``transparency/interfaces.py`` (typed ``append``, proofs, checkpoints; docs/architecture.md,
"Allowed arrows"). The console and the CLI may import either (``from safeslot.transparency
import service``) and use the names below.
"""

from __future__ import annotations

from safeslot.transparency.appends import (
    EVENTS,
    PERSONAL_KEYS,
    append,
    append_raw,
    canonical,
    canonical_json,
    commitment,
    entry_json,
    is_known_event,
    new_salt,
)
from safeslot.transparency.keyfiles import load_signer, open_signer, write_key_file
from safeslot.transparency.proofs import (
    InclusionProof,
    Status,
    checkpoint,
    checkpoint_note,
    commit_record_heads,
    consistency,
    entry,
    entry_bundle,
    entry_chunks,
    inclusion,
    published_size,
    status,
    tile,
    tree_root,
)
from safeslot.transparency.witnesses import Witness, consistency_for_witness, submit_to_witnesses

__all__ = [
    "EVENTS", "PERSONAL_KEYS", "InclusionProof", "Status", "Witness", "append", "append_raw", "canonical",
    "canonical_json",
    "checkpoint", "checkpoint_note", "commit_record_heads", "commitment", "consistency", "consistency_for_witness",
    "entry", "entry_bundle", "entry_chunks", "entry_json", "inclusion", "is_known_event", "load_signer",
    "new_salt", "open_signer",
    "published_size", "status", "submit_to_witnesses", "tile", "tree_root", "write_key_file",
]
