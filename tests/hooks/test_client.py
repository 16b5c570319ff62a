"""The request path: one stop request, its answer, network failures and what they say."""

from __future__ import annotations

import re

import pytest
import requests

from tests.helpers import LISTS_URL, MASKED, NO_SUBSCRIPTION, PASSWORD, PHONE, SENDER, SITE, STOP_URL
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
        "https://mail.example.com/rest; gave up after 2 attempt(s)"
    )
    assert tally.attempts == 2


def test_a_network_failure_then_an_answer_is_one_stop_of_two_attempts(client, requests_mock):
    requests_mock.post(STOP_URL, [{"exc": requests.ConnectionError("reset")}, {"json": {"id": 7}}])
    tally = Tally()
    assert client.stop(PHONE, SENDER, throttle=client.throttle(), tally=tally) == {"id": 7}
    assert tally.attempts == 2


def test_a_tls_failure_is_sent_once_and_said_as_such(client, requests_mock):
    requests_mock.post(STOP_URL, exc=requests.exceptions.SSLError("certificate verify failed"))
    tally = Tally()
    with pytest.raises(
        WhatCountsTransportError, match=f"TLS verification failed for {re.escape(SITE)}"
    ) as error:
        client.stop(PHONE, SENDER, throttle=client.throttle(), tally=tally)
    assert tally.attempts == 1
    assert str(error.value).endswith("point the connection's 'verify' extra at your CA bundle"), (
        "one attempt: no count dangles after the advice"
    )


def test_the_attempts_argument_overrides_the_connection_budget(client, requests_mock):
    requests_mock.get(LISTS_URL, exc=requests.ConnectionError("refused"))
    with pytest.raises(WhatCountsTransportError) as error:
        client.call("GET", "/lists", label=lambda: "list check", attempts=1)
    assert requests_mock.call_count == 1
    assert str(error.value) == f"list check: connection to {SITE}/rest failed (ConnectionError)"


def test_a_401_names_the_api_client_key_when_one_is_set(use_connection, requests_mock):
    """WhatCounts refuses an unknown x-api-key as it refuses a wrong password: both are named."""
    from whatcounts_provider.exceptions import WhatCountsAuthError

    use_connection(api_key="reporting:s3cret-auth")
    requests_mock.post(STOP_URL, status_code=401, json={"error": "Unauthorized"})
    with pytest.raises(WhatCountsAuthError) as error:
        WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)
    message = str(error.value)
    assert (
        "check Realm (Login), API password (Password) and API client key (optional) (extra 'api_key')"
        in message
    )
    assert "s3cret-auth" not in message
    assert "reporting" not in message


def test_a_401_without_an_api_client_key_names_realm_and_password_only(client, requests_mock):
    from whatcounts_provider.exceptions import WhatCountsAuthError

    requests_mock.post(STOP_URL, status_code=401, json={"error": "Unauthorized"})
    with pytest.raises(WhatCountsAuthError) as error:
        client.stop(PHONE, SENDER, throttle=client.throttle(), tally=Tally())
    assert str(error.value).endswith("check Realm (Login) and API password (Password)")
    assert "api_key" not in str(error.value)


def test_an_error_answer_never_echoes_the_password(client, requests_mock):
    requests_mock.post(STOP_URL, status_code=400, text=f"bad request for password {PASSWORD}")
    with pytest.raises(WhatCountsApiError) as error:
        client.stop(PHONE, SENDER, throttle=client.throttle(), tally=Tally())
    assert PASSWORD not in str(error.value)


def test_the_connections_verify_beats_the_environments_ca_bundle(use_connection, requests_mock, monkeypatch):
    """requests would let REQUESTS_CA_BUNDLE override a session's verify: it is sent per request."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/elsewhere.pem")
    use_connection(verify=False)
    requests_mock.post(STOP_URL, json={"id": 7})
    client = WhatCountsHook()._client
    client.stop(PHONE, SENDER, throttle=client.throttle(), tally=Tally())
    assert requests_mock.last_request.verify is False


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
