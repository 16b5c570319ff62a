"""Faults the emulator injects into API requests: drawn per request, reproducible from a seed."""

from __future__ import annotations

import dataclasses
import random
import threading
from typing import Any, NamedTuple

from whatcounts_provider.testing.emulator.api import naive_whatcounts_phone


class FaultPlan(NamedTuple):
    """One request's faults, drawn together so that a seed gives one reproducible sequence."""

    delay: float
    drop: bool
    hang: bool
    reject: int | None
    retry_after: str | None
    drop_after_act: bool
    stall_body: bool


@dataclasses.dataclass
class Faults:
    """Faults injected into ``/rest/*`` requests (never the admin API); all off by default.

    Change them while serving with :meth:`update` or ``POST /_admin/faults``. Per request:
    ``latency``; then ``p_drop`` or ``hang`` (before anything is done); auth and Accept checks;
    ``outage``, ``failing_senders``, ``failing_phones``, ``p_503`` or ``p_429``; the real work;
    and after it ``p_drop_after_act`` (the stop is done, its answer lost) or ``stall_body``.
    """

    seed: int | None = None
    p_503: float = 0.0
    p_429: float = 0.0
    #: Retry-After range in whole seconds: always sent with 429, with 503 if ``retry_after_503``.
    retry_after: tuple[int, int] = (0, 1)
    retry_after_503: bool = False
    #: Sent instead of a drawn Retry-After, e.g. "3600" to test a client's cap.
    retry_after_override: str | None = None
    #: Close the connection without answering and without acting.
    p_drop: float = 0.0
    #: Act (the stop happens), then close the connection without answering.
    p_drop_after_act: float = 0.0
    latency: float = 0.0
    latency_jitter: float = 0.0
    #: Never answer, until the emulator stops.
    hang: bool = False
    #: Act, send status line and headers (with Content-Length), then stall until the emulator stops.
    stall_body: bool = False
    #: 503 to every API request.
    outage: bool = False
    #: Sender codes that always get a 503.
    failing_senders: set[str] = dataclasses.field(default_factory=set)
    #: Phones (10 or 11+ digits) that always get a 503, on any sender code.
    failing_phones: set[str] = dataclasses.field(default_factory=set)
    _lock: threading.Lock = dataclasses.field(init=False, repr=False, compare=False)
    _rng: random.Random = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not all(0 <= p <= 1 for p in (self.p_503, self.p_429, self.p_drop, self.p_drop_after_act)):
            raise ValueError("probabilities must be between 0 and 1")
        if self.latency < 0 or self.latency_jitter < 0:
            raise ValueError("latency and latency_jitter must not be negative")
        low, high = (int(seconds) for seconds in self.retry_after)
        if not 0 <= low <= high:
            raise ValueError("retry_after must be a (min, max) range of seconds, 0 <= min <= max")
        self.retry_after = (low, high)
        self.failing_senders = {str(code) for code in self.failing_senders}
        self.failing_phones = {naive_whatcounts_phone(phone) or str(phone) for phone in self.failing_phones}
        if self.retry_after_override is not None:
            self.retry_after_override = str(self.retry_after_override)
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)

    def update(self, **changes: Any) -> None:
        """Change some faults at once; an unknown name or bad value raises and changes nothing."""
        with self._lock:
            checked = dataclasses.replace(self, **changes)
            for name in changes:
                setattr(self, name, getattr(checked, name))
            if "seed" in changes:
                self._rng.seed(self.seed)

    def clear(self) -> None:
        """Turn every fault off; the seed stays and its sequence starts again."""
        off = Faults(seed=self.seed)
        self.update(**{f.name: getattr(off, f.name) for f in dataclasses.fields(self) if f.init})

    def as_dict(self) -> dict[str, Any]:
        """The current faults, JSON-able."""
        with self._lock:
            values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
            return {
                name: sorted(value) if isinstance(value, set) else value for name, value in values.items()
            }

    def plan(self, sender: str | None, phone: str | None) -> FaultPlan:
        """Draw one request's faults."""
        with self._lock:
            rng, jitter = self._rng, self.latency_jitter
            delay = max(0.0, self.latency + (rng.uniform(-jitter, jitter) if jitter else 0.0))
            drop = self._roll(self.p_drop)
            reject = None
            failing = sender in self.failing_senders or phone in self.failing_phones
            if self.outage or failing or self._roll(self.p_503):
                reject = 503
            elif self._roll(self.p_429):
                reject = 429
            retry_after = None
            if reject == 429 or (reject == 503 and self.retry_after_503):
                retry_after = self.retry_after_override or str(rng.randint(*self.retry_after))
            drop_after_act = self._roll(self.p_drop_after_act)
            return FaultPlan(delay, drop, self.hang, reject, retry_after, drop_after_act, self.stall_body)

    def _roll(self, probability: float) -> bool:
        return probability > 0 and self._rng.random() < probability
