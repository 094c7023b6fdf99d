"""Build, sign, publish and verify transparency reports, reading only the transparency log.

The figures come from `compute.compute` over the log's entries, read the way any
outside verifier reads them: the signed checkpoint, then every entry up to it, each
hashed into the Merkle tree as it is read. A report is produced only if the entries
read hash to the checkpoint's root; a stated checkpoint older than the log's latest
must be proved a prefix of it (RFC 9162 consistency proof).

Two sources give the same bytes: `HttpLog` (the public `/log/...` endpoints and their
C2SP tlog-tiles entry bundles, for anyone) and `LocalLog` (the log service's own
readers, read-only, for the office: every entry in one streamed statement, not a query
per bundle; docs/decisions.md).
Writing goes through the log service's `append` (the `report.published` entry).
"""

from __future__ import annotations

import base64
import datetime as dt
import gc
import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, Protocol

import httpx
import orjson
from sqlalchemy.orm import Session

from safeslot.reports import render, repository
from safeslot.reports.compute import compute
from safeslot.reports.errors import LogUnreadable, ReportMismatch, ReportNotFound
from safeslot.reports.models import PublishedReport
from safeslot.reports.schemas import CheckpointRef, Period, Report
from safeslot.transparency import interfaces as log
from safeslot.transparency.interfaces import (
    TILE_WIDTH,
    BundleError,
    Checkpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    ReportPublished,
    open_checkpoint,
    open_note,
    split_bundle,
    tile_path,
)
from safeslot.transparency.interfaces import sign_note as _sign_note

NOTE_TITLE: Final = "safeslot transparency report v1"
Progress = Callable[[int, int], None]  # (entries read, entries to read)
CHUNK: Final = 10_000  # entries per streamed chunk from the office's own database


class LogSource(Protocol):
    """Where the log's public data comes from."""

    def checkpoint_note(self) -> str: ...
    def entry_chunks(self, published: int, size: int) -> Iterator[Sequence[bytes]]:
        """Entries ``[0, size)`` of the tree of size `published`, in log order, in chunks (unverified:
        `read_entries` hashes them into the tree)."""
        ...
    def consistency(self, old: int, new: int) -> list[bytes]: ...


class BundleSource(Protocol):
    def entry_bundle(self, index: int, width: int) -> bytes: ...


def bundled_chunks(source: BundleSource, published: int, size: int) -> Iterator[list[bytes]]:
    """Entries ``[0, size)`` one C2SP entry bundle at a time, as any outside verifier reads them."""
    for n in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        first = n * TILE_WIDTH
        # Ask for the tile as the published tree has it (full once full): partial tiles of an
        # older size need not be served any more (C2SP tlog-tiles).
        width = min(TILE_WIDTH, published - first)
        yield _bundle(source.entry_bundle(n, width), first, width)[: size - first]


class HttpLog:
    """The public C2SP tlog-tiles endpoints under `base` (e.g. https://office.example/log)."""

    def __init__(self, client: httpx.Client, base: str) -> None:
        self.client, self.base = client, base.rstrip("/")

    def _get(self, path: str) -> bytes:
        try:
            resp = self.client.get(f"{self.base}/{path}")
        except httpx.HTTPError as exc:
            raise LogUnreadable(f"Could not fetch {self.base}/{path} ({type(exc).__name__}); "
                                "check the URL and try again.") from exc
        if resp.status_code != 200:
            raise LogUnreadable(f"{self.base}/{path} answered HTTP {resp.status_code}.")
        return resp.content

    def checkpoint_note(self) -> str:
        return self._get("checkpoint").decode("utf-8", errors="replace")

    def entry_bundle(self, index: int, width: int) -> bytes:
        return self._get(tile_path(None, index, width))

    def entry_chunks(self, published: int, size: int) -> Iterator[Sequence[bytes]]:
        return bundled_chunks(self, published, size)

    def consistency(self, old: int, new: int) -> list[bytes]:
        body = orjson.loads(self._get(f"proof/consistency?old={old}&new={new}"))
        return [base64.b64decode(p) for p in body.get("proof", [])]


class LocalLog:
    """The log service's own readers, in a read-only use of `session`."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def checkpoint_note(self) -> str:
        note = log.checkpoint_note(self.session)
        if note is None:
            raise LogUnreadable("The log has no signed checkpoint yet; run `safeslot log checkpoint`.")
        return note

    def entry_bundle(self, index: int, width: int) -> bytes:
        return log.entry_bundle(self.session, index, width)

    def entry_chunks(self, published: int, size: int) -> Iterator[Sequence[bytes]]:
        """The same bytes as the entry bundles, streamed in one statement (not one query per bundle)."""
        return log.entry_chunks(self.session, size, CHUNK)

    def consistency(self, old: int, new: int) -> list[bytes]:
        return log.consistency(self.session, old, new)


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode()


def latest_checkpoint(source: LogSource, verifier: NoteVerifier, origin: str) -> Checkpoint:
    try:
        cp, _ = open_checkpoint(source.checkpoint_note(), origin, verifier)
    except NoteError as exc:
        raise LogUnreadable(f"The log's checkpoint does not verify with the given key ({exc}).") from exc
    return cp


def _bundle(data: bytes, first: int, width: int) -> list[bytes]:
    try:
        return split_bundle(data, first, width)
    except BundleError as exc:
        message = str(exc)
        raise LogUnreadable(f"{message[:1].upper()}{message[1:]}.") from exc


def read_entries(source: LogSource, latest: Checkpoint, size: int, root: bytes,
                 progress: Progress | None = None) -> Iterator[dict[str, Any]]:
    """Entries ``[0, size)`` in log order; raises `LogUnreadable` after the last one unless
    they hash to `root` (so a consumer that reads them all never keeps an unproven result).

    The tree is folded as in `merkle.CompactRange` (RFC 9162 2.1.1), inlined because this
    loop runs once per entry of the log: one leaf hash and, on average, one node hash each.
    """
    if not 0 <= size <= latest.size:
        raise LogUnreadable(f"The report states {size} entries; the log has published {latest.size}.")
    sha256, loads = hashlib.sha256, orjson.loads
    stack: list[bytes] = []  # the compact range: one hash per set bit of `count`
    count = 0
    for datas in source.entry_chunks(latest.size, size):
        first = count
        for data in datas:
            h = sha256(b"\x00" + data).digest()
            i = count
            while i & 1:
                h = sha256(b"\x01" + stack.pop() + h).digest()
                i >>= 1
            stack.append(h)
            count += 1
        try:
            values = list(map(loads, datas))
        except orjson.JSONDecodeError as exc:
            raise LogUnreadable(f"An entry in {first}..{count - 1} is not JSON.") from exc
        if set(map(type, values)) - {dict}:
            i = next(i for i, value in enumerate(values) if value.__class__ is not dict)
            raise LogUnreadable(f"Entry {first + i} is not a JSON object.")
        yield from values
        if progress is not None:
            progress(count, size)
    if count != size:
        raise LogUnreadable(f"The log gave {count} entries of the {size} its checkpoint covers.")
    got = log.EMPTY_ROOT
    if stack:
        got = stack[-1]
        for left in reversed(stack[:-1]):
            got = sha256(b"\x01" + left + got).digest()
    if got != root:
        raise LogUnreadable(f"The first {size} entries hash to {_b64(got)}, not the checkpoint's "
                            f"root {_b64(root)}: the log was altered. Do not trust figures computed from it.")


def check_prefix(source: LogSource, latest: Checkpoint, size: int, root: bytes) -> None:
    """Prove the tree (size, root) is a prefix of the latest signed tree (RFC 9162 2.1.4)."""
    if size == latest.size:
        if root != latest.root_hash:
            raise LogUnreadable(f"At size {size} the log's root differs from the report's: the log forked.")
        return
    if size == 0:
        return
    try:
        log.verify_consistency(size, latest.size, source.consistency(size, latest.size), root, latest.root_hash)
    except log.ProofError as exc:
        raise LogUnreadable(f"The log of size {latest.size} does not extend the report's checkpoint of size "
                            f"{size} ({exc}): the log forked or was rewritten.") from exc


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while the log is read and counted.

    The fold keeps one small object per request (millions at network scale) and makes no
    reference cycles, so every collection walks an ever larger heap and frees nothing: with
    it on, reading and counting took twice the CPU time (docs/decisions.md). Reference
    counting still frees each entry once counted; the previous state is restored after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def compute_from_log(source: LogSource, verifier: NoteVerifier, origin: str, period: Period, *,
                     at: CheckpointRef | None = None, progress: Progress | None = None) -> Report:
    """The report for `period` from the log's entries up to `at` (default: its latest checkpoint)."""
    latest = latest_checkpoint(source, verifier, origin)
    if at is None:
        size, root = latest.size, latest.root_hash
    else:
        if at.origin != origin:
            raise LogUnreadable(f"The report was computed from log {at.origin!r}, not {origin!r}.")
        size, root = at.size, base64.b64decode(at.root_hash)
        check_prefix(source, latest, size, root)
    with _no_cycle_collection():
        report = compute(read_entries(source, latest, size, root, progress), period)
    report.checkpoint = CheckpointRef(origin=origin, size=size, root_hash=_b64(root))
    return report


# --- signing and publishing -------------------------------------------------------------


def note_text(report: Report, sha: str) -> str:
    assert report.checkpoint is not None
    cp = report.checkpoint
    return (f"{NOTE_TITLE}\nperiod {report.period}\nsha256 {sha}\n"
            f"checkpoint {cp.origin} {cp.size} {cp.root_hash}\n")


def sign(report: Report, signer: NoteSigner) -> str:
    """A C2SP signed note over the report's SHA-256 and checkpoint, with the log's key."""
    return _sign_note(note_text(report, render.sha256(report)), [signer])


@dataclass(frozen=True)
class Published:
    report: Report
    signature: str
    sha256: str
    log_index: int
    row: PublishedReport


def publish(session: Session, report: Report, signature: str, now: dt.datetime) -> Published:
    """Append `report.published` to the log and keep the file for the public page (no commit)."""
    assert report.checkpoint is not None
    sha = render.sha256(report)
    [index] = log.append(session, [ReportPublished(
        time=now.isoformat(), period=report.period, sha256=sha, checkpoint_size=report.checkpoint.size,
        checkpoint_root=report.checkpoint.root_hash,
    )], now=now)
    row = repository.add(session, PublishedReport(
        period=report.period, sha256=sha, checkpoint_size=report.checkpoint.size,
        checkpoint_root=report.checkpoint.root_hash, log_index=index, signature=signature,
        document=render.to_json(report, signature), published_at=now,
    ))
    return Published(report, signature, sha, index, row)


def published(session: Session, period: str) -> tuple[Report, str, PublishedReport]:
    row = repository.latest_for(session, Period.parse(period).label)
    if row is None:
        raise ReportNotFound(period)
    report, signature = render.from_json(row.document)
    return report, signature or row.signature, row


def published_periods(session: Session) -> list[PublishedReport]:
    seen: dict[str, PublishedReport] = {}
    for row in repository.all_latest(session):
        seen.setdefault(row.period, row)
    return sorted(seen.values(), key=lambda r: r.period, reverse=True)


# --- verification --------------------------------------------------------------------------


def _differences(claimed: Any, actual: Any, path: str = "report") -> list[str]:
    if isinstance(claimed, dict) and isinstance(actual, dict):
        out: list[str] = []
        for key in sorted(set(claimed) | set(actual)):
            if key not in actual:
                out.append(f"{path}.{key} is not in the recomputed report")
            elif key not in claimed:
                out.append(f"{path}.{key} is missing from the report")
            else:
                out += _differences(claimed[key], actual[key], f"{path}.{key}")
        return out
    if isinstance(claimed, list) and isinstance(actual, list):
        if len(claimed) != len(actual):
            return [f"{path} has {len(claimed)} items; the log gives {len(actual)}"]
        return [d for i, (c, a) in enumerate(zip(claimed, actual, strict=True))
                for d in _differences(c, a, f"{path}[{i}]")]
    if claimed != actual or type(claimed) is not type(actual):
        return [f"{path}: the report says {claimed!r}, the log gives {actual!r}"]
    return []


def verify(document: bytes, source: LogSource, verifier: NoteVerifier, origin: str, *,
           progress: Progress | None = None) -> Report:
    """Check a published report file (JSON, or the HTML page that carries it) against the log
    alone; raise `ReportMismatch` on any difference."""
    page = document if document.lstrip()[:1] == b"<" else None
    try:
        if page is not None:
            document = render.json_in_html(page)
        claimed, signature = render.from_json(document)
    except (ValueError, TypeError, KeyError) as exc:
        raise ReportMismatch([f"the file is not a transparency report ({type(exc).__name__})"]) from exc
    problems: list[str] = []
    sha = hashlib.sha256(render.body(claimed)).hexdigest()
    if claimed.checkpoint is None:
        raise ReportMismatch(["the report states no checkpoint"])
    if signature is None:
        problems.append("the report is not signed")
    else:
        try:
            text, _ = open_note(signature, [verifier])
        except NoteError as exc:
            problems.append(f"the signature does not verify with the log's key ({exc})")
        else:
            if text != note_text(claimed, sha):
                problems.append("the signature is over a different report or checkpoint (hash or checkpoint "
                                "differs from the signed note)")
    try:
        actual = compute_from_log(source, verifier, origin, Period.parse(claimed.period), at=claimed.checkpoint,
                                  progress=progress)
    except LogUnreadable as exc:
        if not problems:
            raise  # the log itself is at fault: say so, not that the report is
        raise ReportMismatch([*problems, exc.detail]) from exc
    problems += _differences(claimed.to_json(), actual.to_json())
    if page is not None and not problems and page != render.to_html(claimed, signature, sha=sha):
        problems.append("the HTML page's text or figures differ from the signed report it carries")
    if problems:
        raise ReportMismatch(problems)
    return actual
