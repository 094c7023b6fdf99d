"""ASGI entry point for uvicorn: the app built from the environment's settings.

Once the app has started (each worker runs the startup), the objects built so far — modules,
the app, its routes, settings and pools — live as long as the process: they are moved out of the
garbage collector's reach (``gc.freeze``). Otherwise every full collection walks them all, which
stopped the event loop for 140-160 ms on the 2-core test machine (the app tracks about a
million objects), and every request in flight waited that long: the booking bench's p99. The
collector still collects everything made after startup.
"""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from safeslot.app import create_app
from safeslot.config import Settings

app = create_app(Settings())
_started = app.router.lifespan_context


@asynccontextmanager
async def _lifespan(a: Any) -> AsyncIterator[Any]:
    async with _started(a) as state:
        gc.collect()
        gc.freeze()
        yield state


app.router.lifespan_context = _lifespan
