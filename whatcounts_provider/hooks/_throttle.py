"""A request-rate cap shared by every worker of one run, plus a pause they all honour."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


class Throttle:
    """Space requests at most ``rate`` per second across threads; hold everyone during a pause.

    Scheduling is GCRA (a token bucket of depth one): each caller reserves the next free
    slot under a lock and sleeps outside it, so workers never burst above the cap. A
    ``Retry-After`` received by one worker becomes a :meth:`pause` that delays them all.

    :param rate: requests per second, or ``None`` for no cap (pauses still apply).
    :param clock: monotonic seconds; injected by tests to check the slots it hands out.
    :param sleep: how to wait; the hook passes a sleep that a cancel interrupts.
    """

    def __init__(
        self,
        rate: float | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        if rate is not None and not rate > 0:
            raise ValueError(f"max_requests_per_second must be greater than 0, got {rate!r}")
        self._interval = 1.0 / rate if rate else 0.0
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._paused_until = 0.0

    def reserve(self) -> tuple[float, float]:
        """Take the next free slot; return ``(now, slot)``: the caller may send at ``slot``."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._paused_until, self._next_slot)
            if self._interval:
                self._next_slot = slot + self._interval
            return now, slot

    def acquire(self) -> None:
        """Block until this caller may send one request."""
        while True:
            now, slot = self.reserve()
            if slot <= now:
                return
            self._sleep(slot - now)
            with self._lock:
                # A pause that began while we slept applies to us too: take a new slot after it.
                if self._clock() >= self._paused_until:
                    return

    def pause(self, seconds: float) -> None:
        """Hold every caller of :meth:`acquire` for ``seconds`` from now (never shortens a pause)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
