"""uvicorn's HTTP protocols with a deadline for the request head (slowloris).

uvicorn closes idle keep-alive connections (``timeout_keep_alive``), but a
client that opens a connection and sends its request line and headers slowly,
or never finishes them, holds the connection for ever: neither its h11 nor its
httptools protocol has a deadline for the head. These subclasses arm a timer
when a connection opens and whenever a new request starts arriving, and close
the connection if the head is not complete in time. The body has its own
deadline in the body-limit middleware (408, kit/limits.py).

They also hand uvicorn a transport that joins the writes of one event-loop turn
(``OneWrite``): an answer's head and body leave in one system call.

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
    """``SAFESLOT_SERVER__HEADER_TIMEOUT_SECONDS``, through config.py (read once per process)."""
    from safeslot.config import server_settings

    return server_settings().header_timeout_seconds


class _HeadDeadline:
    """Mixed into a uvicorn protocol: close the connection when a request head takes too long.

    A head is pending from the moment the connection opens, or the first bytes of a new request
    arrive, until it is complete. Marking that moment is all a request pays (a clock read): one timer
    per connection wakes once per deadline, closes the connection if a head has been pending that
    long, and otherwise sleeps again until the pending head's own deadline. (A timer armed and
    cancelled for every request, as before, cost more than the rest of a small request's HTTP work.)"""

    transport: asyncio.Transport
    cycle: Any
    _head_timer: asyncio.TimerHandle | None = None
    _head_since: float | None = None  # loop time a pending head began; None while none is pending
    _head_loop: asyncio.AbstractEventLoop

    def _waiting_for_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _watch_head(self, delay: float) -> None:
        self._head_timer = self._head_loop.call_later(delay, self._check_head)

    def _check_head(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        timeout = header_timeout()
        since = self._head_since
        if since is not None and self._waiting_for_head():
            left = since + timeout - self._head_loop.time()
            if left <= 0:
                self.transport.close()
                return
            self._watch_head(left)
            return
        self._watch_head(timeout)

    # The three hooks the deadline needs, once for both protocols (super() is the uvicorn protocol).
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(OneWrite(transport))  # type: ignore[misc]
        self._head_loop = asyncio.get_running_loop()
        self._head_since = self._head_loop.time()
        self._watch_head(header_timeout())

    def data_received(self, data: bytes) -> None:
        if self._head_since is None and self._waiting_for_head():
            self._head_since = self._head_loop.time()
        super().data_received(data)  # type: ignore[misc]
        if not self._waiting_for_head():
            self._head_since = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)  # type: ignore[misc]


class OneWrite:
    """A transport that sends what one event-loop turn writes in one ``write``.

    uvicorn writes an answer's status line and headers when the app sends ``http.response.start``
    and the body when it sends ``http.response.body``: two ``send`` system calls and two TCP segments
    for every small answer (a booking's, most API answers), on both sides of the connection. Here the
    writes of one turn are joined and sent at its end (``call_soon``); ``close`` sends what is held
    first. Everything else is the transport's own (``__getattr__``)."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self._loop = asyncio.get_running_loop()
        self._held: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._held:
            self._loop.call_soon(self._flush)
        self._held.append(data)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(bytes(chunk))

    def _flush(self) -> None:
        if self._held:
            data = b"".join(self._held) if len(self._held) > 1 else self._held[0]
            self._held.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return int(self._transport.get_write_buffer_size()) + sum(map(len, self._held))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._held.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class TimedH11Protocol(_HeadDeadline, H11Protocol):
    pass


class TimedHttpToolsProtocol(_HeadDeadline, HttpToolsProtocol):
    pass
