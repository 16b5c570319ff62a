"""Fixtures of the hook tests: a fake clock for retry waits and a hook on the default connection."""

from __future__ import annotations

import pytest

from whatcounts_provider.hooks.whatcounts import WhatCountsHook


class FakeClock:
    """Stands in for the hook's clock and sleep (throttle and retry waits): sleeping is instant, recorded."""

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
    monkeypatch.setattr(WhatCountsHook, "_now", staticmethod(fake.monotonic))
    monkeypatch.setattr(WhatCountsHook, "_sleep", staticmethod(fake.sleep))
    return fake


@pytest.fixture
def hook(clock: FakeClock) -> WhatCountsHook:
    """A hook on ``whatcounts_default`` (the fake https site), waiting on the fake clock."""
    return WhatCountsHook(retry_backoff_initial=0.001)
