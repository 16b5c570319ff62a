"""The emulator's state: subscriptions, stops, counters and the request log, as a test reads them."""

from __future__ import annotations

import json
import time

import pytest

from tests.helpers import PHONE, SENDER
from tests.testing.emulator_client import PHONE10, get_lists, post_stop
from whatcounts_provider.testing.emulator import DEMO_CREDENTIALS, WhatCountsEmulator
from whatcounts_provider.testing.emulator.api import Endpoint
from whatcounts_provider.testing.emulator.state import EmulatorState, NoAnswer

OTHER_PHONE = "12065959697"


@pytest.fixture
def empty_state() -> EmulatorState:
    """The state of a fresh emulator with the demo credentials: nothing subscribed, nothing counted."""
    return EmulatorState(*DEMO_CREDENTIALS)


def test_a_subscribed_phone_is_stopped_once_with_a_record(empty_state):
    state = empty_state
    assert state.subscribe(SENDER, [PHONE10]) == [PHONE]  # stored as WhatCounts writes it
    record = state.stop(SENDER, PHONE)
    assert record is not None
    assert (record["phone"], record["realmId"]) == (PHONE, 10)
    assert state.stopped[SENDER][PHONE] == record
    assert (state.is_subscribed(SENDER, PHONE), state.is_stopped(SENDER, PHONE)) == (False, True)
    assert state.stop(SENDER, PHONE) is None  # a second STOP finds no subscription


def test_a_phone_subscribed_to_another_code_is_not_stopped_here(empty_state):
    state = empty_state
    state.subscribe("88555", [PHONE])
    assert state.stop(SENDER, PHONE) is None
    assert state.is_subscribed("88555", PHONE)


def test_reset_forgets_everything(empty_state):
    state = empty_state
    state.subscribe(SENDER, [PHONE])
    state.stop(SENDER, PHONE)
    state.reset()
    assert (state.is_subscribed(SENDER, PHONE), state.is_stopped(SENDER, PHONE)) == (False, False)
    assert state.post_count(SENDER, PHONE) == 0


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ([PHONE10], [PHONE]),
        (PHONE10, [PHONE]),  # one phone need not be a list
        (int(PHONE10), [PHONE]),
        ([PHONE, OTHER_PHONE], [PHONE, OTHER_PHONE]),
        (["442071838750"], ["442071838750"]),  # not 10 digits: kept as given
    ],
    ids=["10-digits", "one-str", "one-int", "11-digits", "international"],
)
def test_subscribe_returns_the_phones_as_whatcounts_writes_them(empty_state, given, stored):
    assert empty_state.subscribe(SENDER, given) == stored
    assert all(empty_state.is_subscribed(SENDER, phone) for phone in stored)


@pytest.mark.parametrize(
    "bad", ["+12065959696", "206-595-9696", "", "1" * 16], ids=["plus", "dashes", "empty", "16-digits"]
)
def test_a_phone_that_is_not_digits_refuses_the_whole_subscription(empty_state, bad):
    with pytest.raises(ValueError, match="digits only"):
        empty_state.subscribe(SENDER, [PHONE, bad])
    assert not empty_state.is_subscribed(SENDER, PHONE)
    assert empty_state.subscriptions == {}


def test_is_subscribed_and_is_stopped_read_a_phone_in_either_form(empty_state):
    state = empty_state
    state.subscribe(SENDER, [PHONE])
    assert state.is_subscribed(SENDER, PHONE10)
    assert state.is_subscribed(SENDER, int(PHONE10))
    assert not state.is_subscribed("88555", PHONE)
    assert not state.is_subscribed(SENDER, "not-a-phone")  # no error: simply not subscribed
    state.stop(SENDER, PHONE)
    assert state.is_stopped(SENDER, PHONE10)
    assert not state.is_stopped("88555", PHONE)


def test_a_stopped_phone_subscribed_again_can_be_stopped_again_as_a_new_subscription(empty_state):
    state = empty_state
    state.subscribe(SENDER, [PHONE])
    first = state.stop(SENDER, PHONE)
    state.subscribe(SENDER, [PHONE])
    assert state.is_subscribed(SENDER, PHONE)
    second = state.stop(SENDER, PHONE)
    assert first is not None
    assert second is not None
    assert second["id"] == first["id"] + 1
    assert second["smsSubscriberId"] != first["smsSubscriberId"]
    assert second["smsSenderId"] == first["smsSenderId"]
    assert state.stopped[SENDER][PHONE] == second


def test_record_counts_stop_posts_answers_and_requests_without_an_answer(empty_state):
    state = empty_state
    state.record("POST", Endpoint.STOP, SENDER, PHONE, 200)
    state.record("POST", Endpoint.STOP, SENDER, PHONE, NoAnswer.DROPPED)
    state.record("POST", Endpoint.STOP, SENDER, PHONE, NoAnswer.DROPPED_AFTER_ACT)
    state.record("POST", Endpoint.STOP, SENDER, PHONE, NoAnswer.HUNG)
    state.record("GET", Endpoint.STOP, SENDER, PHONE, 405)  # not a stop POST: no post counted
    state.record("GET", Endpoint.LISTS, None, None, 200)
    assert state.post_count(SENDER, PHONE) == 4
    assert state.post_count(SENDER, PHONE10) == 4
    assert (state.requests_total, state.dropped, state.dropped_after_act) == (6, 1, 1)
    assert [record.status for record in state.requests] == [200, None, None, None, 405, 200]
    counters = state.snapshot()["counters"]
    assert counters["by_status"] == {"200": 2, "405": 1}
    assert counters["by_endpoint"] == {"lists": 1, "stop": 5}


def test_snapshot_is_json_with_phones_sorted_per_sender_code(empty_state):
    state = empty_state
    state.subscribe(SENDER, [OTHER_PHONE, PHONE])
    state.subscribe("88555", [PHONE])
    state.stop("88555", PHONE)
    state.record("POST", Endpoint.STOP, "88555", PHONE, 200)
    state.connection_opened()
    snapshot = json.loads(json.dumps(state.snapshot()))
    assert snapshot["realm"] == DEMO_CREDENTIALS[0]
    assert snapshot["subscribed"] == {"88555": [], SENDER: [PHONE, OTHER_PHONE]}
    assert snapshot["stopped"] == {"88555": [PHONE]}
    assert snapshot["counters"]["posts"] == {"88555": {PHONE: 1}}
    assert snapshot["counters"]["connections"] == 1


def test_post_count_counts_every_post_per_phone_whatever_its_outcome(subscribed_emulator):
    subscribed_emulator.subscribe(SENDER, ["12065959697"])
    for _ in range(3):
        post_stop(subscribed_emulator, PHONE)
    post_stop(subscribed_emulator, "12065959697")
    post_stop(subscribed_emulator, PHONE, auth=None)
    get_lists(subscribed_emulator)
    assert subscribed_emulator.state.post_count(SENDER, PHONE) == 4
    assert subscribed_emulator.state.post_count(SENDER, PHONE10) == 4
    assert subscribed_emulator.state.post_count(SENDER, "12065959697") == 1
    assert subscribed_emulator.state.post_count("OTHER", PHONE) == 0
    counters = subscribed_emulator.state.snapshot()["counters"]
    assert counters["by_status"] == {"200": 3, "401": 1, "500": 2}
    assert counters["by_endpoint"] == {"lists": 1, "stop": 5}


def test_request_log_records_each_api_request_in_order(subscribed_emulator):
    post_stop(subscribed_emulator, PHONE)
    get_lists(subscribed_emulator)
    log = subscribed_emulator.state.requests
    assert [(r.method, r.endpoint, r.sender, r.phone, r.status) for r in log] == [
        ("POST", "stop", SENDER, PHONE, 200),
        ("GET", "lists", None, None, 200),
    ]
    assert log[0].timestamp <= log[1].timestamp <= time.monotonic()


def test_request_log_can_be_turned_off():
    with WhatCountsEmulator(record_requests=False) as emulator:
        get_lists(emulator)
        assert emulator.state.requests == []
        assert emulator.state.requests_total == 1
