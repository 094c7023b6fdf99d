"""Moved to ``safeslot.kit.http``; this name stays for branches still importing it."""
# shim: remove when callers moved

import sys

from safeslot.kit import http as _moved
from safeslot.kit.http import *  # noqa: F403

sys.modules[__name__] = _moved
