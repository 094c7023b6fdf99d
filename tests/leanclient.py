"""The test client's transport: one hand-over to the app's event loop per request instead of about nine.

Starlette's TestClient (1.10) sends each request through its event-loop thread in steps, each a round trip
between the test's thread and the loop's: two events, a stream and a cancel scope made there, the app's task
started, the start of the answer awaited, then every chunk of the body and its end fetched one by one. That
cost about 0.9 ms of CPU per request, more than the app's own share of a refused or a cached answer
(bench/request_cost.py: 0.05 ms for a 401); the suite sends tens of thousands.

``LeanTransport`` starts the app's task once and waits for a thread event that the app's ``send`` sets when
the whole answer is there. What the app sees is unchanged: the same scope, the request body on the first
``receive``, ``http.disconnect`` once the answer is complete, and the test's thread waits for the app's task
to finish (background tasks included) before it returns, as Starlette's does when it closes the response. An
answer that streams (a body chunk with ``more_body``) goes on exactly as Starlette's: each further chunk is
handed over when the test reads it, and closing the response early cancels the app. Exceptions are raised or
answered with an empty 500 as ``raise_server_exceptions`` says. Anything but HTTP (websockets) is
Starlette's own code.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from types import GeneratorType
from typing import Any
from urllib.parse import unquote

import anyio
import anyio.from_thread
from starlette.testclient import _TestClientTransport, httpx


class _Exchange:
    """One request's messages between the test's thread and the app's task in the loop's thread."""

    def __init__(self, app: Any, scope: dict[str, Any], request: Any) -> None:
        self.app, self.scope, self.request = app, scope, request
        self.ready = threading.Event()  # the answer is complete, streams, or the app ended
        self.status: int | None = None
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.streaming = self.request_read = self.body_complete = self.trailers_expected = False
        self.trailers: list[tuple[bytes, bytes]] = []
        self.debug: dict[str, Any] | None = None

    async def run(self) -> None:
        self.response_complete = anyio.Event()
        self.cancel_scope = anyio.CancelScope()
        try:
            with self.cancel_scope:
                await self.app(self.scope, self.receive, self.send)
        finally:
            if self.streaming:
                self.tx.close()  # the reader's next receive ends the stream
            self.ready.set()

    def close_stream(self) -> None:
        """(In the loop's thread.) The reading end of a streamed answer, once the test is done with it."""
        if self.streaming:
            self.rx.close()

    async def receive(self) -> dict[str, Any]:
        if self.request_read:
            if not self.response_complete.is_set():
                await self.response_complete.wait()
            return {"type": "http.disconnect"}
        body = self.request.read()
        if isinstance(body, GeneratorType):  # pragma: no cover - Starlette's streamed upload, as it does it
            try:
                chunk = body.send(None)
                return {"type": "http.request", "body": chunk.encode() if isinstance(chunk, str) else chunk,
                        "more_body": True}
            except StopIteration:
                self.request_read = True
                return {"type": "http.request", "body": b""}
        self.request_read = True
        return {"type": "http.request", "body": body.encode() if isinstance(body, str) else (body or b"")}

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            assert self.status is None, 'Received multiple "http.response.start" messages.'
            self.status = message["status"]
            self.headers = [(k.decode(), v.decode()) for k, v in message.get("headers", [])]
            self.trailers_expected = message.get("trailers", False)
        elif kind == "http.response.body":
            assert self.status is not None, 'Received "http.response.body" without "http.response.start".'
            assert not self.body_complete, 'Received "http.response.body" after body completed.'
            chunk, more = bytes(message.get("body", b"")), message.get("more_body", False)
            final = not more and not self.trailers_expected
            if self.streaming:
                await self.tx.send((chunk, final))
            else:
                self.chunks.append(chunk)
                if more:  # from here on as Starlette's: each chunk handed over when the test reads it
                    self.tx, self.rx = anyio.create_memory_object_stream[tuple[bytes, bool]](0)
                    self.streaming = True
            self.body_complete = not more
            if final:
                self.response_complete.set()
            if more or final:
                self.ready.set()
        elif kind == "http.response.trailers":
            assert self.trailers_expected and self.body_complete, "Unexpected trailers."
            self.trailers.extend(message.get("headers", []))
            if not message.get("more_trailers", False):
                self.response_complete.set()
                self.ready.set()
        elif kind == "http.response.debug":
            self.debug = message["info"]


class _Stream(httpx.SyncByteStream):  # type: ignore[misc]
    """The rest of a streamed answer, chunk by chunk from the loop, as Starlette's stream hands it over."""

    def __init__(self, exchange: _Exchange, portal: Any, future: Future[None], done: Any) -> None:
        self.exchange, self.portal, self.future, self.done = exchange, portal, future, done

    def __iter__(self) -> Iterator[bytes]:
        head = self.exchange.request.method == "HEAD"
        for chunk in self.exchange.chunks:
            if chunk and not head:
                yield chunk
        while True:
            try:
                chunk, final = self.portal.call(self.exchange.rx.receive)
            except anyio.EndOfStream:
                break
            if chunk and not head:
                yield chunk
            if final:
                break

    def close(self) -> None:
        self.done()


class LeanTransport(_TestClientTransport):  # type: ignore[misc]
    def handle_request(self, request: Any) -> Any:
        if request.url.scheme not in ("http", "https"):
            return super().handle_request(request)
        url = request.url
        port = url.port or {"http": 80, "https": 443}[url.scheme]
        headers = [] if "host" in request.headers else [(b"host", url.netloc)]
        headers += [(key.lower().encode(), value.encode()) for key, value in request.headers.multi_items()]
        scope = {
            "type": "http", "http_version": "1.1", "method": request.method, "path": unquote(url.path),
            "raw_path": url.raw_path.split(b"?", 1)[0], "root_path": self.root_path, "scheme": url.scheme,
            "query_string": url.query.decode("ascii").encode(), "headers": headers, "client": self.client,
            "server": [url.raw_host.decode("ascii"), port],
            "extensions": {"http.response.debug": {}, "http.response.trailers": {}},
            "state": self.app_state.copy(),
        }
        exchange = _Exchange(self.app, scope, request)
        with self.portal_factory() as portal:
            future: Future[None] = portal.start_task_soon(exchange.run)
            exchange.ready.wait()

            def finish() -> None:
                if not future.done():
                    portal.call(lambda: None if exchange.response_complete.is_set() else exchange.cancel_scope.cancel())
                wait_futures([future])
                if exchange.streaming:
                    portal.call(exchange.close_stream)
                self._open_requests.discard(abort)
                if self.raise_server_exceptions and future.exception() is not None:
                    raise future.exception()  # type: ignore[misc]

            def abort() -> None:
                portal.call(exchange.cancel_scope.cancel)
                wait_futures([future])
                portal.call(exchange.close_stream)

            if exchange.status is None:
                finish()
                if self.raise_server_exceptions:
                    raise AssertionError("TestClient did not receive any response.")
                return httpx.Response(status_code=500, headers=[], stream=httpx.ByteStream(b""), request=request)
            if exchange.streaming:
                self._open_requests.add(abort)
                stream: Any = _Stream(exchange, portal, future, finish)
            else:
                finish()
                body = b"" if request.method == "HEAD" else b"".join(exchange.chunks)
                stream = httpx.ByteStream(body)
        response = httpx.Response(status_code=exchange.status, headers=exchange.headers, stream=stream, request=request)
        if exchange.trailers_expected:
            response.extensions["http.response.trailers"] = exchange.trailers
        if exchange.debug is not None:
            response.extensions["http.response.debug"] = exchange.debug
            for name in ("template", "context"):
                if name in exchange.debug:
                    setattr(response, name, exchange.debug[name])
        return response
