"""``on_kill`` of the bulk operator: Airflow calls it from another thread when the task is marked
failed or killed; the run must stop sending and end within seconds, its record pushed."""

from __future__ import annotations

import threading
import time

import pytest

from tests.helpers import SENDER, make_context, phones
from whatcounts_provider.exceptions import WhatCountsCancelledError
from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator

COUNT = 2000
# Each request takes >= 0.05 s and 4 run at once: the whole run needs >= 25 s, so it is still
# running when on_kill comes. After on_kill the run must end within BOUND seconds: the hook stops
# within a fraction of a second by design; 10 s leaves room for a loaded 2-core machine (thread
# scheduling, the record being built) and is still far below the 25 s a run that ignored
# on_kill would take.
LATENCY = 0.05
BOUND = 10.0
WAIT = 120  # seconds for the run to get going on a loaded machine; an upper bound only


def test_on_kill_stops_the_run_within_seconds(whatcounts_conn_env) -> None:
    emulator = whatcounts_conn_env
    batch = phones(COUNT)
    emulator.subscribe(SENDER, batch)
    emulator.faults.update(latency=LATENCY)
    op = BulkStopSmsSubscriberOperator(task_id="bulk", phones=batch, sender_code=SENDER, max_workers=4)
    context = make_context()
    killed: dict[str, float] = {}

    def kill_when_going() -> None:
        # Airflow calls on_kill from another thread (or a signal handler) while execute runs in
        # the task's main thread; here execute runs in the test's main thread, as in a task.
        deadline = time.monotonic() + WAIT
        while sum(emulator.state.posts.values()) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        killed["posts"] = sum(emulator.state.posts.values())
        killed["at"] = time.monotonic()
        op.on_kill()

    killer = threading.Thread(target=kill_when_going, daemon=True)
    killer.start()
    with pytest.raises(WhatCountsCancelledError):
        op.execute(context)
    ended = time.monotonic()
    killer.join(WAIT)

    assert killed["posts"] >= 20, "on_kill came while the run was going"
    assert ended - killed["at"] < BOUND, f"execute still running {BOUND} s after on_kill"
    posts_at_kill = killed["posts"]
    record = context["ti"].pushed["return_value"]
    assert record["error"] is not None
    assert "Cancelled" in record["error"]
    assert 0 < record["stopped"] < COUNT
    # The emulator counts a request when it answers it (after its latency): requests in flight
    # when on_kill came (at most one per worker, plus one per worker that took its next pair just
    # as the flag was set) still land after execute has returned; nothing else may.
    time.sleep(3 * LATENCY + 0.5)
    settled = sum(emulator.state.posts.values())
    assert settled <= posts_at_kill + 2 * 4
    time.sleep(1.0)
    assert sum(emulator.state.posts.values()) == settled, "no request after the in-flight ones"
