"""The bulk machinery of the hook: worker bounds and shared Retry-After pauses (pairs: test_outcomes.py)."""

from __future__ import annotations

import itertools
import re
import time

import pytest

from tests.helpers import SENDER, phones
from whatcounts_provider.hooks import _bulk
from whatcounts_provider.hooks.whatcounts import WhatCountsHook


@pytest.mark.parametrize("workers", [0, 65, -1, 2.5, True, "8"])
def test_workers_must_be_a_sane_whole_number(workers):
    with pytest.raises(ValueError, match="max_workers"):
        _bulk.check_workers(workers)


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
