"""When the queue watcher fires (a decision over an injected clock: no waiting, no timing)."""

from __future__ import annotations

from whatcounts_provider.triggers.watch import Watch


def test_it_fires_when_messages_appear_and_not_again_until_rearmed():
    watch = Watch(rearm_seconds=10)
    assert [watch.fire(waiting, now) for waiting, now in [(0, 0), (3, 1), (5, 2), (5, 10.9), (5, 11)]] == [
        False, True, False, False, True,
    ]  # fmt: skip


def test_an_empty_queue_rearms_it_at_once():
    watch = Watch(rearm_seconds=10)
    assert [watch.fire(waiting, now) for waiting, now in [(1, 0), (0, 1), (1, 2), (1, 3)]] == [
        True, False, True, False,
    ]  # fmt: skip


def test_a_backlog_fires_once_per_rearm_period_not_once_per_look():
    watch = Watch(rearm_seconds=10)
    fired = sum(watch.fire(10_000, now / 2) for now in range(120))  # a look every 0.5 s for 60 s
    assert fired == 6
