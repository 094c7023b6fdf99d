"""Scheduling HTTP API under /api/v1 (HTTP only: rules live in service.py)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from safeslot.config import Settings
from safeslot.db import read_transaction
from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.identity.interfaces import Principal, current_staff
from safeslot.kit import metrics
from safeslot.kit.crypto import KeyRing, months_between
from safeslot.kit.errors import InvalidInput
from safeslot.kit.http import JSON
from safeslot.scheduling import service
from safeslot.scheduling.errors import InterpreterUnavailable, SlotFull
from safeslot.scheduling.idempotency import request_hash, run_once
from safeslot.scheduling.models import Appointment, Office, Service
from safeslot.scheduling.schemas import (
    AppointmentOut,
    BookingIn,
    NearestOut,
    NearOfficeOut,
    OfficeOut,
    RescheduleIn,
    ServiceOut,
    ServiceText,
    SlotOut,
    StatusChangeIn,
)
from safeslot.scheduling.search_cache import SearchCache
from safeslot.scheduling.slots import Answer, FreeSlot, search_known

router = APIRouter(prefix="/api/v1", tags=["scheduling"])


def setup(app: FastAPI, settings: Settings, *, record_read: service.RecordRead) -> None:
    """Month data keys for the booking window, made ahead; on PostgreSQL, the asyncpg fast path (fastfront.py).
    ``record_read`` writes a staff read of a name to the access log (privacy's, passed in by app.py)."""
    from safeslot.scheduling import fastfront

    app.state.record_read = record_read
    ring: KeyRing = app.state.keyring
    # The slot search cache (search_cache.py), one per app server. Not when the app is bound to a test's
    # connection: its transaction is rolled back, so its availability versions would be reused.
    app.state.search_cache = None if isinstance(app.state.sessionmaker.kw.get("bind"), Connection) else SearchCache()
    now = app.state.clock()
    ring.ensure_months(months_between(now, now + service.BOOKING_WINDOW))
    fastfront.install(app, settings)


# async: awaited in place, not sent to the thread pool (identity/guard.py, "dependencies for endpoints")
async def _idempotency_key(
    request: Request,
    key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                      description="Retries with the same key return the first answer.")] = None,
) -> str | None:
    """The one Idempotency-Key of a request. Several are refused: which one a retry would be matched by is
    not for the server to guess (the fast path and this endpoint once took different ones)."""
    if len(request.headers.getlist("idempotency-key")) > 1:
        raise InvalidInput("Send one Idempotency-Key header, not several; a UUID is a good choice.")
    return key


IdempotencyKey = Annotated[str | None, Depends(_idempotency_key)]


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API is answered."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(description="Stable identifier, e.g. /problems/slot-full; documented at that path.")
    title: str
    status: int
    detail: str = Field(description="What to do next.")
    instance: str | None = None
    errors: list[dict[str, str]] | None = Field(default=None, description="Invalid input: each field and why.")
    nearest: list[str] | None = Field(default=None, description="Full or missing slot: the nearest free times.")


def _problem(description: str) -> dict[str, Any]:
    schema = Problem.model_json_schema()  # flat (no $defs), so it can sit inline in the document
    return {"description": description, "content": {"application/problem+json": {"schema": schema}}}


PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: _problem("Malformed JSON"),
    404: _problem("Unknown office, service or code"),
    409: _problem("Slot or interpreter full (`nearest` lists the three nearest free times), or a reused key"),
    413: _problem("Request body over the limit"),
    422: _problem("Invalid input (`errors` names each field), or a time that cannot be booked"),
}


def appointment_out(session: Session, appointment: Appointment) -> AppointmentOut:
    office = session.get(Office, appointment.office_id)
    svc = session.get(Service, appointment.service_id)
    assert office is not None and svc is not None
    tz = service.zone(office.timezone)
    return AppointmentOut(
        code=service.format_code(appointment.code),
        status=appointment.status,
        office=office.slug,
        service=svc.slug,
        starts_at=appointment.starts_at.astimezone(tz),
        ends_at=appointment.ends_at.astimezone(tz),
        language=appointment.language,
        reminders_opt_in=appointment.reminders_opt_in,
        sequence=appointment.sequence,
    )


def _office_out(session: Session, office: Office) -> OfficeOut:
    from safeslot.scheduling import repository

    return OfficeOut(
        slug=office.slug, name=office.name, address=office.address, timezone=office.timezone,
        services=[
            ServiceOut(slug=s.slug, name=s.name, description=s.description, duration_minutes=s.duration_minutes,
                       translations={t.language: ServiceText(name=t.name, description=t.description)
                                     for t in s.translations})
            for s in repository.services(session, office.id)
        ],
        languages=service.office_languages(session, office),
    )


@router.get("/offices", response_model=list[OfficeOut])
def list_offices(session: SessionDep) -> list[OfficeOut]:
    from safeslot.scheduling import repository

    return [_office_out(session, o) for o in repository.offices(session, open_only=True)]


@router.get("/nearest-offices", response_model=NearestOut, responses=PROBLEMS)
def nearest_offices(
    request: Request, session: SessionDep, now: NowDep,
    where: Annotated[str, Query(max_length=80, description="A 5-digit ZIP code or a town, e.g. 'Springfield, MA'.")],
    language: Annotated[str | None, Query(max_length=16, description="Only offices with staff who speak it, e.g. es.")]
    = None,
) -> NearestOut:
    """The nearest offices with their services, languages, next free time and own page."""
    settings: Settings = request.app.state.settings
    place, found = service.nearest_offices(session, where, language or None, now,
                                           table_path=settings.finder.zip_table)
    out = []
    for near in found:
        tz = service.zone(near.office.timezone)
        out.append(NearOfficeOut(
            office=_office_out(session, near.office), url=f"/offices/{near.office.slug}",
            distance_km=round(near.distance_km, 1),
            next_free=near.next_free.astimezone(tz) if near.next_free else None,
        ))
    return NearestOut(place=place.label, offices=out)


@router.get("/offices/{office}", response_model=OfficeOut, responses=PROBLEMS)
def get_office(office: str, session: SessionDep) -> OfficeOut:
    return _office_out(session, service.get_office(session, office))


@router.get("/slots", response_model=list[SlotOut], responses=PROBLEMS)
async def search_slots(
    request: Request,
    now: NowDep,
    office: Annotated[str, Query(max_length=64)],
    service_slug: Annotated[str, Query(alias="service", max_length=64)],
    date_from: Annotated[dt.date, Query(alias="from", description="First local day")],
    date_to: Annotated[dt.date | None, Query(alias="to", description="Last local day (default: 7 days on)")] = None,
    language: Annotated[str | None, Query(max_length=16, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] = None,
) -> Any:
    # One thread hand-off for the whole request (the session's transaction, the search, the JSON), where
    # a sync endpoint with SessionDep took three (open, endpoint, close): under load each hand-off waits
    # for a thread and the GIL, and they were most of the HTTP time (docs/performance.md, "Slot search").
    return await run_in_threadpool(_search_slots, request, now, office, service_slug, date_from, date_to, language)


def _search_slots(
    request: Request, now: dt.datetime, office: str, service_slug: str, date_from: dt.date,
    date_to: dt.date | None, language: str | None,
) -> Response:
    last = date_to or (date_from + dt.timedelta(days=6) if date_from < dt.date(9999, 1, 1) else date_from)
    # A search only reads: a snapshot, without the SQLite write lock that bookings queue on (db.read_transaction).
    interpreter = service.interpreter_language(language)
    with read_transaction(request.app.state.sessionmaker) as session:
        cache = request.app.state.search_cache
        if cache is None:
            found, _, slots = service.search_slots(session, office, service_slug, date_from, last, language, now)
            return Response(_body(slots, found.timezone, interpreter), media_type=JSON.media_type)
        answer = search_known(session, cache, office, service_slug, date_from, last, language, now)
    return Response(_answer_json(answer, interpreter), media_type=JSON.media_type)


_SLOT_KEYS = ("starts_at", "ends_at", "starts_at_utc", "available", "interpreter")


class _Written:
    """Bytes written from an object that never changes once made — a cached answer's tuple of days, or one
    day's list (search_cache.py) — by that object's identity and how it was written; the oldest out past
    ``budget`` bytes. An entry keeps its object alive, so the id is not reused while the entry is here."""

    def __init__(self, budget: int) -> None:
        self.budget, self.size = budget, 0
        self._kept: dict[tuple[int, object], tuple[object, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, source: object, how: object) -> bytes | None:
        found = self._kept.get((id(source), how))  # one atomic look-up: no lock
        return found[1] if found is not None and found[0] is source else None

    def put(self, source: object, how: object, written: bytes) -> None:
        with self._lock:
            old = self._kept.pop((id(source), how), None)
            self.size += len(written) - (len(old[1]) if old else 0)
            self._kept[(id(source), how)] = (source, written)
            while self.size > self.budget and len(self._kept) > 1:
                self.size -= len(self._kept.pop(next(iter(self._kept)))[1])


# A hit of the search cache answers the same days again and again: its written answer is kept whole
# (``_ANSWERS``), by the days and the starts dropped as past. A search that misses it (someone booked in the
# range) gets the days not changed from the cache, the very lists as before: each day's starts are written once
# per list and cut (``_DAYS``), and the answer is the written days joined — writing all of eight weeks' starts
# again was most of such a search's time (docs/decisions.md, "Slot search: days written once").
_ANSWERS, _DAYS = _Written(16 << 20), _Written(16 << 20)


def _answer_json(answer: Answer, interpreter: str | None) -> bytes:
    """The JSON of ``answer.slots``, byte for byte what ``_body`` writes of them."""
    first, past = answer.first_kept()
    how = (first, past, answer.timezone, interpreter)
    body = _ANSWERS.get(answer.days, how)
    if body is None:
        pieces = [b"["]  # the written days and their commas, so that the answer's bytes are copied once
        for n, day in enumerate(answer.days[first:], first):
            if written := _day_json(day, past if n == first else 0, answer.timezone, interpreter):
                pieces += (written, b",")
        pieces[-1:] = [b"]"] if len(pieces) > 1 else [b"[]"]
        body = b"".join(pieces)
        _ANSWERS.put(answer.days, how, body)
    return body


def _day_json(day: Sequence[FreeSlot], past: int, timezone: str, interpreter: str | None) -> bytes:
    """A day's starts from the ``past``-th on, written as ``_body`` writes them, without the brackets."""
    if len(day) <= past:
        return b""
    how = (past, timezone, interpreter)
    written = _DAYS.get(day, how)
    if written is None:
        written = _starts_json(day[past:], timezone, interpreter)
        _DAYS.put(day, how, written)
    return written


def _body(slots: Sequence[FreeSlot], timezone: str, interpreter: str | None) -> bytes:
    """The answer's JSON: each start's object written once and kept (``_slot_json``), the list joined.

    Building a dict per start was a third of an eight-week answer's time; the same start with the same count
    is written the same way each time, byte for byte as ``orjson.dumps`` of the whole list would."""
    return b"[" + _starts_json(slots, timezone, interpreter) + b"]"


def _starts_json(slots: Sequence[FreeSlot], timezone: str, interpreter: str | None) -> bytes:
    """The starts' objects, comma-separated, without the brackets."""
    return b",".join([_slot_json(s.starts_at, s.ends_at, timezone, s.available, interpreter) for s in slots])


@lru_cache(maxsize=1 << 16)
def _slot_json(start: dt.datetime, end: dt.datetime, timezone: str, available: int, interpreter: str | None) -> bytes:
    return orjson.dumps(dict(zip(_SLOT_KEYS, (*_slot_times(start, end, timezone), available, interpreter),
                                 strict=True)))


@lru_cache(maxsize=1 << 15)
def _slot_times(start: dt.datetime, end: dt.datetime, timezone: str) -> tuple[str, str, str]:
    """A start's three written times. The same starts are answered again and again and a zone-aware
    ``isoformat`` is most of a week's answer otherwise (docs/performance.md, "Slot search")."""
    tz = service.zone(timezone)
    return (start.astimezone(tz).isoformat(), end.astimezone(tz).isoformat(),
            start.isoformat().replace("+00:00", "Z"))


@router.post("/appointments", status_code=201, response_model=AppointmentOut, responses=PROBLEMS)
def book(
    body: BookingIn, session: SessionDep, now: NowDep, ring: RingDep, idempotency_key: IdempotencyKey = None
) -> Any:
    def _run() -> tuple[int, dict[str, Any]]:
        try:
            appointment = service.book(session, ring, body, now)
        except SlotFull:
            metrics.CONFLICTS.labels("slot").inc()
            raise
        except InterpreterUnavailable:
            metrics.CONFLICTS.labels("interpreter").inc()
            raise
        metrics.BOOKINGS.inc()
        return 201, appointment_out(session, appointment).model_dump(mode="json")

    service.lock_booking_hours(session, body)  # lock, then claim the key: the fast path's order
    status, payload, replayed = run_once(
        session, "book", idempotency_key, request_hash(body.model_dump(mode="json")), now, _run
    )
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return JSON(payload, status_code=status, headers=headers)


@router.get("/appointments/{code}", response_model=AppointmentOut, responses=PROBLEMS)
def get_appointment(code: str, session: SessionDep) -> AppointmentOut:
    return appointment_out(session, service.get_by_code(session, code))


@router.post("/appointments/{code}/reschedule", response_model=AppointmentOut, responses=PROBLEMS)
def reschedule(
    code: str, body: RescheduleIn, session: SessionDep, now: NowDep, ring: RingDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def _run() -> tuple[int, dict[str, Any]]:
        appointment = service.reschedule(session, ring, code, body.starts_at, now)
        return 200, appointment_out(session, appointment).model_dump(mode="json")

    scope = f"reschedule:{service.normalise_code(code)[:16]}"
    status, payload, replayed = run_once(
        session, scope, idempotency_key, request_hash(body.model_dump(mode="json")), now, _run
    )
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return JSON(payload, status_code=status, headers=headers)


@router.post("/appointments/{code}/cancel", response_model=AppointmentOut, responses=PROBLEMS)
def cancel(code: str, session: SessionDep, now: NowDep) -> AppointmentOut:
    return appointment_out(session, service.cancel(session, code, now))


@router.post("/appointments/{code}/status", response_model=AppointmentOut, responses=PROBLEMS)
def change_status(
    request: Request, code: str, body: StatusChangeIn, session: SessionDep, now: NowDep,
    staff: Annotated[Principal, Depends(current_staff)],
) -> AppointmentOut:
    """Staff: check in, fulfilled, no-show (a clerk of the appointment's office; identity/authz.py)."""
    from safeslot.scheduling.queue import service as queue

    service.appointment_in_scope(session, code, staff)  # another office's code answers as an unknown one
    # a check-in at the front desk also gives the person their place in the queue
    return appointment_out(session, queue.front_desk_status(session, code, body.status, now,
                                                            request.app.state.settings.queue))
