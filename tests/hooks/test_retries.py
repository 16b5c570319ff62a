"""WhatCountsHook retries against requests-mock: what is retried, how often and how long, transport errors."""

from __future__ import annotations

import traceback

import pytest
import requests
from urllib3.exceptions import ReadTimeoutError

from tests.helpers import (
    MASKED,
    NO_SUBSCRIPTION,
    PHONE,
    REAL_CONNECTION_ERROR,
    SENDER,
    STOP_URL,
    STOPPED,
    answer,
)
from whatcounts_provider.exceptions import (
    SmsSubscriberNotFoundError,
    WhatCountsApiError,
    WhatCountsAuthError,
    WhatCountsTransportError,
)
from whatcounts_provider.hooks.whatcounts import WhatCountsHook

# --- retries ---------------------------------------------------------------------------------


def test_two_503s_then_success_takes_three_calls(hook, requests_mock):
    requests_mock.post(STOP_URL, [answer(503), answer(503), answer(200, STOPPED)])
    assert hook.stop_sms_subscriber(PHONE, SENDER) == STOPPED
    assert requests_mock.call_count == 3
    assert hook.retries == 2


@pytest.mark.parametrize(
    "first",
    [
        answer(429),
        answer(500, {"error": "java.lang.NullPointerException", "statusCode": 500}),
        answer(500, "<html><body>Internal Server Error</body></html>"),
        answer(502, "<html>Bad Gateway</html>"),
        answer(503),
        answer(504, "Gateway Timeout"),
    ],
    ids=["429", "plain-500-json", "plain-500-html", "502", "503", "504"],
)
def test_transient_status_is_retried(hook, requests_mock, first):
    requests_mock.post(STOP_URL, [first, answer(200, STOPPED)])
    assert hook.stop_sms_subscriber(PHONE, SENDER) == STOPPED
    assert requests_mock.call_count == 2
    assert hook.retries == 1


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (answer(500, NO_SUBSCRIPTION), SmsSubscriberNotFoundError),
        (answer(400, {"error": "Bad sender code", "statusCode": 400}), WhatCountsApiError),
        (answer(401, {"error": "Unauthorized"}), WhatCountsAuthError),
        (answer(403, {"error": "Forbidden"}), WhatCountsAuthError),
        (answer(404, {"error": "Not Found"}), WhatCountsApiError),
        (answer(409, {"error": "Conflict"}), WhatCountsApiError),
    ],
    ids=["no-subscription-500", "400", "401", "403", "404", "409"],
)
def test_permanent_answer_is_requested_exactly_once(hook, requests_mock, response, error):
    requests_mock.post(STOP_URL, [response, answer(200, STOPPED)])
    with pytest.raises(error):
        hook.stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.call_count == 1
    assert hook.retries == 0


@pytest.mark.parametrize("max_retries", [0, 1, 3, 20])
def test_max_retries_bounds_the_calls(clock, requests_mock, max_retries):
    requests_mock.post(STOP_URL, status_code=503, json={"error": "Service Unavailable"})
    # Off: with 20 retries one pair's own failures would open the breaker (see test_breaker.py).
    hook = WhatCountsHook(max_retries=max_retries, breaker_failures=0)
    with pytest.raises(WhatCountsApiError) as excinfo:
        hook.stop_sms_subscriber(PHONE, SENDER)
    assert excinfo.value.status_code == 503
    gave_up = f" (gave up after {max_retries + 1} attempts)" if max_retries else ""
    assert excinfo.value.message == "Service Unavailable" + gave_up
    assert requests_mock.call_count == max_retries + 1
    assert hook.retries == max_retries


def test_permanent_answer_after_a_retry_does_not_claim_retries_ran_out(hook, requests_mock):
    requests_mock.post(STOP_URL, [answer(503), answer(400, {"error": "Invalid sender code"})])
    with pytest.raises(WhatCountsApiError) as excinfo:
        hook.stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.call_count == 2
    assert excinfo.value.status_code == 400
    assert excinfo.value.message == "Invalid sender code"


def test_max_retries_extra_bounds_the_calls(use_connection, clock, requests_mock):
    use_connection(max_retries="2")
    requests_mock.post(STOP_URL, status_code=502, text="Bad Gateway")
    with pytest.raises(WhatCountsApiError):
        WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.call_count == 3


def test_default_is_five_retries(hook, requests_mock):
    requests_mock.post(STOP_URL, status_code=503, json={})
    with pytest.raises(WhatCountsApiError):
        hook.stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.call_count == 6


def test_backoff_grows_exponentially_with_jitter(clock, requests_mock):
    requests_mock.post(STOP_URL, status_code=503, json={})
    hook = WhatCountsHook(max_retries=4)
    with pytest.raises(WhatCountsApiError):
        hook.stop_sms_subscriber(PHONE, SENDER)
    initial = hook.settings.retry_backoff_initial
    assert len(clock.sleeps) == 4
    for attempt, slept in enumerate(clock.sleeps):
        base = initial * 2**attempt
        assert base <= slept <= base + initial


def test_backoff_is_capped(clock, requests_mock):
    requests_mock.post(STOP_URL, status_code=503, json={})
    hook = WhatCountsHook(max_retries=12)
    with pytest.raises(WhatCountsApiError):
        hook.stop_sms_subscriber(PHONE, SENDER)
    settings = hook.settings
    assert max(clock.sleeps) <= settings.retry_backoff_max + settings.retry_backoff_initial
    assert max(clock.sleeps) >= settings.retry_backoff_max


def test_retry_after_is_honoured(hook, clock, requests_mock):
    requests_mock.post(STOP_URL, [answer(429, {}, **{"Retry-After": "7"}), answer(200, STOPPED)])
    assert hook.stop_sms_subscriber(PHONE, SENDER) == STOPPED
    assert clock.sleeps == [7.0]
    assert requests_mock.call_count == 2


def test_retry_after_on_503_is_honoured(hook, clock, requests_mock):
    requests_mock.post(STOP_URL, [answer(503, {}, **{"Retry-After": "2"}), answer(200, STOPPED)])
    hook.stop_sms_subscriber(PHONE, SENDER)
    assert clock.sleeps == [2.0]


def test_huge_retry_after_is_capped_and_the_cap_logged(hook, clock, requests_mock, log_text):
    requests_mock.post(STOP_URL, [answer(429, {}, **{"Retry-After": "3600"}), answer(200, STOPPED)])
    assert hook.stop_sms_subscriber(PHONE, SENDER) == STOPPED
    assert hook.settings.retry_after_max == 60.0
    assert clock.sleeps == [60.0]
    assert "Retry-After 3600 s capped to 60 s" in log_text()


def test_retry_after_cap_is_configurable_per_hook(clock, requests_mock, log_text):
    hook = WhatCountsHook(retry_after_max=5)
    requests_mock.post(STOP_URL, [answer(429, {}, **{"Retry-After": "120"}), answer(200, STOPPED)])
    hook.stop_sms_subscriber(PHONE, SENDER)
    assert clock.sleeps == [5.0]
    assert "capped to 5 s" in log_text()


def test_invalid_retry_after_falls_back_to_backoff(hook, clock, requests_mock):
    requests_mock.post(STOP_URL, [answer(429, {}, **{"Retry-After": "soon"}), answer(200, STOPPED)])
    hook.stop_sms_subscriber(PHONE, SENDER)
    (slept,) = clock.sleeps
    assert slept <= 2 * hook.settings.retry_backoff_initial


def test_retries_are_counted_across_calls(hook, requests_mock):
    requests_mock.post(
        STOP_URL, [answer(503), answer(200, STOPPED), answer(502), answer(504), answer(200, STOPPED)]
    )
    hook.stop_sms_subscriber(PHONE, SENDER)
    assert hook.retries == 1
    hook.stop_sms_subscriber(PHONE, SENDER)
    assert hook.retries == 3
    assert requests_mock.call_count == 5


# --- transport errors ------------------------------------------------------------------------


def test_connection_error_is_retried_then_raised(hook, requests_mock):
    requests_mock.post(STOP_URL, exc=REAL_CONNECTION_ERROR)
    with pytest.raises(WhatCountsTransportError) as excinfo:
        hook.stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.call_count == 6
    assert hook.retries == 5
    message = str(excinfo.value)
    assert "connection to https://mail.example.com/rest failed" in message
    assert "after 6 attempt(s)" in message
    assert MASKED in message


def test_connection_error_then_success(hook, requests_mock):
    requests_mock.post(STOP_URL, [{"exc": requests.exceptions.ConnectionError}, answer(200, STOPPED)])
    assert hook.stop_sms_subscriber(PHONE, SENDER) == STOPPED
    assert requests_mock.call_count == 2


def test_transport_error_traceback_hides_the_phone(hook, requests_mock):
    """The requests exception names the URL path (the phone); the chained traceback must not show it."""
    requests_mock.post(STOP_URL, exc=REAL_CONNECTION_ERROR)
    with pytest.raises(WhatCountsTransportError) as excinfo:
        hook.stop_sms_subscriber(PHONE, SENDER)
    rendered = "".join(traceback.format_exception(excinfo.value))
    assert PHONE not in rendered
    assert PHONE[1:] not in rendered


@pytest.mark.parametrize(
    ("exc", "fragment"),
    [
        (requests.exceptions.ConnectTimeout, "timed out after 10 s connecting"),
        (requests.exceptions.ReadTimeout, "timed out after 30 s waiting for the answer"),
        (
            requests.exceptions.ConnectionError(
                ReadTimeoutError(None, f"/rest/sms/stopSubscriberSend/{PHONE}/{SENDER}", "Read timed out.")
            ),
            "timed out after 30 s waiting for the answer",
        ),
    ],
    ids=["connect-timeout", "read-timeout", "stalled-body"],
)
def test_timeouts_say_timed_out_and_name_the_site_not_the_phone(hook, requests_mock, exc, fragment):
    requests_mock.post(STOP_URL, exc=exc)
    with pytest.raises(WhatCountsTransportError) as excinfo:
        hook.stop_sms_subscriber(PHONE, SENDER)
    message = str(excinfo.value)
    assert fragment in message
    assert "https://mail.example.com/rest" in message
    assert PHONE not in message
    assert PHONE[1:] not in message
    assert requests_mock.call_count == 6, "timeouts are transient: retried"


def test_read_timeout_message_uses_the_configured_timeout(clock, requests_mock):
    requests_mock.post(STOP_URL, exc=requests.exceptions.ReadTimeout)
    with pytest.raises(WhatCountsTransportError, match=r"timed out after 2\.5 s"):
        WhatCountsHook(timeout=2.5, max_retries=0).stop_sms_subscriber(PHONE, SENDER)
