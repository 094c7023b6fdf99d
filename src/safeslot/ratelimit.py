"""Moved to ``safeslot.kit.ratelimit``; this name stays for branches still importing it."""
# shim: remove when callers moved

import sys

from safeslot.kit import ratelimit as _moved
from safeslot.kit.ratelimit import *  # noqa: F403

sys.modules[__name__] = _moved
