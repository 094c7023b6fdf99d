"""What each process of the "processes starting together" test runs (spawned: a new interpreter).

Apart from the test module on purpose: a spawned process imports the module of the function it runs,
and the test module imports the whole app and the suite's fixtures; this imports only the key ring.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from safeslot.kit.crypto import load_key_ring


def add_month(key_file: str) -> str:
    """Open (or make) the key file, make sure May 2027 has its key, and return that key's digest."""
    ring = load_key_ring(Path(key_file), None, create=True)
    ring.ensure_months(["2027-05"])
    return hashlib.sha256(ring.month_keys["2027-05"]).hexdigest()
