"""The emulator's state: subscriptions, stops and counters, as a test reads them."""

from __future__ import annotations

from tests.helpers import PHONE, SENDER
from whatcounts_provider.testing.emulator.state import EmulatorState


def fresh() -> EmulatorState:
    return EmulatorState("realm", "password")


def test_a_subscribed_phone_is_stopped_once_with_a_record():
    state = fresh()
    assert state.subscribe(SENDER, ["2065959696"]) == [PHONE]  # stored as WhatCounts writes it
    record = state.stop(SENDER, PHONE)
    assert record is not None
    assert (record["phone"], record["realmId"]) == (PHONE, 10)
    assert state.stopped[SENDER][PHONE] == record
    assert (state.is_subscribed(SENDER, PHONE), state.is_stopped(SENDER, PHONE)) == (False, True)
    assert state.stop(SENDER, PHONE) is None  # a second STOP finds no subscription


def test_a_phone_subscribed_to_another_code_is_not_stopped_here():
    state = fresh()
    state.subscribe("88555", [PHONE])
    assert state.stop(SENDER, PHONE) is None
    assert state.is_subscribed("88555", PHONE)


def test_reset_forgets_everything():
    state = fresh()
    state.subscribe(SENDER, [PHONE])
    state.stop(SENDER, PHONE)
    state.reset()
    assert (state.is_subscribed(SENDER, PHONE), state.is_stopped(SENDER, PHONE)) == (False, False)
    assert state.post_count(SENDER, PHONE) == 0
