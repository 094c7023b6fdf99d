"""The rate limiter (kit/limiter.py): a moving window per key, tiers that must all hold, the wait a refused
caller is told, and a storage that is down lets requests through. In memory; the limits as the app applies
them over HTTP (and on Redis) are in tests/kit/test_ratelimit.py."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from limits import parse_many
from pydantic import ValidationError

from safeslot.kit.limiter import Limiter, RateLimitSettings

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def test_a_key_is_refused_past_its_limit_with_the_seconds_to_wait_and_other_keys_are_not() -> None:
    limiter = Limiter(RateLimitSettings())
    three = parse_many("3/minute")

    async def go() -> list[int]:
        return [await limiter.hit(three, "address", "192.0.2.1") for _ in range(4)] + [
            await limiter.hit(three, "address", "192.0.2.2")]

    *first, refused, other = _run(go())
    assert first == [0, 0, 0] and 1 <= refused <= 60 and other == 0


def test_every_tier_must_hold_and_room_does_not_count() -> None:
    limiter = Limiter(RateLimitSettings())
    tiers = parse_many("5/minute;2/hour")

    async def go() -> tuple[int, int, int, int]:
        before = await limiter.room(tiers, "k")
        await limiter.hit(tiers, "k")
        await limiter.hit(tiers, "k")
        return before, await limiter.room(tiers, "k"), await limiter.hit(tiers, "k"), await limiter.room(tiers, "k")

    before, full, refused, still = _run(go())
    assert before == 0 and refused > 60 and full > 60 and still > 60  # the hourly tier: a wait beyond a minute


def test_clear_forgets_a_keys_count() -> None:
    limiter = Limiter(RateLimitSettings())
    one = parse_many("1/hour")

    async def go() -> tuple[int, int]:
        await limiter.count(one, "account", "Test Person 1")
        refused = await limiter.room(one, "account", "Test Person 1")
        await limiter.clear(one, "account", "Test Person 1")
        return refused, await limiter.hit(one, "account", "Test Person 1")

    refused, after_clear = _run(go())
    assert refused > 0 and after_clear == 0


def test_an_unparseable_limit_is_refused_when_the_settings_are_read() -> None:
    with pytest.raises(ValidationError, match="10/minute;150/hour"):
        RateLimitSettings(per_address="ten a minute")


def test_a_storage_that_is_down_lets_requests_through() -> None:
    limiter = Limiter(RateLimitSettings(storage_url="redis://127.0.0.1:1/0"))  # nothing listens on port 1
    one = parse_many("1/minute")

    async def go() -> list[int]:
        try:
            return [await limiter.hit(one, "k"), await limiter.hit(one, "k")]
        finally:
            await limiter.close()

    assert _run(go()) == [0, 0]


def test_hits_spaced_apart_start_no_thread_and_old_entries_are_still_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    # limits' own memory storage started a 10 ms timer thread again on every hit that came after the last one
    # ended, which at a request every few tens of milliseconds is a thread per request.
    import threading
    import time

    from limits.storage import MemoryStorage

    from safeslot.kit.limiter import MemoryCounters

    assert hasattr(MemoryStorage, "_MemoryStorage__schedule_expiry"), "limits renamed the hook MemoryCounters uses"
    limiter = Limiter(RateLimitSettings())
    assert isinstance(limiter.storage, MemoryCounters)
    started: list[object] = []
    original = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda self: (started.append(self), original(self))[1])
    one_a_second = parse_many("100/second")

    async def go() -> list[int]:
        waits = []
        for n in range(5):
            waits.append(await limiter.hit(one_a_second, "address", f"192.0.2.{n}"))
            await asyncio.sleep(0.02)  # longer than the library's timer
        return waits

    assert _run(go()) == [0] * 5
    assert [t for t in started if isinstance(t, threading.Timer)] == []
    storage = limiter.storage
    assert sum(len(entries) for entries in storage.events.values()) == 5  # type: ignore[union-attr]
    # A second and more later, the next hit drops every entry that has expired, as the library's timer did.
    later = time.time() + 2
    monkeypatch.setattr(time, "time", lambda: later)
    storage._next_expiry = 0.0  # type: ignore[union-attr]
    assert _run(limiter.hit(one_a_second, "address", "192.0.2.9")) == 0
    # only the new hit's key is left: the others' entries are gone, and so are the keys themselves
    assert [(key.split("/")[-4], len(entries)) for key, entries in storage.events.items()] == [("192.0.2.9", 1)]  # type: ignore[union-attr]
