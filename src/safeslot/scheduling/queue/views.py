"""What the queue shows: a person's place and wait, the lobby display, the supervisor's live view.

Reads only. The wait estimate uses the office's own recent service times
(median and quartiles per service, ``rules.estimate``) and the desks open now
for that service: staff who called someone in the last half hour, or, before
anyone has, the active staff who serve it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from safeslot.config import QueueSettings
from safeslot.scheduling import service as scheduling
from safeslot.scheduling import staffing
from safeslot.scheduling.models import Office, Service
from safeslot.scheduling.queue import repository as repo
from safeslot.scheduling.queue import rules
from safeslot.scheduling.queue.models import QueueTicket
from safeslot.scheduling.queue.service import as_waiting, label, office_today

OPEN_DESK = dt.timedelta(minutes=30)  # a desk that called someone this recently is open
DISPLAY_ROWS = 8
DISPLAY_SINCE = dt.timedelta(minutes=30)


def waiting(session: Session, office: Office, now: dt.datetime) -> Sequence[QueueTicket]:
    """The office's waiting tickets today in arrival order (the desk's list: numbers, never names)."""
    return repo.waiting(session, office.id, office_today(office, now))


def estimate_for(
    session: Session, office: Office, service: Service, ahead: int, now: dt.datetime, settings: QueueSettings,
    language: str | None = None,
) -> rules.Estimate:
    """The wait for someone with ``ahead`` people before them; with a language, only the desks that speak it
    count (all desks of the service when none does: they call such a ticket with an interpreter)."""
    minutes = repo.service_minutes(session, office.id, service.id, now - dt.timedelta(days=settings.estimate_days))
    staff = staffing.active_staff(session, office)
    qualified = ([m.id for m in staff if staffing.serves(m, service.slug, language)]
                 or [m.id for m in staff if staffing.serves(m, service.slug)])
    callers = repo.active_callers(session, office.id, now - OPEN_DESK)
    desks = sum(1 for sid in qualified if sid in callers) or len(qualified)
    return rules.estimate(ahead, minutes, service.duration_minutes, desks, settings.estimate_min_samples)


@dataclass(frozen=True)
class TicketStatus:
    """The person's page: never a name, only their own ticket."""

    ticket: QueueTicket
    label: str
    office: Office
    service: Service
    ahead: int
    estimate: rules.Estimate | None
    expired: bool  # still open, but from an earlier day: it will never be called


def ticket_status(session: Session, ticket: QueueTicket, now: dt.datetime, settings: QueueSettings) -> TicketStatus:
    office = session.get(Office, ticket.office_id)
    service = session.get(Service, ticket.service_id)
    assert office is not None and service is not None
    ahead, estimate = 0, None
    expired = ticket.status in ("waiting", "called") and ticket.day != office_today(office, now)
    if ticket.status == "waiting" and not expired:
        window = dt.timedelta(minutes=settings.call_window_minutes)
        waiting = [as_waiting(t) for t in repo.waiting(session, office.id, ticket.day)]
        ahead = rules.ahead_of(as_waiting(ticket), waiting, now, window)
        estimate = estimate_for(session, office, service, ahead, now, settings, ticket.language)
    return TicketStatus(ticket, label(ticket), office, service, ahead, estimate, expired)


@dataclass(frozen=True)
class Called:
    """One line of the lobby display: a ticket number and a desk, nothing else."""

    label: str
    desk: str
    called_at: dt.datetime


def display(session: Session, office: Office, now: dt.datetime) -> list[Called]:
    return [Called(label(t), t.desk or "", t.called_at or now)
            for t in repo.recently_called(session, office.id, now - DISPLAY_SINCE, DISPLAY_ROWS)]


@dataclass(frozen=True)
class LiveRow:
    label: str
    kind: str
    service: Service
    language: str | None
    status: str
    waited_minutes: int
    desk: str | None
    due_at: dt.datetime | None


@dataclass(frozen=True)
class ServiceLine:
    service: Service
    waiting: int
    estimate: rules.Estimate


@dataclass(frozen=True)
class Board:
    """The supervisor's view: the live queue, each service's wait for a newcomer, and today's counts."""

    rows: list[LiveRow]
    lines: list[ServiceLine]
    counts: Counter[rules.CountKey]
    served: int
    noshows: int
    median_wait: float | None


def waited_minutes(ticket: QueueTicket) -> float | None:
    """Check-in to first call; None for a ticket never called."""
    if ticket.first_called_at is None:
        return None
    return (ticket.first_called_at - ticket.checked_in_at).total_seconds() / 60


def finished(ticket: QueueTicket) -> rules.Finished:
    return rules.Finished(ticket.service_id, ticket.kind, ticket.language or "", ticket.status,
                          waited_minutes(ticket))


def board(session: Session, office: Office, now: dt.datetime, settings: QueueSettings) -> Board:
    services = {s.id: s for s in scheduling.list_services(session, office)}
    open_ = repo.open_tickets(session, office.id, office_today(office, now))
    rows = [LiveRow(label(t), t.kind, services[t.service_id], t.language, t.status,
                    int(((t.first_called_at or now) - t.checked_in_at).total_seconds() // 60), t.desk, t.due_at)
            for t in open_ if t.service_id in services]
    waiting = [t for t in open_ if t.status == "waiting"]
    lines = []
    for service in services.values():
        mine = sum(1 for t in waiting if t.service_id == service.id)
        lines.append(ServiceLine(service, mine, estimate_for(session, office, service, mine, now, settings)))
    today = repo.of_day(session, office.id, office_today(office, now))
    waits = sorted(w for w in (waited_minutes(t) for t in today) if w is not None)
    return Board(
        rows=rows, lines=lines, counts=rules.tally(finished(t) for t in today),
        served=sum(1 for t in today if t.status == "done"), noshows=sum(1 for t in today if t.status == "noshow"),
        median_wait=waits[len(waits) // 2] if waits else None,
    )
