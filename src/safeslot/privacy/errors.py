"""Privacy errors.

    InvalidInput (422)
    └── UnknownPurpose     an access purpose not in the fixed list
    Conflict (409)
    └── RotationUnfinished a key cannot be retired while values still use it
"""

from __future__ import annotations

from safeslot.errors import N_, Conflict, InvalidInput


class UnknownPurpose(InvalidInput):
    slug = "unknown-purpose"
    title = N_("Unknown purpose")


class RotationUnfinished(Conflict):
    slug = "rotation-unfinished"
    title = N_("Values still sealed under the old key")
