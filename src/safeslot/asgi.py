"""ASGI entry point for uvicorn: the app built from the environment's settings.

Once the app has started (each worker runs the startup), the collector is settled: what exists then lives as
long as the process and is frozen, and the young generations collect less often (kit/collector.py).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from safeslot.app import create_app
from safeslot.config import Settings
from safeslot.kit import collector

app = create_app(Settings())
_started = app.router.lifespan_context


@asynccontextmanager
async def _lifespan(a: Any) -> AsyncIterator[Any]:
    async with _started(a) as state:
        collector.settle()
        yield state


app.router.lifespan_context = _lifespan
