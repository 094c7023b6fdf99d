"""The garbage collector's settings for a long-running process: a server worker, and a test worker standing in
for one.

Once a process has started, the objects built so far (modules, the app, its routes, settings and pools) live as
long as it does: ``settle`` moves them out of the collector's reach (``gc.freeze``). Otherwise every full
collection walks them all, which stopped the server's event loop for 140-160 ms on the 2-core test machine (the
app tracks about a million objects), and every request in flight waited that long: the booking bench's p99.
The collector still collects everything made afterwards.

Then the young generations collect less often (``YOUNG_THRESHOLDS``): with Python's default (700), a booking
server under load ran a young collection about ten times a second and a middle-generation one about once a
second, 3-42 ms each on the loaded 2-core machine (the requests in flight keep tens of thousands of objects
young), and every request in flight waited. A request's objects are freed by reference counting when it ends,
so the collector only finds cycles; at 50,000 it ran no collection in a 12 s bench run (docs/performance.md,
"Booking", 27 Nov 2026, late), and what it finds is collected a few MB later.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLDS = (50_000, 20, 100)


def settle() -> None:
    """Collect once, freeze what survived, and collect the young generations less often from now on."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*YOUNG_THRESHOLDS)
