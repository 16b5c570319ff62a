"""The single stop's outcome (what StopSmsSubscriberOperator returns) and the public outcome type."""

from __future__ import annotations

import json

import pytest

from tests.helpers import NO_SUBSCRIPTION, STOP_URL
from whatcounts_provider.exceptions import (
    InvalidPhoneNumberError,
    InvalidSenderCodeError,
    SmsSubscriberNotFoundError,
)
from whatcounts_provider.hooks.whatcounts import WhatCountsHook
from whatcounts_provider.types import Row, StopOutcome, WhatCountsSettings, json_safe

URL = STOP_URL


@pytest.fixture
def outcome_realm_connection(use_connection, fast_retries: None) -> None:
    use_connection(uri="whatcounts://outcome-realm:outcome-pw@mail.example.com")


def test_the_outcome_carries_the_normalised_pair_and_the_attempts(outcome_realm_connection, requests_mock):
    requests_mock.post(URL, [{"status_code": 503, "json": {}}, {"json": {"id": 7}}])
    outcome = WhatCountsHook().stop_sms_subscriber_outcome("+1 (206) 595-9696", 2065551212)
    assert outcome == StopOutcome(
        Row(1, "+1 (206) 595-9696", "+1 (206) 595-9696", 2065551212),
        "stopped",
        phone="12065959696",
        response={"id": 7},
        sender_code="2065551212",
        attempts=2,
    )
    assert (outcome.input, outcome.index) == ("+1 (206) 595-9696", 0)
    assert requests_mock.call_count == 2


def test_no_subscription_is_an_outcome_or_an_error(outcome_realm_connection, requests_mock):
    requests_mock.post(URL, status_code=500, json=NO_SUBSCRIPTION)
    outcome = WhatCountsHook().stop_sms_subscriber_outcome("2065959696", "2065551212")
    assert (outcome.status, outcome.phone, outcome.response, outcome.attempts) == (
        "not_subscribed",
        "12065959696",
        None,
        1,
    )
    with pytest.raises(SmsSubscriberNotFoundError):
        WhatCountsHook().stop_sms_subscriber_outcome("2065959696", "2065551212", missing_ok=False)


@pytest.mark.parametrize(
    ("phone", "code", "error"),
    [("12345", "2065551212", InvalidPhoneNumberError), ("2065959696", "a/b", InvalidSenderCodeError)],
)
def test_invalid_input_raises_and_sends_nothing(outcome_realm_connection, requests_mock, phone, code, error):
    with pytest.raises(error):
        WhatCountsHook().stop_sms_subscriber_outcome(phone, code)
    assert requests_mock.call_count == 0


def test_the_settings_type_is_public(outcome_realm_connection):
    settings = WhatCountsHook().settings
    assert isinstance(settings, WhatCountsSettings)
    assert settings.password not in repr(settings)


def test_as_dict_has_the_receipt_keys_and_dumps():
    row = Row(4, json_safe({1: {2}}), None, "A1", error="bad")
    outcome = StopOutcome(row, "invalid", error="bad", sender_code="A1")
    record = outcome.as_dict()
    assert list(record) == [
        "index",
        "input",
        "phone",
        "sender_code",
        "status",
        "error",
        "response",
        "attempts",
    ]
    assert json.loads(json.dumps(record)) == {**record, "input": {"1": "{2}"}}
