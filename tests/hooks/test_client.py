"""The request path: one stop request, its answer, network failures and what they say."""

from __future__ import annotations

import pytest
import requests

from tests.helpers import MASKED, NO_SUBSCRIPTION, PHONE, SENDER, STOP_URL
from whatcounts_provider.exceptions import (
    SmsSubscriberNotFoundError,
    WhatCountsApiError,
    WhatCountsCancelledError,
    WhatCountsTransportError,
)
from whatcounts_provider.hooks._client import stop_label, transient
from whatcounts_provider.hooks._retry import Tally
from whatcounts_provider.hooks.whatcounts import WhatCountsHook


@pytest.fixture
def client(use_connection, fast_retries):
    """The default connection's request path, with 1 retry."""
    use_connection(max_retries=1)
    return WhatCountsHook()._client


def test_a_stop_posts_the_pair_and_returns_the_record(client, requests_mock):
    requests_mock.post(STOP_URL, json={"id": 7})
    tally = Tally()
    assert client.stop(PHONE, SENDER, throttle=client.throttle(), tally=tally) == {"id": 7}
    assert (requests_mock.last_request.method, tally.attempts) == ("POST", 1)


def test_no_subscription_is_its_own_error(client, requests_mock):
    requests_mock.post(STOP_URL, status_code=500, json=NO_SUBSCRIPTION)
    with pytest.raises(SmsSubscriberNotFoundError) as error:
        client.stop(PHONE, SENDER, throttle=client.throttle(), tally=Tally())
    assert PHONE not in str(error.value)


def test_an_answer_that_is_not_an_object_is_an_api_error(client, requests_mock):
    requests_mock.post(STOP_URL, json=[1, 2])
    with pytest.raises(WhatCountsApiError, match="expected a JSON object, got list"):
        client.stop(PHONE, SENDER, throttle=client.throttle(), tally=Tally())


def test_a_network_failure_after_the_last_attempt_names_the_site_not_the_phone(client, requests_mock):
    requests_mock.post(
        STOP_URL, exc=requests.ConnectTimeout("to https://mail.example.com/rest/... 12065959696")
    )
    tally = Tally()
    with pytest.raises(WhatCountsTransportError) as error:
        client.stop(PHONE, SENDER, throttle=client.throttle(), tally=tally)
    assert str(error.value) == (
        f"STOP for phone {MASKED} on sender code {SENDER}: timed out after 10 s connecting from "
        "https://mail.example.com/rest after 2 attempt(s)"
    )
    assert tally.attempts == 2


def test_a_cancelled_client_sends_nothing(client, requests_mock):
    client.cancelled.set()
    with pytest.raises(WhatCountsCancelledError, match="cancelled before it was sent"):
        client.stop(PHONE, SENDER, throttle=client.throttle(), tally=Tally())
    assert requests_mock.call_count == 0


@pytest.mark.parametrize(
    ("exc", "permanent"),
    [
        (requests.ConnectionError("refused"), False),
        (requests.ReadTimeout(), False),
        (requests.exceptions.SSLError("bad certificate"), True),
    ],
)
def test_only_a_tls_failure_is_permanent(exc, permanent):
    error = transient(exc)
    assert (error.cause, error.permanent) == (exc, permanent)


def test_the_label_masks_the_phone():
    assert stop_label(PHONE, SENDER) == f"STOP for phone {MASKED} on sender code {SENDER}"
