"""No task may hang: silent servers, stalled bodies and absurd Retry-After values are bounded."""

from __future__ import annotations

import time

import pytest

from tests.helpers import PHONE, SENDER, make_context, phones
from whatcounts_provider.exceptions import WhatCountsBulkError, WhatCountsTransportError
from whatcounts_provider.hooks.whatcounts import WhatCountsHook
from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator, StopSmsSubscriberOperator

# Retry waits of milliseconds: the bounds below are about timeouts, not about backoff.
pytestmark = pytest.mark.usefixtures("fast_retries")

READ_TIMEOUT = 0.4
RETRIES = 1


@pytest.fixture
def slow_conn(whatcounts_conn_env, use_connection):
    emulator = whatcounts_conn_env
    use_connection(
        uri=emulator.conn_uri(), timeout=READ_TIMEOUT, max_retries=RETRIES, retry_backoff_initial=0.05
    )
    emulator.subscribe(SENDER, [PHONE])
    return emulator


def single(phone: str = PHONE) -> StopSmsSubscriberOperator:
    return StopSmsSubscriberOperator(task_id="stop", phone=phone, sender_code=SENDER)


# read timeout x attempts + backoff (first wait <= 2 x initial) + slack. The slack is large on
# purpose: with both cores busy a thread can wait seconds for the CPU, and the point here is
# "bounded" (the connection's own default would wait 30 s per attempt), not "fast".
BOUND = READ_TIMEOUT * (RETRIES + 1) + 0.1 + 5.0


@pytest.mark.parametrize("fault", ["hang", "stall_body"], ids=["never-answers", "headers-then-stall"])
def test_single_phone_task_fails_in_bounded_time_saying_it_timed_out(slow_conn, fault):
    slow_conn.faults.update(**{fault: True})
    started = time.monotonic()

    with pytest.raises(WhatCountsTransportError) as excinfo:
        single().execute(make_context())

    elapsed = time.monotonic() - started
    message = str(excinfo.value)
    assert elapsed < BOUND, f"{elapsed:.2f} s"
    assert elapsed >= READ_TIMEOUT * (RETRIES + 1) * 0.9, "it did wait for the answer each time"
    assert f"timed out after {READ_TIMEOUT:g} s waiting for the answer from {slow_conn.url}/rest" in message
    assert f"after {RETRIES + 1} attempt(s)" in message
    assert PHONE not in message


def test_bulk_task_does_not_hang_on_a_silent_server(slow_conn):
    batch = phones(12)
    slow_conn.subscribe(SENDER, batch)
    slow_conn.faults.update(hang=True)
    op = BulkStopSmsSubscriberOperator(task_id="bulk", phones=batch, sender_code=SENDER, max_workers=4)
    context = make_context()
    started = time.monotonic()

    with pytest.raises(WhatCountsBulkError):
        op.execute(context)

    elapsed = time.monotonic() - started
    # 12 phones / 4 workers = 3 rounds, each bounded like a single phone.
    assert elapsed < 3 * BOUND, f"{elapsed:.2f} s"
    summary = context["ti"].pushed["return_value"]
    assert len(summary["failed"]) == 12
    assert all("timed out" in item["error"] for item in summary["failed"])


def test_a_huge_retry_after_is_capped_and_the_cap_logged(requests_mock, log_text):
    url = f"https://mail.example.com/rest/sms/stopSubscriberSend/{PHONE}/{SENDER}"
    requests_mock.post(
        url,
        [
            {"status_code": 429, "headers": {"Retry-After": "3600"}, "json": {"error": "slow down"}},
            {"json": {"id": 1, "phone": PHONE}},
        ],
    )
    hook = WhatCountsHook(retry_after_max=0.3)
    started = time.monotonic()

    assert hook.stop_sms_subscriber(PHONE, SENDER)["id"] == 1

    elapsed = time.monotonic() - started
    # The lower bound is exact (a real sleep); the upper one only has to tell 0.3 s from an hour,
    # with room for a loaded machine.
    assert 0.3 <= elapsed < 30.0, f"waited {elapsed:.2f} s, not an hour"
    assert "Retry-After 3600 s capped to 0.3 s" in log_text()
    assert requests_mock.call_count == 2


def test_the_default_retry_after_cap_is_a_minute():
    assert WhatCountsHook().settings.retry_after_max == 60.0
