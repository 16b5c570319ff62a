"""The progress lines a long bulk run logs: done/total, rate and ETA."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable

PROGRESS_EVERY_SECONDS = 10.0


class Progress:
    """Log done/total, rate and ETA at most every ``every`` seconds, and once at the end.

    :param total: the number of inputs, or None when unknown (a streamed file): no ETA then.
    :param clock: monotonic seconds; injected by tests.
    """

    def __init__(
        self,
        total: int | None,
        log: logging.Logger | Any,
        every: float = PROGRESS_EVERY_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.log = log
        self.every = every
        self.clock = clock
        self.started = clock()
        self.last = self.started

    def tick(self, done: int) -> None:
        now = self.clock()
        if now - self.last >= self.every:
            self.last = now
            self._log(done, now)

    def finish(self, done: int) -> None:
        self._log(done, self.clock())

    def _log(self, done: int, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        if self.total is None:
            self.log.info("Progress: %d inputs, %.0f/s, elapsed %.1f s", done, rate, elapsed)
            return
        eta = (self.total - done) / rate if rate else float("inf")
        self.log.info(
            "Progress: %d/%d phones (%.1f%%), %.0f/s, elapsed %.1f s, ETA %s",
            done,
            self.total,
            100.0 * done / self.total if self.total else 100.0,
            rate,
            elapsed,
            f"{eta:.0f} s" if eta != float("inf") else "unknown",
        )
