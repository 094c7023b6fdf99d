"""The fast path's look-ups (scheduling/fastlookup.py): an office's facts are cached ``FACTS_TTL`` seconds; past
``REFRESH_AHEAD`` the bookings go on with them while one task reads them afresh, and past ``FACTS_TTL`` a booking
waits for the reads, so a change is seen within ``FACTS_TTL`` either way. No database: the look-up connection's
reads are played by a stand-in."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from safeslot.scheduling import fastlookup
from safeslot.scheduling.fastlookup import FACTS_TTL, REFRESH_AHEAD, LookupFailed, Lookups
from safeslot.scheduling.fastsql import ABSENCE_SQL, OFFICE_SQL, SERVICES_SQL, STAFF_SQL
from tests.conftest import NOW

READ = 0.05  # seconds each stand-in read takes


class Database:
    """What the look-up connection reads: one office, one service, its staff's languages (changed by a test)."""

    def __init__(self) -> None:
        self.languages = "en"
        self.reads = 0
        self.away = False

    async def query(self, sql: str, *args: Any) -> list[Any]:
        self.reads += 1
        await asyncio.sleep(READ)
        if self.away:
            raise LookupFailed("ConnectionDoesNotExistError")
        return {
            OFFICE_SQL: [{"id": 1, "slug": "central", "timezone": "America/New_York"}],
            SERVICES_SQL: [{"id": 1, "slug": "apply", "duration_minutes": 30}],
            STAFF_SQL: [{"id": 7, "languages": self.languages, "services": "apply", "own_hours": False}],
            ABSENCE_SQL: [],
        }[sql]


def _lookups(monkeypatch: pytest.MonkeyPatch) -> tuple[Lookups, Database]:
    database = Database()
    lookups = Lookups("postgresql://unused", clock=lambda: NOW)
    monkeypatch.setattr(lookups, "_query", database.query)
    return lookups, database


def _languages(entry: Any) -> set[str]:
    return {language for person in entry.people for language in person.languages}


def _age(lookups: Lookups, seconds: float) -> None:
    lookups.offices["central"].fetched = time.monotonic() - seconds


def test_facts_past_half_their_age_are_used_while_one_task_reads_them_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    lookups, database = _lookups(monkeypatch)

    async def go() -> None:
        lookups.start()
        first = await lookups.office("central")  # nothing cached: this one waits for the reads
        assert first is not None and _languages(first) == {"en"} and database.reads == 4
        database.languages = "en es"  # a supervisor adds Spanish
        _age(lookups, (REFRESH_AHEAD + FACTS_TTL) / 2)
        began = time.monotonic()
        during = await asyncio.gather(*(lookups.office("central") for _ in range(20)))
        assert time.monotonic() - began < READ  # no booking waited for the refresh
        assert all(_languages(e) == {"en"} for e in during)  # the facts of a moment ago, younger than FACTS_TTL
        assert list(lookups.refreshing) == ["central"]  # one refresh for all twenty
        await lookups.refreshing["central"]
        assert database.reads == 8
        after = await lookups.office("central")
        assert after is not None and _languages(after) == {"en", "es"} and database.reads == 8

    asyncio.run(go())


def test_facts_past_their_age_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # a quiet office: no booking came while the facts aged, so the first one after waits and sees the change
    lookups, database = _lookups(monkeypatch)

    async def go() -> None:
        lookups.start()
        await lookups.office("central")
        database.languages = "en vi"
        _age(lookups, FACTS_TTL + 0.1)
        got = await lookups.office("central")  # waits for its own reads
        assert got is not None and _languages(got) == {"en", "vi"} and lookups.refreshing == {}

    asyncio.run(go())


def test_a_refresh_that_fails_keeps_the_facts_then_the_booking_hears_the_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lookups, database = _lookups(monkeypatch)

    async def go() -> None:
        lookups.start()
        await lookups.office("central")
        database.away = True
        _age(lookups, (REFRESH_AHEAD + FACTS_TTL) / 2)
        stale = await lookups.office("central")
        assert stale is not None and _languages(stale) == {"en"}
        assert await lookups.refreshing["central"] is None  # failed quietly: no task error left behind
        assert lookups.offices["central"] is stale
        _age(lookups, FACTS_TTL + 0.1)
        with pytest.raises(LookupFailed):  # the fast path answers 503 with Retry-After
            await lookups.office("central")

    asyncio.run(go())


def test_bookings_waiting_behind_a_read_that_failed_hear_it_at_once_then_the_next_one_tries_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Against a database that drops packets each read costs its whole timeout: ten bookings waiting in turn
    # for the one connection would wait ten timeouts. They share the one failure instead.
    lookups, database = _lookups(monkeypatch)

    async def go() -> None:
        lookups.start()
        database.away = True
        began = time.monotonic()
        tried = await asyncio.gather(*(lookups.office("central") for _ in range(10)), return_exceptions=True)
        assert all(isinstance(t, LookupFailed) for t in tried)
        assert database.reads == 1 and time.monotonic() - began < 3 * READ  # one read, not ten
        database.away = False
        got = await lookups.office("central")  # a booking after the failure reads again
        assert got is not None and database.reads == 5

    asyncio.run(go())


def test_a_turn_cut_off_by_its_deadline_fails_those_waiting_behind_it(monkeypatch: pytest.MonkeyPatch) -> None:
    lookups, database = _lookups(monkeypatch)

    async def go() -> None:
        lookups.start()

        async def cut_off() -> None:
            async with asyncio.timeout(READ / 2):  # the request's deadline comes during its read
                await lookups.office("central")

        tried = await asyncio.gather(cut_off(), lookups.office("central"), return_exceptions=True)
        assert isinstance(tried[0], TimeoutError) and isinstance(tried[1], LookupFailed)
        assert database.reads == 1

    asyncio.run(go())


def test_the_ages_are_what_the_fast_path_promises() -> None:
    # changes are seen within seconds, and the refresh starts before the facts are too old to use
    assert 0 < fastlookup.REFRESH_AHEAD < fastlookup.FACTS_TTL <= 5
