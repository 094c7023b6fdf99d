"""Transparency log errors.

    DomainError
    ├── BadLogRequest               400  malformed tile path, index >= size, old > new …
    ├── NotFound
    │   └── BeyondLog               404  a tile, entry or size the log has not published
    ├── InvalidInput
    │   └── EntryRejected           422  not a JSON object, unknown event, too big, personal data
    └── Unavailable
        ├── LogKeyMissing           503  no signing key outside demo mode
        ├── LogKeyUnusable          503  the key's token (HSM/KMS) refuses: module, token, PIN, key
        ├── WitnessRequired         503  no witness configured outside demo mode
        └── LogInconsistent         503  storage does not extend the last signed checkpoint
"""

from __future__ import annotations

from safeslot.kit.errors import N_, DomainError, InvalidInput, NotFound, Unavailable


class BadLogRequest(DomainError, slug="bad-log-request", title=N_("This is not a valid log request")):
    """The log request is malformed (a tile path, an index past the size, an old size above the
    new). The detail says which; see c2sp.org/tlog-tiles.
    """


class BeyondLog(NotFound, slug="beyond-log", title=N_("The log has not published this")):
    """The log has not published this tile, entry or size yet. Fetch the latest checkpoint first."""


class EntryRejected(InvalidInput, slug="log-entry-rejected", title=N_("This log entry is not accepted")):
    """The log accepts only known event types holding no personal data and no free text, in
    canonical JSON. The detail says what to change.
    """


class LogKeyMissing(Unavailable, slug="log-key-missing", title=N_("The log has no signing key")):
    """The log has no signing key outside demo mode. An operator runs `safeslot log keygen` and sets
    the key file.
    """


class LogKeyUnusable(Unavailable, slug="log-key-unusable", title=N_("The log's signing key cannot be used")):
    """The log's signing key is kept in a PKCS#11 token (an HSM or a KMS) that cannot be used: the
    module, the token label, the PIN or the key label is wrong, or the token stopped answering. The
    service refuses to start rather than fail when it first signs; the detail names the setting to
    fix (docs/operations.md, "Where keys live").
    """


class LogInconsistent(Unavailable, slug="log-inconsistent",
                      title=N_("The log refuses to sign: storage is not consistent with its last checkpoint")):
    """Stored log data no longer reproduces the last signed checkpoint, so the log refuses to sign.
    An operator stops the log and investigates.
    """


class WitnessRequired(Unavailable, slug="witness-required",
                      title=N_("The log needs at least one witness outside demo mode")):
    """Outside demo mode the log needs at least one witness to cosign its checkpoints. An operator
    configures one.
    """
