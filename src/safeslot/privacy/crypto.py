"""Moved to ``safeslot.kit.crypto``; this name stays for branches still importing it."""
# shim: remove when callers moved

import sys

from safeslot.kit import crypto as _moved
from safeslot.kit.crypto import *  # noqa: F403

sys.modules[__name__] = _moved
