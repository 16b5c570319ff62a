"""The emulator's admin API and the faults it injects."""

from __future__ import annotations

import time

import pytest
import requests

from tests.helpers import NO_SUBSCRIPTION, PHONE, SENDER
from tests.testing.emulator_client import PHONE10, body, get_lists, post_stop
from whatcounts_provider.testing.emulator import DEMO_CREDENTIALS, Faults, WhatCountsEmulator


def test_admin_api_subscribe_state_faults_and_reset(whatcounts_emulator):
    admin = f"{whatcounts_emulator.url}/_admin"
    subscribed = requests.post(
        f"{admin}/subscribe", json={"sender_code": SENDER, "phones": [PHONE10]}, timeout=5
    )
    assert body(subscribed) == {"sender_code": SENDER, "phones": [PHONE]}
    assert post_stop(whatcounts_emulator, PHONE).status_code == 200
    state = body(requests.get(f"{admin}/state", timeout=5))
    assert state["subscribed"] == {SENDER: []}
    assert state["stopped"] == {SENDER: [PHONE]}
    assert state["counters"]["posts"] == {SENDER: {PHONE: 1}}

    faults = body(requests.post(f"{admin}/faults", json={"outage": True}, timeout=5))
    assert faults["outage"] is True
    assert faults["p_503"] == 0.0
    assert get_lists(whatcounts_emulator).status_code == 503

    reset = body(requests.post(f"{admin}/reset", timeout=5))
    assert reset["subscribed"] == reset["stopped"] == {}
    assert reset["counters"]["requests"] == 0
    assert whatcounts_emulator.faults.outage is False
    assert get_lists(whatcounts_emulator).status_code == 200


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("subscribe", {"sender_code": SENDER, "phones": ["not-a-phone"]}),
        ("subscribe", {"phones": [PHONE]}),
        ("faults", {"p_503": 2}),
        ("faults", {"no_such_fault": True}),
        ("faults", [1, 2]),
    ],
)
def test_admin_api_rejects_bad_input_and_changes_nothing(whatcounts_emulator, path, payload):
    before = whatcounts_emulator.faults.as_dict()
    response = requests.post(f"{whatcounts_emulator.url}/_admin/{path}", json=payload, timeout=5)
    assert response.status_code == 400
    assert body(response)["statusCode"] == 400
    assert whatcounts_emulator.faults.as_dict() == before
    assert whatcounts_emulator.state.subscriptions == {}


def status_sequence(emulator: WhatCountsEmulator, n: int = 40) -> list[int]:
    return [get_lists(emulator).status_code for _ in range(n)]


def test_faults_with_a_seed_give_the_same_sequence_of_statuses():
    def faults() -> Faults:
        return Faults(seed=42, p_503=0.3, p_429=0.3)

    with WhatCountsEmulator(faults=faults()) as first, WhatCountsEmulator(faults=faults()) as second:
        sequence = status_sequence(first)
        assert status_sequence(second) == sequence
        second.faults.update(seed=42)  # reseeding restarts the sequence
        assert status_sequence(second) == sequence
        second.faults.update(seed=7)
        assert status_sequence(second) != sequence
    assert set(sequence) == {200, 429, 503}


def test_retry_after_is_whole_seconds_within_range_and_can_be_overridden(whatcounts_emulator):
    whatcounts_emulator.faults.update(p_429=1.0, retry_after=(2, 5))
    values = {int(get_lists(whatcounts_emulator).headers["Retry-After"]) for _ in range(20)}
    assert values <= {2, 3, 4, 5}
    whatcounts_emulator.faults.update(p_429=0.0, p_503=1.0)
    assert "Retry-After" not in get_lists(whatcounts_emulator).headers
    whatcounts_emulator.faults.update(retry_after_503=True, retry_after_override="3600")
    response = get_lists(whatcounts_emulator)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "3600")


def test_failing_senders_get_503_while_others_work(subscribed_emulator):
    subscribed_emulator.subscribe("BROKEN", [PHONE])
    subscribed_emulator.faults.update(failing_senders={"BROKEN"})
    assert post_stop(subscribed_emulator, PHONE, "BROKEN").status_code == 503
    assert post_stop(subscribed_emulator, PHONE).status_code == 200
    assert subscribed_emulator.state.is_subscribed("BROKEN", PHONE)


def test_failing_phones_get_503_on_every_sender_until_cleared(subscribed_emulator):
    subscribed_emulator.faults.update(failing_phones={PHONE10})
    assert subscribed_emulator.faults.as_dict()["failing_phones"] == [PHONE]
    assert [post_stop(subscribed_emulator, PHONE).status_code for _ in range(3)] == [503] * 3
    assert subscribed_emulator.state.post_count(SENDER, PHONE) == 3
    subscribed_emulator.faults.update(failing_phones=set())
    assert post_stop(subscribed_emulator, PHONE).status_code == 200


def test_auth_is_checked_before_an_outage(subscribed_emulator):
    subscribed_emulator.faults.update(outage=True)
    assert post_stop(subscribed_emulator, PHONE, auth=(DEMO_CREDENTIALS[0], "wrong")).status_code == 401
    assert post_stop(subscribed_emulator, PHONE).status_code == 503


def test_p_drop_closes_the_connection_before_acting(subscribed_emulator):
    subscribed_emulator.faults.update(p_drop=1.0)
    with pytest.raises(requests.ConnectionError):
        post_stop(subscribed_emulator, PHONE)
    assert subscribed_emulator.state.is_subscribed(SENDER, PHONE)
    assert not subscribed_emulator.state.is_stopped(SENDER, PHONE)
    assert (subscribed_emulator.state.dropped, subscribed_emulator.state.post_count(SENDER, PHONE)) == (1, 1)
    subscribed_emulator.faults.update(p_drop=0.0)
    assert post_stop(subscribed_emulator, PHONE).status_code == 200


def test_p_drop_after_act_stops_the_phone_but_loses_the_answer(subscribed_emulator):
    subscribed_emulator.faults.update(p_drop_after_act=1.0)
    with pytest.raises(requests.ConnectionError):
        post_stop(subscribed_emulator, PHONE)
    assert subscribed_emulator.state.is_stopped(SENDER, PHONE)
    assert subscribed_emulator.state.dropped_after_act == 1
    subscribed_emulator.faults.update(p_drop_after_act=0.0)
    retry = post_stop(subscribed_emulator, PHONE)
    assert (retry.status_code, body(retry)) == (500, NO_SUBSCRIPTION)


def test_latency_delays_api_answers_but_not_the_admin_api(whatcounts_emulator):
    # The lower bound is exact (a real sleep); the upper one leaves 0.9 s for a loaded machine.
    whatcounts_emulator.faults.update(latency=1.0, latency_jitter=0.05, seed=3)
    started = time.perf_counter()
    assert get_lists(whatcounts_emulator).status_code == 200
    assert time.perf_counter() - started >= 0.95
    started = time.perf_counter()
    requests.get(f"{whatcounts_emulator.url}/_admin/state", timeout=5)
    assert time.perf_counter() - started < 0.9
