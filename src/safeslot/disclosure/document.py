"""The instrument document itself: checked at intake, rendered for reviewers.

Reviewers judge the document, not what the requester typed, so every instrument must be
a PDF the server can render: not encrypted, at most `max_pages` pages, every page
rendered within `render_seconds`. Pages are rendered on the server with PDFium
(pypdfium2) into PNG images; no PDF reader runs in a reviewer's browser.

PDFium is not thread-safe and a hostile file can make it spin, so it never runs in the
web server's threads: one worker process (`python -m safeslot.disclosure.document`)
does all of it, one call at a time, and a call that overruns its time is ended by
killing the worker (a new one starts with the next call). The worker gets the bytes and returns numbers,
text and PNG bytes; nothing is written to disk.

Errors::

    InvalidInput
    └── DocumentRejected        422  not a PDF, encrypted, unrenderable, too many pages, too slow
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from safeslot.kit.errors import N_, InvalidInput


class DocumentRejected(InvalidInput, slug="disclosure-document-rejected",
                       title=N_("The instrument document cannot be read")):
    """The uploaded instrument cannot be shown to reviewers, so it is refused at intake."""


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    max_pages: int = 30
    render_seconds: float = 20.0
    # 1.5 = 108 dpi: legible on screen, small enough to send a page in well under a second.
    scale: float = 1.5


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    """What the check found: the page count and each page's extracted text."""

    pages: int
    text: tuple[str, ...]


# --- in the worker process ------------------------------------------------------------------

def _open(data: bytes) -> Any:
    import pypdfium2 as pdfium  # type: ignore[import-untyped]  # no py.typed
    import pypdfium2.raw as raw  # type: ignore[import-untyped]

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        # PDFium says "password" for a file it cannot open without one.
        return "encrypted" if "password" in str(exc).lower() else "unreadable"
    if raw.FPDF_GetSecurityHandlerRevision(doc) != -1:  # encrypted, even with an empty password
        doc.close()
        return "encrypted"
    return doc


def _inspect(data: bytes, max_pages: int, scale: float) -> dict[str, Any]:
    """Open, count, render every page once (a file that cannot be rendered is refused now,
    not when a reviewer opens it) and extract the text."""
    doc = _open(data)
    if isinstance(doc, str):
        return {"problem": doc}
    try:
        pages = len(doc)
        if pages == 0:
            return {"problem": "unreadable"}
        if pages > max_pages:
            return {"problem": "too_many_pages", "pages": pages}
        text = []
        for index in range(pages):
            page = doc[index]
            page.render(scale=scale).close()
            textpage = page.get_textpage()
            text.append(textpage.get_text_range().replace("\r\n", "\n"))
            textpage.close()
            page.close()
        return {"pages": pages, "text": text}
    except Exception:  # PDFium refused part of the file: it cannot be shown
        return {"problem": "unreadable"}
    finally:
        doc.close()


def _text(data: bytes) -> list[str]:
    doc = _open(data)
    if isinstance(doc, str):
        raise ValueError(doc)
    try:
        out = []
        for index in range(len(doc)):
            textpage = doc[index].get_textpage()
            out.append(textpage.get_text_range().replace("\r\n", "\n"))
            textpage.close()
        return out
    finally:
        doc.close()


def _render(data: bytes, index: int, scale: float) -> bytes:
    doc = _open(data)
    if isinstance(doc, str):
        raise ValueError(doc)
    try:
        page = doc[index]
        image = page.render(scale=scale).to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=False)
        return out.getvalue()
    finally:
        doc.close()


# --- in the server ------------------------------------------------------------------------

class WorkerTimeout(Exception):
    """The worker did not answer in time; it was killed."""


class WorkerCrashed(Exception):
    """The worker died on the file (PDFium crashed) or answered nonsense; it was killed."""


class _Worker:
    """One PDFium process for the whole server (`python -m safeslot.disclosure.document`),
    called one at a time over its stdin and stdout (length-prefixed pickles of our own
    calls and answers); killed and replaced when a call overruns or the process dies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    def call(self, seconds: float, name: str, *args: Any) -> Any:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "safeslot.disclosure.document"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                )
            process = self._process
            assert process.stdin is not None and process.stdout is not None
            try:
                message = pickle.dumps((name, args))
                process.stdin.write(struct.pack(">Q", len(message)) + message)
                process.stdin.flush()
                deadline = time.monotonic() + seconds
                size = struct.unpack(">Q", _read(process.stdout, 8, deadline))[0]
                ok, value = pickle.loads(_read(process.stdout, size, deadline))  # noqa: S301 - our own child
            except WorkerTimeout:
                self._kill()
                raise
            except (OSError, EOFError, struct.error, pickle.UnpicklingError) as exc:
                self._kill()
                raise WorkerCrashed(str(exc)) from exc
            if not ok:
                raise ValueError(value)
            return value

    def running(self) -> bool:
        with self._lock:
            return self._process is not None and self._process.poll() is None

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()

    def close(self) -> None:
        """End the worker (at exit; a new one would start with the next call)."""
        with self._lock:
            self._kill()


def _read(stream: Any, size: int, deadline: float) -> bytes:
    out = bytearray()
    fd = stream.fileno()
    while len(out) < size:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise WorkerTimeout
        chunk = os.read(fd, size - len(out))
        if not chunk:
            raise EOFError("the worker closed its output")
        out += chunk
    return bytes(out)


def _serve() -> None:  # pragma: no cover - runs in the worker process
    """The worker's loop: read a call, answer (True, value) or (False, message)."""
    calls: dict[str, Callable[..., Any]] = {"inspect": _inspect, "render": _render, "text": _text}
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = stdin.read(8)
        if len(head) < 8:
            return
        name, args = pickle.loads(stdin.read(struct.unpack(">Q", head)[0]))  # noqa: S301 - our own parent
        try:
            answer = (True, calls[name](*args))
        except Exception as exc:
            answer = (False, type(exc).__name__)
        message = pickle.dumps(answer)
        stdout.write(struct.pack(">Q", len(message)) + message)
        stdout.flush()


_WORKER = _Worker()


def stop_worker() -> None:
    """End the PDFium worker (at exit; the next call or `warm` starts a new one)."""
    _WORKER.close()


atexit.register(stop_worker)
# A first call starts the worker process (spawn imports Python and PDFium): allow for it.
_START_ALLOWANCE = 30.0
_started = False

REASONS = {
    "encrypted": "The document is encrypted or password-protected; send the instrument as an unprotected PDF.",
    "unreadable": "The document cannot be rendered as a PDF; scan the signed instrument to PDF again.",
    "too_many_pages": "The document has more pages than the office accepts ({max} at most); send the "
                      "instrument alone.",
    "too_slow": "The document takes too long to render; scan the signed instrument to a simpler PDF.",
}


def _timed(limits: DocumentLimits, fn: str, *args: Any) -> Any:
    global _started
    allowance = limits.render_seconds + (0 if _started else _START_ALLOWANCE)
    started = time.monotonic()
    try:
        result = _WORKER.call(allowance, fn, *args)
    except WorkerTimeout as exc:
        raise DocumentRejected(REASONS["too_slow"]) from exc
    except WorkerCrashed as exc:  # PDFium crashed on the file
        raise DocumentRejected(REASONS["unreadable"]) from exc
    if _started and time.monotonic() - started > limits.render_seconds:  # pragma: no cover - timing
        raise DocumentRejected(REASONS["too_slow"])
    _started = True
    return result


def inspect(data: bytes, limits: DocumentLimits) -> DocumentFacts:
    """Check that the document is a renderable, unencrypted PDF within the limits; its facts.
    Raises DocumentRejected saying what to send instead."""
    found = _timed(limits, "inspect", data, limits.max_pages, limits.scale)
    problem = found.get("problem")
    if problem:
        raise DocumentRejected(REASONS[problem].format(max=limits.max_pages))
    return DocumentFacts(pages=int(found["pages"]), text=tuple(found["text"]))


def warm(limits: DocumentLimits) -> None:
    """Start the worker now, at server start-up, with a one-page document of our own.

    Spawning it imports Python and PDFium, which takes seconds on a busy machine (over ten were measured
    under the failover drill's load); without this the first instrument filed after a start waits for it,
    and so does every filing queued behind it. A failure here is left for the first real call to meet.
    """
    from safeslot.disclosure import samplepdf

    with contextlib.suppress(DocumentRejected, ValueError):
        inspect(samplepdf.write([["worker warm-up"]]), limits)


def page_text(data: bytes, limits: DocumentLimits) -> list[str]:
    """The text PDFium extracts from each page (empty for a scanned image)."""
    try:
        text: list[str] = _timed(limits, "text", data)
    except ValueError as exc:  # pragma: no cover - the document passed inspect at intake
        raise DocumentRejected(REASONS["unreadable"]) from exc
    return text


def page_png(data: bytes, index: int, limits: DocumentLimits) -> bytes:
    """Page `index` (0-based) as a PNG image."""
    try:
        png: bytes = _timed(limits, "render", data, index, limits.scale)
    except ValueError as exc:  # pragma: no cover - the document passed inspect at intake
        raise DocumentRejected(REASONS["unreadable"]) from exc
    return png


if __name__ == "__main__":  # pragma: no cover - the worker process
    _serve()
