"""The throttle every bulk worker passes before a request: the rate cap and the shared pause."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from whatcounts_provider.hooks._throttle import Throttle


def test_throttle_spaces_requests_across_threads():
    throttle = Throttle(rate=50)  # one slot every 20 ms
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            throttle.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    stamps.sort()
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert len(stamps) == 20
    assert min(gaps) >= 0.015, "no two requests closer than the cap allows (5 ms tolerance)"
    assert stamps[-1] - stamps[0] >= 19 * 0.02 * 0.9


def test_throttle_pause_holds_every_caller():
    throttle = Throttle()
    throttle.pause(0.3)
    started = time.monotonic()
    waited: list[float] = []

    def worker() -> None:
        throttle.acquire()
        waited.append(time.monotonic() - started)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert len(waited) == 3
    assert min(waited) >= 0.28


def test_throttle_rejects_a_non_positive_rate():
    with pytest.raises(ValueError, match="max_requests_per_second"):
        Throttle(rate=0)
