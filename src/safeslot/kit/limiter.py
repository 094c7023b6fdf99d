"""The rate limiter itself: its settings and the counters, with the ``limits`` library's moving
window, in memory for one worker or on Redis for several. What is counted, and when, is
``kit/ratelimit.py``'s middleware.
"""

from __future__ import annotations

import inspect
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import MemoryStorage as SyncMemoryStorage
from limits.storage import Storage as SyncStorage
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter as SyncMovingWindow
from pydantic import BaseModel, Field, field_validator

log = logging.getLogger("safeslot.kit.ratelimit")


class RateLimitSettings(BaseModel):
    """Limits are ``limits`` strings: ``"10/minute;150/hour"`` means both must hold."""

    enabled: bool = Field(default=True, description="Turn every rate limit off (only for benchmarks).")
    storage_url: str = Field(
        default="memory://",
        description="Where counters live: memory:// for one worker (the default, SQLite), "
        "redis://127.0.0.1:6379/0 when several workers or machines serve.",
    )
    key_prefix: str = Field(default="safeslot", description="Prefix of every counter's key (share a Redis safely).")
    per_address: str = Field(default="600/minute", description="Every request, per client address.")
    per_credential: str = Field(default="1200/minute", description="Every request, per bearer token or session.")
    booking_per_address: str = Field(
        default="10/minute;150/hour",
        description="Bookings per client address: a kiosk booking one person a minute for a day stays under it.",
    )
    booking_per_office: str = Field(
        default="120/minute;3000/hour", description="Bookings per office from all addresses together."
    )
    lookup_per_address: str = Field(
        default="30/minute;300/hour",
        description="Confirmation-code and accounting look-ups (API and public pages) per client address.",
    )
    sign_in_failures_per_account_address: str = Field(
        default="5/minute;10/15 minutes;20/hour;40/day",
        description="Failed sign-ins for one username from one address; each tier is a longer wait.",
    )
    sign_in_failures_per_address: str = Field(
        default="20/10 minutes;60/day", description="Failed sign-ins from one address, over all usernames."
    )
    sign_in_failures_per_account: str = Field(
        default="100/day", description="Failed sign-ins for one username from all addresses (NIST SP 800-63B)."
    )

    @field_validator(
        "per_address", "per_credential", "booking_per_address", "booking_per_office", "lookup_per_address",
        "sign_in_failures_per_account_address", "sign_in_failures_per_address", "sign_in_failures_per_account",
    )
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit string like '10/minute;150/hour': {value!r}") from exc
        return value


class MemoryCounters(SyncMemoryStorage):
    """``limits``' thread-safe memory storage, with its old entries dropped inline, at most once a second.

    The library drops them in a 10 ms ``threading.Timer`` that it starts again on the next hit once the last
    one has ended: with requests more than 10 ms apart (an office's normal day) that is a new thread for
    every request, about 8 % of a small request's CPU (bench/request_cost.py; docs/decisions.md, "The rate
    limiter's counters without a thread per request"). Here the hit that finds a second gone runs the
    library's own expiry pass itself, outside every key's lock (where the library calls its hook), one
    thread at a time, and then forgets the keys left with no entry, which the library keeps for ever (an
    address seen once would otherwise cost every later pass a look), so a pass is as long as the keys
    counted within the longest window.
    """

    EVERY = 1.0  # seconds between two expiry passes

    def __init__(self) -> None:
        super().__init__()
        self._next_expiry = 0.0
        self._expiring = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # the library's hook, name-mangled
        now = time.time()  # the library's clock, which its expiry compares entries with
        if now < self._next_expiry or not self._expiring.acquire(blocking=False):
            return
        try:
            self._next_expiry = now + self.EVERY
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
            for key in [k for k, entries in self.events.items() if not entries]:
                with self.locks[key]:  # a hit on this key now either came before (entries) or comes after
                    if not self.events.get(key):
                        self.events.pop(key, None)
                self.locks.pop(key, None)
        finally:
            self._expiring.release()


@dataclass(frozen=True)
class Limits:
    per_address: list[RateLimitItem]
    per_credential: list[RateLimitItem]
    booking_per_address: list[RateLimitItem]
    booking_per_office: list[RateLimitItem]
    lookup_per_address: list[RateLimitItem]
    fail_account_address: list[RateLimitItem]
    fail_address: list[RateLimitItem]
    fail_account: list[RateLimitItem]


class Limiter:
    """The app's limiter: a moving window over the configured storage."""

    def __init__(self, settings: RateLimitSettings) -> None:
        self.enabled = settings.enabled
        url = settings.storage_url.removeprefix("async+")
        self.storage: Storage | SyncStorage
        self.strategy: MovingWindowRateLimiter | SyncMovingWindow
        if url.startswith("memory"):
            # The thread-safe synchronous memory storage: the asyncio one binds its lock and expiry
            # task to the first event loop, and a test client runs each request on a loop of its own.
            self.storage = MemoryCounters()
            self.strategy = SyncMovingWindow(self.storage)
        else:
            storage = storage_from_string("async+" + url, implementation="redispy", key_prefix=settings.key_prefix,
                                          wrap_exceptions=True)
            assert isinstance(storage, Storage)  # async+ URLs give the asyncio storages
            self.storage = storage
            self.strategy = MovingWindowRateLimiter(storage)
        self.prefix = settings.key_prefix
        self._warned = -1e9
        self.limits = Limits(
            per_address=parse_many(settings.per_address),
            per_credential=parse_many(settings.per_credential),
            booking_per_address=parse_many(settings.booking_per_address),
            booking_per_office=parse_many(settings.booking_per_office),
            lookup_per_address=parse_many(settings.lookup_per_address),
            fail_account_address=parse_many(settings.sign_in_failures_per_account_address),
            fail_address=parse_many(settings.sign_in_failures_per_address),
            fail_account=parse_many(settings.sign_in_failures_per_account),
        )

    # A limiter whose storage is unreachable (Redis down) lets requests through and says so in
    # the log once a minute: the office stays open; the database and the body limits still hold.
    async def hit(self, items: list[RateLimitItem], *key: str) -> int:
        """Count one request against every item; 0 if allowed, else the seconds to wait."""
        try:
            for item in items:
                if not await _maybe(self.strategy.hit(item, self.prefix, *key)):
                    return await self.wait(item, *key)
        except StorageError:
            self._storage_down()
        return 0

    async def room(self, items: list[RateLimitItem], *key: str) -> int:
        """Without counting: 0 if one more would be allowed, else the seconds to wait (the longest tier)."""
        wait = 0
        try:
            for item in items:
                if not await _maybe(self.strategy.test(item, self.prefix, *key)):
                    wait = max(wait, await self.wait(item, *key))
        except StorageError:
            self._storage_down()
        return wait

    async def count(self, items: list[RateLimitItem], *key: str) -> None:
        try:
            for item in items:
                await _maybe(self.strategy.hit(item, self.prefix, *key))
        except StorageError:
            self._storage_down()

    async def clear(self, items: list[RateLimitItem], *key: str) -> None:
        try:
            for item in items:
                await _maybe(self.strategy.clear(item, self.prefix, *key))
        except StorageError:
            self._storage_down()

    def _storage_down(self) -> None:
        now = time.monotonic()
        if now - self._warned > 60:
            self._warned = now
            log.warning("rate-limit storage unreachable; requests are let through unlimited until it is back")

    async def close(self) -> None:
        """Close the Redis client at shutdown (the memory storage has nothing to close)."""
        client = getattr(getattr(self.storage, "bridge", None), "storage", None)
        if client is not None and hasattr(client, "aclose"):
            await client.aclose()

    async def wait(self, item: RateLimitItem, *key: str) -> int:
        stats = await _maybe(self.strategy.get_window_stats(item, self.prefix, *key))
        return max(1, math.ceil(float(stats.reset_time) - time.time()))


async def _maybe(result: Any) -> Any:
    """The value of a synchronous (memory) or asynchronous (Redis) strategy's call."""
    return await result if inspect.isawaitable(result) else result
