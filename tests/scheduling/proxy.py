"""A TCP proxy in front of PostgreSQL that a test can break the way networks break.

``forward``: bytes pass both ways. ``blackhole``: connections are accepted and kept open, but nothing passes
(an unreachable database behind a firewall that drops packets: every read waits, nothing is refused).
``refuse``: every connection is closed, and new ones are closed as soon as they are accepted (a database
that is down). ``dsn`` is a libpq/asyncpg URL that goes through the proxy.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from types import TracebackType

from sqlalchemy import make_url

FORWARD, BLACKHOLE, REFUSE = "forward", "blackhole", "refuse"


class Proxy:
    def __init__(self, url: str) -> None:
        target = make_url(url)
        self.target = (target.host or "127.0.0.1", target.port or 5432)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.dsn = target.set(drivername="postgresql", host="127.0.0.1", port=self.port).render_as_string(
            hide_password=False)
        self.mode = FORWARD
        self.accepted = 0
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(5)
        self.listener.close()
        self._close_all()

    def set(self, mode: str) -> None:
        self.mode = mode
        if mode == REFUSE:
            self._close_all()

    def _close_all(self) -> None:
        with self._lock:
            held, self._open = self._open, set()
        for s in held:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _keep(self, *sockets: socket.socket) -> None:
        with self._lock:
            self._open.update(sockets)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            if self.mode == REFUSE:
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        self._keep(client)
        while self.mode == BLACKHOLE and not self._stop.is_set():  # accepted, never answered
            self._stop.wait(0.05)
        if self.mode == REFUSE or self._stop.is_set():
            client.close()
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        self._keep(upstream)
        pair = {client: upstream, upstream: client}
        try:
            while not self._stop.is_set():
                if self.mode == REFUSE:
                    return
                if self.mode == BLACKHOLE:  # keep both ends open, pass nothing
                    self._stop.wait(0.05)
                    continue
                ready, _, _ = select.select(list(pair), [], [], 0.05)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    pair[s].sendall(data)
        except OSError:
            return
        finally:
            for s in pair:
                s.close()
