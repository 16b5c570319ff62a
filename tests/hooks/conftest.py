"""Fixtures of the hook tests: a fake clock for retry waits and a hook on the default connection."""

from __future__ import annotations

import pytest

from tests.helpers import FakeClock
from whatcounts_provider.hooks.whatcounts import WhatCountsHook


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock of its own, for code that takes its clock and sleep as arguments."""
    return FakeClock()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock) -> FakeClock:
    """The hook's clock and sleep, replaced for this test."""
    monkeypatch.setattr(WhatCountsHook, "_now", staticmethod(fake_clock.monotonic))
    monkeypatch.setattr(WhatCountsHook, "_sleep", staticmethod(fake_clock.sleep))
    return fake_clock


@pytest.fixture
def hook(clock: FakeClock) -> WhatCountsHook:
    """A hook on ``whatcounts_default`` (the fake https site), waiting on the fake clock."""
    return WhatCountsHook(retry_backoff_initial=0.001)
