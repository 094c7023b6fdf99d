"""Moved to ``safeslot.kit.limits``; this name stays for branches still importing it."""
# shim: remove when callers moved

import sys

from safeslot.kit import limits as _moved
from safeslot.kit.limits import *  # noqa: F403

sys.modules[__name__] = _moved
