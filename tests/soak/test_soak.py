"""Fault soak: thousands of opt-outs through injected failures; not one may be silently lost.

Figures (phones soaked / stopped / lost, retries, faults seen) are attached to each test as
user properties and printed in pytest's terminal summary.
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.helpers import SENDER, make_context, phones
from whatcounts_provider.exceptions import WhatCountsBulkError
from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator
from whatcounts_provider.testing.emulator import Faults, WhatCountsEmulator

pytestmark = pytest.mark.soak


def bulk(phone_list: list[str], **kwargs) -> BulkStopSmsSubscriberOperator:
    return BulkStopSmsSubscriberOperator(task_id="soak", phones=phone_list, sender_code=SENDER, **kwargs)


@pytest.fixture
def faulty_emulator():
    """An emulator injecting every kind of fault: 503s, 429s with Retry-After, dropped connections."""
    faults = Faults(
        seed=2026,
        p_503=0.10,
        p_429=0.03,
        retry_after=(0, 1),
        p_drop=0.02,
        p_drop_after_act=0.01,
        latency=0.002,
        latency_jitter=0.002,
    )
    with WhatCountsEmulator(faults=faults, record_requests=False) as emulator:
        yield emulator


def test_5000_phones_through_faults_are_all_opted_out(
    faulty_emulator, use_connection, log_text, record_property
):
    emulator = faulty_emulator
    # A 50 ms first backoff (doubling, with jitter; the retry_backoff_initial extra) keeps the
    # soak inside two minutes: the policy is the production one, only its scale is smaller.
    # With ~16 % of attempts failing, the default 5 retries would lose ~0.08 phones a run on
    # average; 8 retries make a loss about 1 in 3,000 runs. The budget is a connection extra.
    use_connection(uri=emulator.conn_uri(), max_retries=8, retry_backoff_initial=0.05)
    batch = phones(5000)
    emulator.subscribe(SENDER, batch)

    record = bulk(batch, max_workers=16).execute(make_context())

    state = emulator.state
    opted_out = sum(state.is_stopped(SENDER, phone) for phone in batch)
    figures = {
        "phones": len(batch),
        "stopped": record["stopped"],
        "not_subscribed_after_lost_answer": len(record["not_subscribed"]),
        "lost": len(batch) - opted_out,
        "retries": record["retries"],
        "answers_503": state.by_status[503],
        "answers_429": state.by_status[429],
        "dropped_before_acting": state.dropped,
        "dropped_after_acting": state.dropped_after_act,
    }
    for name, value in figures.items():
        record_property(name, value)

    assert opted_out == 5000, figures
    assert record["stopped"] + len(record["not_subscribed"]) == 5000
    assert record["failed"] == [], figures
    assert record["invalid"] == [], figures
    # A phone comes back "not subscribed" only when WhatCounts acted but its answer was lost.
    assert len(record["not_subscribed"]) <= state.dropped_after_act
    assert state.by_status[503] > 300, figures
    assert state.by_status[429] > 50, figures
    assert state.dropped > 50, figures
    assert record["retries"] >= state.by_status[503] + state.by_status[429] + state.dropped
    assert f"Retries during this run: {record['retries']}" in log_text()


def test_an_outage_longer_than_the_retry_budget_fails_those_phones_and_a_rerun_completes(
    use_connection, record_property
):
    with WhatCountsEmulator(faults=Faults(latency=0.01), record_requests=False) as emulator:
        use_connection(uri=emulator.conn_uri(), max_retries=2, retry_backoff_initial=0.05)
        batch = phones(600)
        emulator.subscribe(SENDER, batch)
        outage_started = threading.Event()

        def outage() -> None:
            """From the 100th request on, 503 to everything for 1 s: longer than 3 tries + backoff."""
            deadline = time.monotonic() + 30
            while emulator.state.requests_total < 100 and time.monotonic() < deadline:
                time.sleep(0.005)
            emulator.faults.update(outage=True)
            outage_started.set()
            time.sleep(1.0)
            emulator.faults.update(outage=False)

        window = threading.Thread(target=outage, daemon=True)
        window.start()
        context = make_context()
        with pytest.raises(WhatCountsBulkError):
            bulk(batch, max_workers=8).execute(context)
        window.join(timeout=10)

        first = context["ti"].pushed["return_value"]
        failed = {item["phone"] for item in first["failed"]}
        record_property("outage_failed", len(failed))
        record_property("outage_stopped", first["stopped"])
        assert outage_started.is_set()
        assert failed, "phones sent during the outage outlive their retries"
        assert all("HTTP 503" in item["error"] for item in first["failed"])
        assert first["stopped"] + len(failed) == 600, "every phone is accounted for"
        assert first["invalid"] == []

        second = bulk(batch, max_workers=8).execute(make_context())

        assert second["stopped"] == len(failed), "the second run completes exactly the failed ones"
        assert len(second["not_subscribed"]) == first["stopped"], "earlier successes: already stopped"
        assert second["failed"] == []
        assert all(emulator.state.is_stopped(SENDER, phone) for phone in batch)
