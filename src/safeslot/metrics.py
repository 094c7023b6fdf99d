"""Moved to ``safeslot.kit.metrics``; this name stays for branches still importing it."""
# shim: remove when callers moved

import sys

from safeslot.kit import metrics as _moved
from safeslot.kit.metrics import *  # noqa: F403

sys.modules[__name__] = _moved
