"""uvicorn's HTTP protocols with a deadline for the request head (slowloris).

uvicorn closes idle keep-alive connections (``timeout_keep_alive``), but a
client that opens a connection and sends its request line and headers slowly,
or never finishes them, holds the connection for ever: neither its h11 nor its
httptools protocol has a deadline for the head. These subclasses arm a timer
when a connection opens and whenever a new request starts arriving, and close
the connection if the head is not complete in time. The body has its own
deadline in the body-limit middleware (408, kit/limits.py).

Used by ``safeslot serve`` (``http=``); the deadline is
``SAFESLOT_SERVER__HEADER_TIMEOUT_SECONDS`` (read once per worker).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


@functools.cache
def header_timeout() -> float:
    import os

    from safeslot.config import ServerSettings

    raw = os.environ.get("SAFESLOT_SERVER__HEADER_TIMEOUT_SECONDS")
    return float(raw) if raw else float(ServerSettings.model_fields["header_timeout_seconds"].default)


class _HeadDeadline:
    """Mixed into a uvicorn protocol: close the connection when a request head takes too long."""

    transport: asyncio.Transport
    cycle: Any
    _head_timer: asyncio.TimerHandle | None = None

    def _waiting_for_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = asyncio.get_running_loop().call_later(header_timeout(), self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._waiting_for_head() and not self.transport.is_closing():
            self.transport.close()

    # The three hooks the deadline needs, once for both protocols (super() is the uvicorn protocol).
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._waiting_for_head():
            self._arm()
        super().data_received(data)  # type: ignore[misc]
        if not self._waiting_for_head():
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]


class TimedH11Protocol(_HeadDeadline, H11Protocol):
    pass


class TimedHttpToolsProtocol(_HeadDeadline, HttpToolsProtocol):
    pass
