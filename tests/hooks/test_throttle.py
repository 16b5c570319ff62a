"""The per-run rate cap and shared pause, judged by the slots it hands out under a fake clock.

No test here reads the wall clock: they assert what the throttle decided (the slot each caller
got and how long it was told to wait), which is the same on an idle or a saturated machine.
"""

from __future__ import annotations

import threading

import pytest

from whatcounts_provider.hooks._throttle import Throttle


class SteppedClock:
    """A monotonic clock that moves only when someone sleeps on it (or the test advances it)."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def test_slots_are_spaced_exactly_one_interval_apart_for_one_caller():
    clock = SteppedClock()
    throttle = Throttle(50, clock=clock, sleep=clock.sleep)  # one slot every 20 ms

    for _ in range(5):
        throttle.acquire()

    assert clock.sleeps == pytest.approx([0.02] * 4), "the first goes at once, then one per 20 ms"
    assert clock.now == pytest.approx(1_000.08)


def test_concurrent_callers_get_distinct_slots_one_interval_apart():
    """20 callers on 4 threads while time stands still: every slot is taken once, none twice."""
    clock = SteppedClock()
    throttle = Throttle(50, clock=clock, sleep=clock.sleep)
    slots: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def worker() -> None:
        start.wait()
        for _ in range(5):
            _, slot = throttle.reserve()
            with lock:
                slots.append(slot)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(slots) == pytest.approx([1_000.0 + i * 0.02 for i in range(20)])


def test_no_cap_means_no_wait():
    clock = SteppedClock()
    throttle = Throttle(None, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        throttle.acquire()
    assert clock.sleeps == []


def test_a_caller_after_a_quiet_spell_goes_at_once():
    """GCRA of depth one: idle time earns no burst, and costs no wait either."""
    clock = SteppedClock()
    throttle = Throttle(10, clock=clock, sleep=clock.sleep)
    throttle.acquire()
    clock.now += 5.0
    assert throttle.reserve() == (1_005.0, 1_005.0)
    assert throttle.reserve() == (1_005.0, pytest.approx(1_005.1)), "but the next one is spaced again"


def test_pause_holds_every_caller_until_it_ends():
    clock = SteppedClock()
    throttle = Throttle(None, clock=clock, sleep=clock.sleep)
    throttle.pause(0.3)

    assert [throttle.reserve()[1] for _ in range(3)] == [pytest.approx(1_000.3)] * 3
    throttle.acquire()
    assert clock.sleeps == [pytest.approx(0.3)]


def test_a_pause_never_shortens_an_earlier_one():
    clock = SteppedClock()
    throttle = Throttle(None, clock=clock, sleep=clock.sleep)
    throttle.pause(5)
    throttle.pause(1)
    assert throttle.reserve()[1] == pytest.approx(1_005.0)


def test_a_pause_that_begins_while_a_caller_sleeps_holds_it_too():
    """A worker already waiting for its slot is told about a Retry-After pause when it wakes."""
    clock = SteppedClock()

    def sleep_then_someone_pauses(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.sleeps) == 1:
            throttle.pause(2.0)  # another worker got Retry-After: 2 meanwhile

    throttle = Throttle(10, clock=clock, sleep=sleep_then_someone_pauses)
    throttle.acquire()  # slot 1000.0; the next is 1000.1
    throttle.acquire()

    assert clock.sleeps == [pytest.approx(0.1), pytest.approx(2.0)]
    assert clock.now == pytest.approx(1_002.1)


def test_rate_slots_resume_after_a_pause():
    clock = SteppedClock()
    throttle = Throttle(10, clock=clock, sleep=clock.sleep)
    throttle.pause(1.0)
    assert [throttle.reserve()[1] for _ in range(3)] == pytest.approx([1_001.0, 1_001.1, 1_001.2])


@pytest.mark.parametrize("rate", [0, -1, 0.0])
def test_a_non_positive_rate_is_refused(rate):
    with pytest.raises(ValueError, match="max_requests_per_second must be greater than 0"):
        Throttle(rate)
