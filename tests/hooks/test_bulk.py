"""The bulk machinery of the hook: partitioning inputs, the bounded work window, shared Retry-After pauses."""

from __future__ import annotations

import itertools
import re
import threading
import time

import pytest

from tests.helpers import SENDER, phones
from whatcounts_provider.hooks import _bulk
from whatcounts_provider.hooks._bulk import StopOutcome
from whatcounts_provider.hooks.whatcounts import WhatCountsHook
from whatcounts_provider.phone import normalize_phone


def test_partition_normalises_dedupes_and_keeps_invalid_inputs_as_given():
    valid, invalid = _bulk.partition(
        ["+1 (206) 595-9696", "2065959696", 12065959696, "nope", "", "206-595-9697"],
        normalize_phone,
    )
    assert valid == ["12065959696", "12065959697"]
    assert [o.phone for o in invalid] == ["nope", ""]
    assert all(o.status == "invalid" and "phone" in (o.error or "") for o in invalid)


@pytest.mark.parametrize("workers", [0, 65, -1, 2.5, True, "8"])
def test_workers_must_be_a_sane_whole_number(workers):
    with pytest.raises(ValueError, match="max_workers"):
        _bulk.check_workers(workers)


def test_run_keeps_at_most_two_windows_of_work_in_flight():
    """100 phones, 4 workers, a slow consumer: started work never runs ahead by more than 8."""
    started: list[str] = []
    lock = threading.Lock()
    ahead: list[int] = []

    def stop_one(phone: str) -> StopOutcome:
        with lock:
            started.append(phone)
        return StopOutcome(phone, "stopped")

    phones = [str(i) for i in range(100)]
    consumed = 0
    for outcome in _bulk.run([], phones, stop_one, workers=4):
        consumed += 1
        time.sleep(0.001)
        with lock:
            ahead.append(len(started) - consumed)
        assert outcome.status == "stopped"
    assert consumed == 100
    assert sorted(started, key=int) == phones, "every phone exactly once"
    assert max(ahead) <= 2 * 4


def test_run_yields_invalid_first_and_propagates_a_fatal_error():
    def stop_one(phone: str) -> StopOutcome:
        if phone == "3":
            raise PermissionError("stop everything")
        return StopOutcome(phone, "stopped")

    invalid = [StopOutcome("bad", "invalid", error="x")]
    results = _bulk.run(invalid, [str(i) for i in range(10)], stop_one, workers=2)
    assert next(results).status == "invalid"
    with pytest.raises(PermissionError):
        list(results)


def test_retry_after_pauses_every_worker(requests_mock):
    """One phone is told 429 / Retry-After: 1; no other worker may send during that second."""
    url = "https://mail.example.com/rest/sms/stopSubscriberSend"
    stamps: dict[str, list[float]] = {}
    told = itertools.count()

    def answer(request, context):
        phone = request.path.split("/")[-2]
        stamps.setdefault(phone, []).append(time.monotonic())
        if phone == "12062000003" and next(told) == 0:
            context.status_code = 429
            context.headers["Retry-After"] = "1"
            return {"error": "Too Many Requests"}
        return {"id": 1, "phone": phone}

    requests_mock.post(re.compile(url), json=answer)
    hook = WhatCountsHook()
    outcomes = list(hook.stop_sms_subscribers(phones(24), SENDER, max_workers=4))

    assert [o.status for o in outcomes].count("stopped") == 24
    limited = stamps["12062000003"][0]
    # The told worker sleeps a full second after receiving the 429 (stamped before it): exact.
    assert stamps["12062000003"][1] - limited >= 1.0
    # The 3 other workers may each have passed the throttle just before the pause began, and on a
    # loaded machine such a request can reach the server well inside the pause; after that one,
    # none may send. Without the shared pause they would send the remaining 20 in that second.
    during = [t for times in stamps.values() for t in times if limited < t < limited + 1.0]
    assert len(during) <= 3, "every worker waits out the Retry-After"
