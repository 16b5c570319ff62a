"""The run's circuit breaker: when WhatCounts keeps failing, the run stops sending.

Without it, an outage costs every pair its whole retry budget: measured, 6 attempts and ~16 s of
backoff per pair, ~60,000 requests and hours for a 10,000-phone chunk. With it, the run sends a
few dozen requests, then fails every pair not yet answered at once; a task retry sends them again.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from whatcounts_provider.exceptions import WhatCountsCircuitOpenError
from whatcounts_provider.hooks._answers import is_retryable

if TYPE_CHECKING:
    from collections.abc import Callable

    from whatcounts_provider.hooks._answers import Reply
    from whatcounts_provider.types import WhatCountsSettings

default_log = logging.getLogger(__name__)

# Reasons kept for the message: an outage shows one or two kinds, never a list worth reading.
_REASONS_KEPT = 3


class Breaker:
    """Count failed attempts in a row across every thread of a run; open for good past both limits.

    A failed attempt is a network failure or a retryable 5xx. WhatCounts' "no subscription" (an
    HTTP 500), any 2xx, 3xx or 4xx is an answer worth keeping: it shows WhatCounts works, and
    resets the count. A 429 does neither: WhatCounts is up, and ``Retry-After`` already slows the
    run. The breaker opens when ``failures`` attempts in a row have failed and the first of them
    was at least ``seconds`` ago (so a blip that fast workers fail many times over does not open
    it); it then stays open: :meth:`check` raises :class:`WhatCountsCircuitOpenError` for every
    request not yet sent or waiting to be retried. Opening is logged once, at ERROR.

    :param failures: failed attempts in a row that open it; 0 turns the breaker off.
    :param seconds: how long, at least, the failures in a row must have lasted (0: no minimum).
    :param clock: the hook's monotonic clock (tests inject theirs: no test waits real time).
    :param log: where the opening is logged; reasons never hold a phone or a secret.
    """

    def __init__(
        self,
        *,
        failures: int,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
        log: Any = default_log,
    ) -> None:
        self.failures = failures
        self.seconds = seconds
        self._clock = clock
        self._log = log
        self._lock = threading.Lock()
        self._streak = 0
        self._since = 0.0
        self._reasons: list[str] = []
        self._open: WhatCountsCircuitOpenError | None = None

    @classmethod
    def from_settings(cls, settings: WhatCountsSettings, *, clock: Callable[[], float], log: Any) -> Breaker:
        """The breaker of a resolved connection (hook argument > extra > default for each limit)."""
        return cls(failures=settings.breaker_failures, seconds=settings.breaker_seconds, clock=clock, log=log)

    @property
    def is_open(self) -> bool:
        return self._open is not None

    def record_reply(self, reply: Reply) -> None:
        """Count an attempt that got ``reply``."""
        if reply.status == 429:
            return
        if is_retryable(reply):
            self.record_failure(f"HTTP {reply.status}")
        else:
            self.record_answer()

    def record_answer(self) -> None:
        """An answer worth keeping came: the failures in a row start again from none."""
        with self._lock:
            self._streak = 0
            self._reasons.clear()

    def record_failure(self, reason: str) -> None:
        """An attempt failed for ``reason`` (``HTTP 503``, a transport description without the phone)."""
        if not self.failures:
            return
        with self._lock:
            if self._open is not None:
                return
            if not self._streak:
                self._since = self._clock()
            self._streak += 1
            if reason not in self._reasons and len(self._reasons) < _REASONS_KEPT:
                self._reasons.append(reason)
            self._open_if_due()

    def check(self, label: Callable[[], str], attempts: int = 0) -> None:
        """Raise if the breaker is open, before a request is sent (again).

        :param label: builds the request's masked description, for the error.
        :param attempts: the request's attempts so far (0: it was never sent).
        :raises WhatCountsCircuitOpenError: the breaker is open; nothing is sent.
        """
        if not self.failures:
            return
        with self._lock:
            # Time alone can complete the case: failures in a row, then every worker in backoff.
            self._open_if_due()
            opened = self._open
        if opened is None:
            return
        said = "not sent" if not attempts else f"not sent again after {attempts} attempt(s)"
        raise WhatCountsCircuitOpenError(
            f"{label()}: {said}: {opened}",
            failures=opened.failures,
            seconds=opened.seconds,
            reasons=opened.reasons,
        )

    def _open_if_due(self) -> None:
        """Open, and log it, if both limits are reached (the caller holds the lock)."""
        if self._open is not None or self._streak < self.failures:
            return
        elapsed = self._clock() - self._since
        if elapsed < self.seconds:
            return
        reasons = tuple(self._reasons)
        self._open = WhatCountsCircuitOpenError(
            f"WhatCounts failed {self._streak} attempts in a row over {elapsed:.0f} s "
            f"({' / '.join(reasons)}); the circuit breaker stopped the run, a task retry sends it again",
            failures=self._streak,
            seconds=elapsed,
            reasons=reasons,
        )
        self._log.error(
            "WhatCounts failed %d attempts in a row over %.0f s (%s): the circuit breaker is open. "
            "This run sends nothing more: every pair not yet answered is failed, and a task retry "
            "sends those again",
            self._streak,
            elapsed,
            " / ".join(reasons),
        )
