"""ASGI entry point for uvicorn: the app built from the environment's settings.

Once the app has started (each worker runs the startup), the objects built so far — modules,
the app, its routes, settings and pools — live as long as the process: they are moved out of the
garbage collector's reach (``gc.freeze``). Otherwise every full collection walks them all, which
stopped the event loop for 140-160 ms on the 2-core test machine (the app tracks about a
million objects), and every request in flight waited that long: the booking bench's p99. The
collector still collects everything made after startup.

Then the young generations collect less often (``YOUNG_THRESHOLDS``): with Python's default
(700), a booking server under load ran a young collection about ten times a second and a
middle-generation one about once a second, 3-42 ms each on the loaded 2-core machine (the
requests in flight keep tens of thousands of objects young), and every request in flight
waited. A request's objects are freed by reference counting when it ends, so the collector
only finds cycles; at 50,000 it ran no collection in a 12 s bench run (docs/performance.md,
"Booking", 27 Nov 2026, late), and what it finds is collected a few MB later.
"""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from safeslot.app import create_app
from safeslot.config import Settings

YOUNG_THRESHOLDS = (50_000, 20, 100)

app = create_app(Settings())
_started = app.router.lifespan_context


@asynccontextmanager
async def _lifespan(a: Any) -> AsyncIterator[Any]:
    async with _started(a) as state:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*YOUNG_THRESHOLDS)
        yield state


app.router.lifespan_context = _lifespan
