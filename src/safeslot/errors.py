"""Moved to ``safeslot.kit.errors``; this name stays for branches still importing it."""
# shim: remove when callers moved

import sys

from safeslot.kit import errors as _moved
from safeslot.kit.errors import *  # noqa: F403

sys.modules[__name__] = _moved
