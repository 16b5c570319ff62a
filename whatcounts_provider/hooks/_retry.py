"""How one logical request is retried: a budget of attempts, capped backoff with jitter, Retry-After.

:meth:`RetryPolicy.decide` says what to do after an attempt (a pure decision, apart from the
jitter it draws); :meth:`RetryPolicy.send` is the loop that sends, asks, logs and waits.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from urllib3.util import Retry

from whatcounts_provider.exceptions import TransientError, WhatCountsCancelledError
from whatcounts_provider.hooks._answers import Reply, is_retryable
from whatcounts_provider.hooks._breaker import Breaker

if TYPE_CHECKING:
    from collections.abc import Callable

    from whatcounts_provider.hooks._throttle import Throttle
    from whatcounts_provider.types import WhatCountsSettings


@dataclass(frozen=True)
class FinalAnswer:
    """The final answer to one logical request; ``gave_up_after`` is set when retries ran out."""

    reply: Reply
    gave_up_after: int | None = None


@dataclass(frozen=True)
class Decision:
    """What to do after attempt ``number`` failed: retry after ``delay`` seconds, or stop.

    :param retry: send again.
    :param delay: seconds to wait first.
    :param reason: what went wrong, for the log (``HTTP 503``, a transport description).
    :param pause: seconds every worker of the run must wait (a ``Retry-After``), or None.
    :param note: what the log should add (a capped ``Retry-After``).
    """

    retry: bool
    delay: float = 0.0
    reason: str = ""
    pause: float | None = None
    note: str = ""


class Tally:
    """The HTTP attempts of one logical request, retries included; complete even when it raised."""

    __slots__ = ("attempts",)

    def __init__(self) -> None:
        self.attempts = 0


class RetryPolicy:
    """Send a request until it gets an answer worth keeping or runs out of attempts.

    Transient answers (429, 5xx other than WhatCounts' "no subscription") and network failures
    are retried. The wait before attempt ``n + 1`` is ``min(backoff_max, backoff_initial * 2**(n-1))``
    plus a jitter of up to ``backoff_initial``; a valid ``Retry-After`` replaces it (capped at
    ``retry_after_max``) and pauses the run's :class:`Throttle`, so every worker waits, not only
    the one that was told. Every attempt is reported to the run's :class:`Breaker`; once it is
    open, nothing more is sent (see :meth:`send`). One policy serves all calls and threads of a hook.

    :param attempts: attempts per logical request (1 + retries).
    :param backoff_initial: first backoff in seconds (0 retries at once).
    :param backoff_max: longest backoff in seconds, before jitter.
    :param retry_after_max: the longest ``Retry-After`` honoured; longer ones are capped and logged.
    :param sleep: how to wait; the hook's sleep is interrupted by a cancel.
    :param log: where retries are logged (WARNING, masked labels only).
    :param describe: a safe description of a network failure (no URL path: it holds the phone).
    :param rand: a float in [0, 1) for the jitter; injected by tests.
    :param cancelled: once set, a failed attempt ends the call (``WhatCountsCancelledError``)
        instead of being retried.
    :param breaker: the run's circuit breaker; none given: one that never opens.
    """

    def __init__(
        self,
        *,
        attempts: int,
        backoff_initial: float,
        backoff_max: float,
        retry_after_max: float,
        sleep: Callable[[float], object],
        log: Any,
        describe: Callable[[BaseException], str],
        rand: Callable[[], float] = random.random,
        cancelled: threading.Event | None = None,
        breaker: Breaker | None = None,
    ) -> None:
        self.attempts = attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self._sleep = sleep
        self._log = log
        self._describe = describe
        self._rand = rand
        self._cancelled = cancelled or threading.Event()
        self.breaker = breaker or Breaker(failures=0, seconds=0)
        self._lock = threading.Lock()
        self._retries = 0

    @classmethod
    def from_settings(
        cls,
        settings: WhatCountsSettings,
        *,
        sleep: Callable[[float], object],
        log: Any,
        describe: Callable[[BaseException], str],
        cancelled: threading.Event | None = None,
        breaker: Breaker | None = None,
    ) -> RetryPolicy:
        """The policy of a resolved connection (hook argument > extra > default for every knob)."""
        return cls(
            attempts=settings.max_retries + 1,
            backoff_initial=settings.retry_backoff_initial,
            backoff_max=settings.retry_backoff_max,
            retry_after_max=settings.retry_after_max,
            sleep=sleep,
            log=log,
            describe=describe,
            cancelled=cancelled,
            breaker=breaker,
        )

    @property
    def retries(self) -> int:
        """Retries made so far through this policy (all calls, all threads)."""
        return self._retries

    def backoff(self, failed_attempt: int) -> float:
        """Seconds to wait after attempt number ``failed_attempt`` (1-based) failed."""
        base = min(self.backoff_max, self.backoff_initial * 2 ** (failed_attempt - 1))
        return float(base + self.backoff_initial * self._rand())

    def decide(
        self, number: int, budget: int, *, reply: Reply | None = None, error: TransientError | None = None
    ) -> Decision:
        """What to do after attempt ``number`` of ``budget`` got ``reply`` or failed with ``error``."""
        if error is not None:
            if error.permanent or number >= budget:
                return Decision(retry=False)
            return Decision(retry=True, delay=self.backoff(number), reason=self._describe(error.cause))
        assert reply is not None
        if not is_retryable(reply) or number >= budget:
            return Decision(retry=False)
        reason = f"HTTP {reply.status}"
        asked = retry_after(reply)
        if asked is None:
            return Decision(retry=True, delay=self.backoff(number), reason=reason)
        delay = min(asked, self.retry_after_max)
        note = f" (Retry-After {asked:g} s capped to {self.retry_after_max:g} s)" if asked > delay else ""
        return Decision(retry=True, delay=delay, reason=reason, pause=delay, note=note)

    def send(
        self,
        attempt: Callable[[], Reply],
        *,
        throttle: Throttle,
        label: Callable[[], str],
        tally: Tally | None = None,
        attempts: int | None = None,
    ) -> FinalAnswer:
        """Run ``attempt`` (one HTTP exchange) until its answer is final; return that answer.

        :param attempt: sends once; raises :class:`TransientError` when no answer came.
        :param throttle: every attempt, retries included, takes a slot from it first.
        :param label: builds the masked description used in retry logs (only when needed).
        :param tally: counts this request's attempts, also when it raises.
        :param attempts: overrides the policy's budget (``test_connection`` uses 1).
        :raises TransientError: the last network failure, when the budget ran out (or at once
            for a permanent one).
        :raises WhatCountsCircuitOpenError: the breaker is open, before an attempt or instead of
            a retry: this request is not sent (again).
        """
        budget = attempts or self.attempts
        tally = tally or Tally()
        number = 0
        while True:
            # Checked before the throttle (a refused request takes no rate slot) and after it (a
            # rate-capped wait may end after the breaker opened). The loop's top also follows a backoff.
            self.breaker.check(label, number)
            throttle.acquire()
            self.breaker.check(label, number)
            number += 1
            tally.attempts += 1
            reply = error = None
            try:
                reply = attempt()
            except TransientError as exc:
                error = exc
                self.breaker.record_failure(self._describe(exc.cause))
            else:
                self.breaker.record_reply(reply)
            decision = self.decide(number, budget, reply=reply, error=error)
            if not decision.retry:
                if error is not None:
                    raise error
                assert reply is not None
                gave_up = number if is_retryable(reply) else None
                return FinalAnswer(reply, gave_up_after=gave_up)
            if decision.pause is not None:
                throttle.pause(decision.pause)  # slow every worker, not only the one that was told
            if self._cancelled.is_set():
                raise WhatCountsCancelledError(
                    f"{label()}: cancelled after {decision.reason} on attempt {number}"
                )
            self.breaker.check(label, number)  # this very failure may have opened it: no wait then
            with self._lock:
                self._retries += 1
            self._log.warning(
                "%s: %s on attempt %d; retrying in %.2f s%s",
                label(),
                decision.reason,
                number,
                decision.delay,
                decision.note,
            )
            self._sleep(decision.delay)


def retry_after(reply: Reply) -> float | None:
    """Seconds asked for by the answer's ``Retry-After`` header (seconds or HTTP date), if valid."""
    header = reply.headers.get("Retry-After")
    if not header:
        return None
    try:
        return max(0.0, float(Retry().parse_retry_after(header)))
    except Exception:
        return None
