"""Fixtures of the hook tests: a fake clock for retry waits and a hook on the default connection."""

from __future__ import annotations

import pytest
import tenacity.nap

from whatcounts_provider.hooks import _throttle
from whatcounts_provider.hooks.whatcounts import WhatCountsHook


class FakeClock:
    """Stands in for ``time`` in tenacity's sleep and the hook's throttle: sleeping is instant, recorded."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(tenacity.nap, "time", fake)  # tenacity's default sleep strategy
    monkeypatch.setattr(_throttle, "time", fake)  # Retry-After pauses shared by workers
    return fake


@pytest.fixture
def hook(clock: FakeClock, fast_retries: None) -> WhatCountsHook:
    """A hook on ``whatcounts_default`` (the fake https site), waiting on the fake clock."""
    return WhatCountsHook()
