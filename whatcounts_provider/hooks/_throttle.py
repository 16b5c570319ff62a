"""A request-rate cap shared by every worker of one run, plus a pause they all honour."""

from __future__ import annotations

import threading
import time


class Throttle:
    """Space requests at most ``rate`` per second across threads; hold everyone during a pause.

    Scheduling is GCRA (a token bucket of depth one): each caller reserves the next free
    slot under a lock and sleeps outside it, so workers never burst above the cap. A
    ``Retry-After`` received by one worker becomes a :meth:`pause` that delays them all.

    :param rate: requests per second, or ``None`` for no cap (pauses still apply).
    """

    def __init__(self, rate: float | None = None) -> None:
        if rate is not None and not rate > 0:
            raise ValueError(f"max_requests_per_second must be greater than 0, got {rate!r}")
        self._interval = 1.0 / rate if rate else 0.0
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._paused_until = 0.0

    def acquire(self) -> None:
        """Block until this caller may send one request."""
        while True:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._paused_until, self._next_slot)
                if self._interval:
                    self._next_slot = start + self._interval
            if start <= now:
                return
            time.sleep(start - now)
            with self._lock:
                if time.monotonic() >= self._paused_until:
                    return

    def pause(self, seconds: float) -> None:
        """Hold every caller of :meth:`acquire` for ``seconds`` from now (never shortens a pause)."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
