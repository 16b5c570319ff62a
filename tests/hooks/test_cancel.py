"""WhatCountsHook.cancel(): what an operator's on_kill calls. Nothing more is sent, waits end, runs return.

Each test waits for a state (requests in flight, a retry wait begun) before cancelling, so the
order of events is fixed; the only wall-clock bound is "well under the 30 s read timeout".
"""

from __future__ import annotations

import re
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from whatcounts_provider.exceptions import WhatCountsCancelledError
from whatcounts_provider.hooks.whatcounts import WhatCountsHook

if TYPE_CHECKING:
    from collections.abc import Callable

CODE = "2065551212"
# A cancelled run must not wait for its requests in flight, which would end only with the read
# timeout (30 s here). 10 s is far below that, yet leaves a loaded machine room to schedule the
# threads involved (the run itself notices a cancel within 0.1 s).
PROMPT = 10.0


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


class Runner(threading.Thread):
    """Consumes a hook call in the background; keeps what it yielded and what it raised."""

    def __init__(self, call: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.call = call
        self.outcomes: list[Any] = []
        self.error: BaseException | None = None
        self.ended_at: float | None = None

    def run(self) -> None:
        try:
            result = self.call()
            self.outcomes.extend(result if not isinstance(result, dict) else [result])
        except BaseException as exc:
            self.error = exc
        self.ended_at = time.monotonic()


@pytest.fixture
def plain_credentials_connection(use_connection) -> None:
    use_connection(login="realm", password="pass")


def new_workers(before: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("whatcounts-") and t not in before]


def test_a_bulk_run_with_requests_in_flight_returns_promptly_and_sends_nothing_more(whatcounts_conn_env):
    emulator = whatcounts_conn_env
    emulator.faults.update(hang=True)  # every request is held until the emulator stops
    before = set(threading.enumerate())
    hook = WhatCountsHook()
    session = hook.get_conn()
    sent = []
    send = session.request
    session.request = lambda *args, **kwargs: sent.append(args) or send(*args, **kwargs)  # type: ignore[method-assign]
    pairs = [(f"1206{2_000_000 + i}", CODE) for i in range(40)]
    runner = Runner(lambda: hook.stop_sms_pairs(pairs, max_workers=4))
    runner.start()
    wait_until(lambda: emulator.state.requests_total == 4)  # 4 workers wait for answers; 4 more pairs queued

    cancelled_at = time.monotonic()
    hook.cancel()
    runner.join(timeout=PROMPT)

    assert not runner.is_alive(), "the run returned without waiting for the requests in flight"
    assert runner.ended_at is not None
    assert runner.ended_at - cancelled_at < PROMPT
    assert isinstance(runner.error, WhatCountsCancelledError)
    assert "8 pair(s) were queued or being sent" in str(runner.error)
    assert runner.outcomes == []
    # Now let the held requests end (the emulator closes them): a worker that went on to retry
    # or to a queued pair would call session.request again before it exits.
    emulator.stop()
    wait_until(lambda: not new_workers(before))
    assert len(sent) == 4, "no request was sent after the cancel"


def test_a_retry_wait_ends_at_once(whatcounts_conn_env, use_connection):
    """A 503 then a 60-second backoff: the cancel ends the wait, not the minute."""
    emulator = whatcounts_conn_env
    use_connection(uri=emulator.conn_uri(), retry_backoff_initial=60)
    emulator.subscribe(CODE, ["12062000000"])
    emulator.faults.update(failing_phones={"12062000000"})
    hook = WhatCountsHook()
    runner = Runner(lambda: hook.stop_sms_subscriber("12062000000", CODE))
    runner.start()
    wait_until(lambda: hook.retries == 1)  # the 503 came back; the retry wait has begun (or is about to)

    cancelled_at = time.monotonic()
    hook.cancel()
    runner.join(timeout=PROMPT)

    assert not runner.is_alive()
    assert runner.ended_at is not None
    assert runner.ended_at - cancelled_at < PROMPT
    assert isinstance(runner.error, WhatCountsCancelledError)
    assert emulator.state.post_count(CODE, "12062000000") == 1, "no second attempt after the cancel"


def test_a_throttle_wait_ends_at_once(whatcounts_conn_env):
    """At 1 request a minute the second pair waits 60 s for its slot; the cancel ends that too."""
    emulator = whatcounts_conn_env
    hook = WhatCountsHook()
    pairs = [("12062000000", CODE), ("12062000001", CODE)]
    emulator.subscribe(CODE, [phone for phone, _ in pairs])
    runner = Runner(lambda: hook.stop_sms_pairs(pairs, max_workers=2, max_requests_per_second=1 / 60))
    runner.start()
    wait_until(lambda: emulator.state.requests_total == 1)

    hook.cancel()
    runner.join(timeout=PROMPT)

    assert not runner.is_alive()
    assert isinstance(runner.error, WhatCountsCancelledError)
    assert emulator.state.requests_total == 1


def test_a_cancelled_hook_sends_nothing(plain_credentials_connection, requests_mock):
    requests_mock.post(re.compile(".*"), json={})
    hook = WhatCountsHook()
    hook.cancel()
    with pytest.raises(WhatCountsCancelledError, match="0 outcome"):
        list(hook.stop_sms_pairs([("12062000000", CODE)]))
    with pytest.raises(WhatCountsCancelledError):
        hook.stop_sms_subscriber("12062000000", CODE)
    assert requests_mock.call_count == 0
