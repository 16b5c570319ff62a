"""The pooled session: what every request carries, and how a transport failure is said."""

from __future__ import annotations

import pytest
import requests
from urllib3.exceptions import ReadTimeoutError

from tests.helpers import BASIC_TOKEN, PHONE, SENDER, STOP_URL, basic_token
from whatcounts_provider.hooks._session import build_session, describe_transport_error
from whatcounts_provider.hooks.whatcounts import WhatCountsHook

API_CLIENT = "reporting-client:c2VjcmV0"  # apiClientName:apiClientAuth


@pytest.fixture
def settings(use_connection):
    """The default connection's settings, with an API client key and verification off."""
    use_connection(api_key=API_CLIENT, verify=False, timeout=12)
    return WhatCountsHook().settings


def test_every_request_carries_auth_the_api_version_and_the_api_key(settings, requests_mock):
    requests_mock.post(STOP_URL, json={})
    build_session(settings).post(STOP_URL)
    headers = requests_mock.last_request.headers
    assert headers["Authorization"] == f"Basic {BASIC_TOKEN}"
    assert headers["Accept"] == "application/vnd.whatcounts-v1+json"
    assert headers["x-api-key"] == basic_token(*API_CLIENT.split(":"))  # Base64, as WhatCounts documents


def test_without_an_api_client_key_no_key_header_is_sent(requests_mock):
    requests_mock.post(STOP_URL, json={})
    build_session(WhatCountsHook().settings).post(STOP_URL)
    assert "x-api-key" not in requests_mock.last_request.headers


def test_the_session_verifies_as_the_connection_says(settings):
    assert build_session(settings).verify is False


def test_the_session_never_retries_on_its_own(settings):
    adapter = build_session(settings).get_adapter("https://mail.example.com")
    assert adapter.max_retries.total == 0  # the hook's RetryPolicy retries, through the throttle


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (requests.ConnectTimeout(), "timed out after 10 s connecting from https://mail.example.com/rest"),
        (
            requests.ReadTimeout(),
            "timed out after 12 s waiting for the answer from https://mail.example.com/rest",
        ),
        (
            requests.ConnectionError(
                ReadTimeoutError(None, f"/rest/sms/stopSubscriberSend/{PHONE}/{SENDER}", "x")
            ),
            "timed out after 12 s waiting for the answer from https://mail.example.com/rest",
        ),
        (
            requests.ConnectionError(f"refused /rest/sms/{PHONE}"),
            "connection to https://mail.example.com/rest failed (ConnectionError)",
        ),
        (
            requests.exceptions.SSLError("certificate verify failed"),
            "TLS verification failed for https://mail.example.com/rest",
        ),
        (
            requests.exceptions.SSLError("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)"),
            "https://mail.example.com answered in plain HTTP, not TLS: WhatCounts needs https://",
        ),
    ],
    ids=["connect-timeout", "read-timeout", "stalled-body", "refused", "tls", "plain-http"],
)
def test_a_transport_failure_is_said_without_the_path(settings, exc, said):
    text = describe_transport_error(exc, settings)
    assert text.startswith(said)
    assert PHONE not in text
