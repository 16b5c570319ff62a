"""BulkStopSmsSubscriberOperator / WhatCountsHook.stop_sms_subscribers against the emulator."""

from __future__ import annotations

import time

import pytest

from tests.helpers import SENDER, make_context, phones
from whatcounts_provider._compat import AirflowFailException
from whatcounts_provider.exceptions import (
    WhatCountsAuthError,
    WhatCountsBulkError,
    WhatCountsInvalidInputsError,
)
from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator

# Retries wait 0 s here; the policy itself is tested with a fake clock in tests/hooks.
pytestmark = pytest.mark.usefixtures("fast_retries")


def bulk(phone_list, **kwargs) -> BulkStopSmsSubscriberOperator:
    return BulkStopSmsSubscriberOperator(task_id="bulk", phones=phone_list, sender_code=SENDER, **kwargs)


def test_mixed_list_gives_an_exact_summary_and_posts_each_phone_once(whatcounts_conn_env):
    emulator = whatcounts_conn_env
    emulator.subscribe(SENDER, ["12065959696", "12065959697", "12065959698"])
    inputs = [
        "+1 (206) 595-9696",
        "206-595-9697",
        "2065959696",  # the first phone again, another format
        "206.595.9699",  # valid but not subscribed
        "not a phone",
        "",
        12065959698,
    ]
    op = bulk(inputs)
    context = make_context()

    with pytest.raises(WhatCountsBulkError) as excinfo:
        op.execute(context)

    expected = {
        "sender_code": SENDER,
        "total": 7,
        "stopped": 3,
        "stopped_this_try": 3,
        "not_subscribed_after_cut_short": 0,
        "not_subscribed": ["12065959699"],
        "invalid": ["not a phone", ""],
        "failed": [],
        "duplicates": 1,
        "retries": 0,
        "by_sender_code": {SENDER: {"stopped": 3, "not_subscribed": 1, "failed": 0}},
        "already_done": 0,
        "late": 0,
        "not_opt_out": 0,
        "ambiguous": 0,
        "needs_review": [],
        "receipts": None,
        "source": None,
        "error": None,
    }
    assert context["ti"].pushed["return_value"] == expected, "summary pushed even though the task fails"
    assert excinfo.value.summary == expected
    for phone in ["12065959696", "12065959697", "12065959698", "12065959699"]:
        assert emulator.state.post_count(SENDER, phone) == 1
    assert emulator.state.snapshot()["stopped"][SENDER] == ["12065959696", "12065959697", "12065959698"]
    assert sum(emulator.state.posts.values()) == 4, "invalid inputs are never sent"


def test_clean_list_succeeds_and_returns_the_summary(whatcounts_conn_env):
    emulator = whatcounts_conn_env
    batch = phones(300)
    emulator.subscribe(SENDER, batch)
    context = make_context()

    record = bulk(batch + batch[:10], max_workers=16).execute(context)

    assert record["stopped"] == 300
    assert record["duplicates"] == 10
    assert (record["not_subscribed"], record["invalid"], record["failed"]) == ([], [], [])
    assert "return_value" not in context["ti"].pushed, "on success Airflow pushes the return value itself"
    assert all(emulator.state.is_stopped(SENDER, phone) for phone in batch)


def test_missing_ok_false_fails_on_not_subscribed_without_spending_retries(whatcounts_conn_env):
    whatcounts_conn_env.subscribe(SENDER, ["12065959696"])
    context = make_context()
    with pytest.raises(WhatCountsInvalidInputsError) as excinfo:
        bulk(["2065959696", "2065959699"], missing_ok=False).execute(context)
    assert isinstance(excinfo.value, AirflowFailException), "WhatCounts' answer will not change on a retry"
    summary = context["ti"].pushed["return_value"]
    assert summary["stopped"] == 1
    assert [item["phone"] for item in summary["failed"]] == ["12065959699"]
    assert "STOP sends" in summary["failed"][0]["error"]


def test_missing_ok_false_with_a_transient_failure_keeps_the_retries(whatcounts_conn_env):
    emulator = whatcounts_conn_env
    emulator.subscribe(SENDER, ["12065959696"])
    emulator.faults.update(failing_phones={"12065959697"})
    context = make_context()
    with pytest.raises(WhatCountsBulkError) as excinfo:
        bulk(["2065959696", "2065959697", "2065959699"], missing_ok=False).execute(context)
    assert not isinstance(excinfo.value, AirflowFailException), "the 503 may pass on a retry"
    failed = {item["phone"] for item in context["ti"].pushed["return_value"]["failed"]}
    assert failed == {"12065959697", "12065959699"}


def test_rate_cap_holds_across_workers(whatcounts_conn_env):
    emulator = whatcounts_conn_env
    batch = phones(45)
    emulator.subscribe(SENDER, batch)
    started = time.monotonic()

    record = bulk(batch, max_workers=8, max_requests_per_second=20).execute(make_context())

    assert record["stopped"] == 45
    stamps = sorted(r.timestamp for r in emulator.state.requests if r.method == "POST")
    assert len(stamps) == 45
    # What holds however loaded the machine is: the throttle hands out one slot every 50 ms from
    # the first request on, and a request reaches the emulator (same process, same monotonic
    # clock) only after its slot, so the i-th arrival is at least i x 50 ms after the start.
    # A sliding-window count is NOT load-proof: requests held up after their slots (a busy CPU)
    # arrive bunched, so any one-second window may see a few more than 20. The slot spacing
    # itself is asserted exactly, with a fake clock, in tests/hooks/test_throttle.py.
    early = [(i, round(t - started, 3)) for i, t in enumerate(stamps) if t - started < i / 20]
    assert early == [], "requests arrived before their slot"


def test_transient_failures_are_retried_and_counted(whatcounts_conn_env, use_connection):
    emulator = whatcounts_conn_env
    # Which attempt draws which fault depends on thread timing, so the retry budget must make a
    # phone's failing every attempt impossible in practice: 0.2 ** 21 per phone, not 0.2 ** 6.
    use_connection(uri=emulator.conn_uri(), max_retries=20)
    batch = phones(200)
    emulator.subscribe(SENDER, batch)
    emulator.faults.update(seed=7, p_503=0.2)

    record = bulk(batch, max_workers=8).execute(make_context())

    assert record["stopped"] == 200
    assert record["failed"] == []
    assert record["retries"] > 10, "about 20 % of first attempts failed"
    assert record["retries"] == emulator.state.by_status[503]


def test_phones_that_keep_failing_are_reported_and_a_rerun_completes(whatcounts_conn_env, use_connection):
    emulator = whatcounts_conn_env
    use_connection(uri=emulator.conn_uri(), max_retries=2)
    batch = phones(20)
    broken = set(batch[::7])
    emulator.subscribe(SENDER, batch)
    emulator.faults.update(failing_phones=broken)
    context = make_context()

    with pytest.raises(WhatCountsBulkError, match=r"3 pair\(s\) failed"):
        bulk(batch).execute(context)

    first = context["ti"].pushed["return_value"]
    assert sorted(item["phone"] for item in first["failed"]) == sorted(broken)
    assert all("HTTP 503" in item["error"] for item in first["failed"])
    assert all("gave up after 3 attempts" in item["error"] for item in first["failed"])
    assert first["stopped"] == 17
    assert all(emulator.state.post_count(SENDER, phone) == 3 for phone in broken), "1 try + 2 retries"

    emulator.faults.update(failing_phones=set())
    second = bulk(batch).execute(make_context())

    assert second["stopped"] == 3
    assert sorted(second["not_subscribed"]) == sorted(set(batch) - broken), "already stopped last time"
    assert all(emulator.state.is_stopped(SENDER, phone) for phone in batch)


def test_one_pool_serves_all_workers(whatcounts_conn_env, log_text):
    emulator = whatcounts_conn_env
    batch = phones(400)
    emulator.subscribe(SENDER, batch)

    record = bulk(batch, max_workers=16).execute(make_context())

    assert record["stopped"] == 400
    assert emulator.state.connections <= 16, "keep-alive: connections are reused, not one per request"
    assert "Connection pool is full" not in log_text()


def test_bad_credentials_stop_the_whole_run(whatcounts_conn_env, use_connection):
    emulator = whatcounts_conn_env
    use_connection(uri=emulator.conn_uri().replace(emulator.state.password, "wrong-pass"))
    batch = phones(200)
    emulator.subscribe(SENDER, batch)

    with pytest.raises(WhatCountsAuthError):
        bulk(batch, max_workers=4).execute(make_context())

    assert emulator.state.by_status[401] <= 2 * 4, "no point sending the rest with bad credentials"


def test_a_code_nobody_is_subscribed_to_fails_the_task_at_once_unless_expected(whatcounts_conn_env):
    """12065551212, the Vonage form of the account's 2065551212: WhatCounts answers each pair 500."""
    op = BulkStopSmsSubscriberOperator(task_id="bulk", phones=phones(25), sender_code="12065551212")
    with pytest.raises(WhatCountsInvalidInputsError, match="sender code '12065551212'") as error:
        op.execute(make_context())
    assert isinstance(error.value, AirflowFailException), "no retry is spent"
    assert "expect_not_subscribed=True" in str(error.value)
    op = BulkStopSmsSubscriberOperator(
        task_id="bulk", phones=phones(25), sender_code="12065551212", expect_not_subscribed=True
    )
    assert len(op.execute(make_context())["not_subscribed"]) == 25


def test_ambiguous_review_and_the_operators_phrases_reach_the_run(whatcounts_conn_env):
    whatcounts_conn_env.subscribe(SENDER, phones(3))
    rows = [
        {"phone": phones(3)[0], "message": "unfollow"},
        {"phone": phones(3)[1], "message": "don't cancel my order"},
        {"phone": phones(3)[2], "message": "thanks"},
    ]
    op = BulkStopSmsSubscriberOperator(
        task_id="bulk", rows=rows, sender_code=SENDER, ambiguous="review", opt_out_phrases=["unfollow"]
    )
    with pytest.raises(WhatCountsInvalidInputsError) as error:
        op.execute(make_context())
    record = error.value.summary
    assert (record["stopped"], record["not_opt_out"], record["ambiguous"]) == (1, 1, 1)
    assert [item["row"] for item in record["needs_review"]] == [2]
