"""What keeps an endpoint healthy: adaptive concurrency, per-minute rate limits and a circuit breaker.

* :class:`AdaptiveConcurrency` lets at most ``limit`` requests be in flight. The limit starts at the
  endpoint's ``max_concurrency``, shrinks to three quarters on a 429 and grows by one after a run of
  successes (additive increase, multiplicative decrease), so a rate-limited server sets the pace.
* :class:`RateLimiter` is a token bucket per minute (requests, or tokens); a token-per-minute bucket is
  charged the estimate before the call and corrected with the real usage after.
* :class:`Circuit` opens after consecutive connection failures: callers then wait, without spending
  retries, until a probe finds the endpoint back — or until it has been down for ``max_down_s``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque


class AdaptiveConcurrency:
    """Requests wait their turn first in, first out: a release hands its slot to the oldest waiter.

    (A condition that wakes every waiter on each release costs O(waiters) per request: 283,744 wake-ups
    for 1,000 requests in benchmarks/synth_throughput.py; this wakes exactly the ones that may go.)"""

    def __init__(self, maximum: int, successes_to_grow: int = 8):
        self.maximum = maximum
        self.limit = maximum
        self.in_flight = 0
        self._successes = 0
        self._grow_after = successes_to_grow
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        try:
            await turn  # the slot is counted in in_flight by whoever granted it
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._free_slot()  # granted, then cancelled before it was used: hand it on
            elif turn in self._waiters:
                self._waiters.remove(turn)
            raise

    async def release(self, throttled: bool = False) -> None:
        if throttled:
            self.limit = max(1, int(self.limit * 0.75))
            self._successes = 0
        else:
            self._successes += 1
            if self._successes >= self._grow_after and self.limit < self.maximum:
                self.limit += 1
                self._successes = 0
        self._free_slot()

    def _free_slot(self) -> None:
        self.in_flight -= 1
        while self._waiters and self.in_flight < self.limit:
            turn = self._waiters.popleft()
            if not turn.done():
                self.in_flight += 1
                turn.set_result(None)


class RateLimiter:
    """A bucket of ``per_minute`` units that refills continuously; ``take(n)`` waits until n are there."""

    def __init__(self, per_minute: float | None):
        self.per_minute = per_minute
        self._level = per_minute or 0.0
        self._at = time.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        assert self.per_minute is not None
        self._level = min(self.per_minute, self._level + (now - self._at) * self.per_minute / 60.0)
        self._at = now

    async def take(self, units: float) -> None:
        if self.per_minute is None:
            return
        units = min(units, self.per_minute)  # one request larger than the whole bucket still goes, alone
        async with self._lock:
            self._refill()
            while self._level < units:
                await asyncio.sleep((units - self._level) * 60.0 / self.per_minute)
                self._refill()
            self._level -= units

    def give_back(self, units: float) -> None:
        """Correct an estimate (negative: charge more)."""
        if self.per_minute is not None:
            self._level = min(self.per_minute, self._level + units)


class EndpointDown(Exception):
    """The endpoint stayed unreachable for longer than ``max_down_s``."""


class Circuit:
    def __init__(self, failures_to_open: int, pause_s: float, max_down_s: float):
        self.failures_to_open = failures_to_open
        self.pause_s = pause_s
        self.max_down_s = max_down_s
        self.failures = 0
        self.opened_at: float | None = None
        self.openings = 0
        self._probe = asyncio.Lock()

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    async def wait_closed(self) -> bool:
        """Return at once when the circuit is closed; else wait, one caller at a time probing.

        True: this caller is the probe, and must report its outcome with ``probe=True``."""
        while self.opened_at is not None:
            if time.monotonic() - self.opened_at > self.max_down_s:
                raise EndpointDown(f"unreachable for more than {self.max_down_s:.0f}s")
            if not self._probe.locked():
                await self._probe.acquire()  # released by success/failure(probe=True)
                return True
            await asyncio.sleep(self.pause_s)
        return False

    def success(self, probe: bool) -> None:
        self.failures = 0
        self.opened_at = None
        if probe:
            self._probe.release()

    def failure(self, connection: bool, probe: bool) -> None:
        if probe:
            self._probe.release()
        if not connection:
            return
        self.failures += 1
        if self.failures >= self.failures_to_open and self.opened_at is None:
            self.opened_at = time.monotonic()
            self.openings += 1

    async def pause(self) -> None:
        """A failed probe waits before the next one."""
        if self.opened_at is not None:
            await asyncio.sleep(self.pause_s)
