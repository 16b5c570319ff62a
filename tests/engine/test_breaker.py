"""A run during an outage: the circuit breaker ends it in seconds, and a task retry resumes it.

Measured before the breaker: every pair spent its 6 attempts and ~16 s of backoff, so a 10,000-phone
chunk would have sent ~60,000 requests over ~6 hours. Here WhatCounts answers 503 to everything,
on a fake clock whose sleeps advance it at once: no test waits real time.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import Any

import pytest

from tests.helpers import REST, SENDER, FakeClock, make_context, phones
from whatcounts_provider.engine import opt_out_one, run_opt_outs
from whatcounts_provider.exceptions import WhatCountsApiError, WhatCountsBulkError, WhatCountsCircuitOpenError
from whatcounts_provider.hooks.whatcounts import WhatCountsHook
from whatcounts_provider.inputs import Inputs
from whatcounts_provider.receipts import TaskIdentity, iter_receipts

COUNT = 10_000
IDENTITY = {"dag_id": "opt_out", "run_id": "manual__2026-12-06T09:00:00+00:00", "task_id": "stop"}
STOP = re.compile(rf"^{re.escape(REST)}/sms/stopSubscriberSend/(\d+)/(\w+)$")
# The breaker needs 60 s of failures in a row. The fake clock moves only by the waits after failed
# attempts, every worker's added up: each attempt but a pair's last is followed by at least 0.5 s
# (the first backoff), so it opens within (60 / 0.5) * 6 / 5 = 144 failed attempts; up to 8
# workers may each have one more in flight. Far below the 60,000 the outage cost without it.
MOST_REQUESTS = 200
# How many failed in a row, and over how long, depends on how the workers interleave: not asserted.
NOT_SENT = re.compile(
    r": not sent: WhatCounts failed \d+ attempts in a row over \d+ s \(HTTP 503\); "
    r"the circuit breaker stopped the run, a task retry sends it again$"
)


class Site:
    """WhatCounts behind requests-mock: stops every phone while it is up, 503 to everything while
    it is down. ``up_for``: it goes down by itself after that many requests.

    Counts the requests per pair, from any worker thread.
    """

    def __init__(self) -> None:
        self.down = False
        self.up_for: int | None = None
        self.posts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def answer(self, request: Any, context: Any) -> dict[str, Any]:
        match = STOP.match(request.url)
        assert match is not None, request.url
        phone, code = match.groups()
        with self._lock:
            self.posts[phone, code] += 1
            down = self.down or (self.up_for is not None and self.requests > self.up_for)
        if down:
            context.status_code = 503
            return {"error": "Service Unavailable", "statusCode": 503}
        return {"phone": phone, "senderCode": code, "status": "STOPPED"}

    @property
    def requests(self) -> int:
        return sum(self.posts.values())


class ThreadSafeClock(FakeClock):
    """The fake clock, shared by the run's worker threads: no sleep's advance is lost."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            super().sleep(seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ThreadSafeClock:
    """The hook's clock and sleep, replaced for this test."""
    fake = ThreadSafeClock()
    monkeypatch.setattr(WhatCountsHook, "_now", staticmethod(fake.monotonic))
    monkeypatch.setattr(WhatCountsHook, "_sleep", staticmethod(fake.sleep))
    return fake


@pytest.fixture
def site(requests_mock: Any) -> Site:
    """WhatCounts at ``whatcounts_default``'s address, healthy until the test takes it down."""
    stand_in = Site()
    requests_mock.post(STOP, json=stand_in.answer)
    return stand_in


def run_try(
    try_number: int, receipts: Any, pushed: list[dict[str, Any]], count: int = COUNT
) -> dict[str, Any]:
    """One try of the task over ``count`` phones, with the default retry and breaker settings."""
    task = TaskIdentity.from_context(make_context(try_number=try_number, **IDENTITY))
    return run_opt_outs(
        WhatCountsHook(),
        Inputs(phones=phones(count), sender_code=SENDER),
        receipts_path=receipts,
        task=task,
        push=pushed.append,
    )


def test_an_outage_ends_the_run_quickly_and_a_retry_resumes_it(clock, site, tmp_path):
    site.down = True
    pushed: list[dict[str, Any]] = []

    with pytest.raises(WhatCountsBulkError) as raised:
        run_try(1, tmp_path, pushed)

    first = raised.value.summary
    assert pushed == [first]
    assert (first["total"], first["stopped"], len(first["failed"])) == (COUNT, 0, COUNT)
    assert site.requests < MOST_REQUESTS
    receipts = list(iter_receipts(tmp_path))
    assert Counter(receipt["status"] for receipt in receipts) == {"failed": COUNT}
    assert sum(receipt["attempts"] for receipt in receipts) == site.requests, "every request is counted"
    never_sent = [receipt for receipt in receipts if receipt["attempts"] == 0]
    assert len(never_sent) > COUNT - MOST_REQUESTS
    assert all(NOT_SENT.search(receipt["error"]) for receipt in never_sent)

    site.down = False
    second = run_try(2, tmp_path, pushed)

    assert (second["stopped"], second["failed"], second["already_done"]) == (COUNT, [], 0)
    assert len(pushed) == 1, "a green try pushes nothing before it returns"
    assert site.posts.keys() == {(phone, SENDER) for phone in phones(COUNT)}


def test_pairs_honoured_before_the_outage_are_not_sent_again(clock, site, tmp_path):
    """WhatCounts goes down after its first 500 stops: the retry sends only the other pairs."""
    count, site.up_for = 2_000, 500
    pushed: list[dict[str, Any]] = []
    with pytest.raises(WhatCountsBulkError) as raised:
        run_try(1, tmp_path, pushed, count)
    first = raised.value.summary
    assert (first["stopped"], len(first["failed"])) == (500, count - 500)
    sent_first = Counter(site.posts)

    site.up_for = None
    second = run_try(2, tmp_path, pushed, count)

    assert (second["already_done"], second["stopped_this_try"], second["failed"]) == (500, count - 500, [])
    assert second["stopped"] == count, "the record counts what the run honoured across its tries"
    resent = site.posts - sent_first
    assert resent.keys() == {(item["phone"], SENDER) for item in first["failed"]}, "only the failed ones"
    assert set(resent.values()) == {1}
    stopped = Counter(
        (receipt["phone"], receipt["sender_code"])
        for receipt in iter_receipts(tmp_path)
        if receipt["status"] == "stopped"
    )
    assert stopped == Counter({(phone, SENDER): 1 for phone in phones(count)}), "each pair stopped once"


def test_a_failed_pair_carries_a_retryable_cause(clock, site):
    site.down = True
    outcomes = list(WhatCountsHook().stop_sms_subscribers(phones(300), SENDER))

    assert len(outcomes) == 300
    assert {outcome.status for outcome in outcomes} == {"failed"}
    assert not any(outcome.permanent for outcome in outcomes)
    refused = [outcome for outcome in outcomes if isinstance(outcome.cause, WhatCountsCircuitOpenError)]
    assert refused, "the breaker failed the pairs it did not send"
    assert sum(outcome.attempts for outcome in outcomes) == site.requests


def test_one_phone_on_every_code_stops_sending_once_the_breaker_opens(clock, site, tmp_path, use_connection):
    """One phone, five codes (scope="all"), all down: 20 failures over 60 s come during the 4th
    code at the latest, so the 5th is not sent. (One phone on one code spends its 6 attempts.)"""
    codes = [SENDER, "22222", "33333", "44444", "55555"]
    use_connection(sender_codes=", ".join(codes))
    site.down = True
    task = TaskIdentity.from_context(make_context(try_number=1, **IDENTITY))

    with pytest.raises(WhatCountsApiError, match="gave up after 6 attempts"):
        opt_out_one(WhatCountsHook(), phones(1)[0], SENDER, scope="all", receipts_path=tmp_path, task=task)

    receipts = list(iter_receipts(tmp_path))
    assert sorted(receipt["sender_code"] for receipt in receipts) == sorted(codes)
    assert {receipt["status"] for receipt in receipts} == {"failed"}
    assert sum(receipt["attempts"] for receipt in receipts) == site.requests <= 24
    assert [receipt["attempts"] for receipt in receipts].count(0) >= 1
