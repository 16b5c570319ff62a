"""WhatCountsHook error mapping: how each answer of WhatCounts becomes a result or a typed error."""

from __future__ import annotations

import base64

import pytest

from tests.helpers import (
    BASIC_TOKEN,
    MASKED,
    NO_SUBSCRIPTION,
    PASSWORD,
    PHONE,
    REALM,
    SENDER,
    STOP_URL,
    STOPPED,
)
from whatcounts_provider.exceptions import (
    SmsSubscriberNotFoundError,
    WhatCountsApiError,
    WhatCountsAuthError,
)
from whatcounts_provider.hooks.whatcounts import WhatCountsHook

# --- error mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_names_connection_and_realm_never_the_password(hook, requests_mock, status):
    requests_mock.post(STOP_URL, status_code=status, json={"error": f"bad password {PASSWORD}"})
    with pytest.raises(WhatCountsAuthError) as excinfo:
        hook.stop_sms_subscriber(PHONE, SENDER)
    message = str(excinfo.value)
    assert excinfo.value.status_code == status
    assert "'whatcounts_default'" in message
    assert f"'{REALM}'" in message
    assert PASSWORD not in message
    assert BASIC_TOKEN not in message


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_names_the_fields_by_their_form_labels(status):
    from whatcounts_provider.hooks._answers import Reply, parse_answer

    reply = Reply(status, {}, b'{"error": "Unauthorized"}')
    with pytest.raises(WhatCountsAuthError) as plain:
        parse_answer(reply, conn_id="wc", realm="r", secrets=())
    assert str(plain.value).endswith("check Realm (Login) and API password (Password)")
    with pytest.raises(WhatCountsAuthError) as keyed:
        parse_answer(reply, conn_id="wc", realm="r", secrets=(), api_key_set=True)
    assert "API client key (optional) (extra 'api_key'), which is set" in str(keyed.value)


def test_documented_no_subscription_answer(hook, requests_mock):
    requests_mock.post(STOP_URL, status_code=500, json=NO_SUBSCRIPTION)
    with pytest.raises(SmsSubscriberNotFoundError) as excinfo:
        hook.stop_sms_subscriber("206-595-9696", SENDER)
    error = excinfo.value
    assert error.status_code == 500
    assert isinstance(error, WhatCountsApiError)
    assert error.message.startswith("An error occurred processing STOP sends for phone [")
    assert MASKED in str(error)
    assert PHONE not in str(error)
    assert requests_mock.call_count == 1


def test_other_500_text_is_not_taken_for_no_subscription(clock, requests_mock):
    body = {"error": "An error occurred processing the request", "statusCode": 500}
    requests_mock.post(STOP_URL, status_code=500, json=body)
    with pytest.raises(WhatCountsApiError) as excinfo:
        WhatCountsHook(max_retries=1).stop_sms_subscriber(PHONE, SENDER)
    assert type(excinfo.value) is WhatCountsApiError
    assert excinfo.value.message == "An error occurred processing the request (gave up after 2 attempts)"
    assert requests_mock.call_count == 2


@pytest.mark.parametrize(
    ("status", "error_text"),
    [
        (400, "Invalid sender code"),
        (404, "Subscriber not found"),
        (422, "Phone is not a mobile number"),
    ],
    ids=["400", "404", "422"],
)
def test_other_status_carries_whatcounts_error_text(hook, requests_mock, status, error_text):
    body = {"error": error_text, "status": "Bad", "statusCode": status}
    requests_mock.post(STOP_URL, status_code=status, json=body)
    with pytest.raises(WhatCountsApiError) as excinfo:
        hook.stop_sms_subscriber(PHONE, SENDER)
    error = excinfo.value
    assert type(error) is WhatCountsApiError
    assert error.status_code == status
    assert error.message.startswith(error_text)
    assert f"HTTP {status}" in str(error)


def test_404_points_at_the_site_url(hook, requests_mock):
    requests_mock.post(STOP_URL, status_code=404, text="Not Found")
    with pytest.raises(WhatCountsApiError) as excinfo:
        hook.stop_sms_subscriber(PHONE, SENDER)
    message = str(excinfo.value)
    assert "check the Site URL" in message
    assert PHONE not in message, "the path in the hint is masked"


def test_html_error_page_becomes_a_short_sanitised_excerpt(hook, requests_mock):
    other_token = base64.b64encode(b"admin:letmein").decode()
    page = (
        "<!DOCTYPE html><html><head><title>400 Bad Request</title><style>body{color:red}</style></head>"
        f"<body><h1>Bad Request</h1><p>Authorization: Basic {BASIC_TOKEN}</p>"
        f"<p>password={PASSWORD}</p><p>proxy: Basic {other_token}</p>"
        f"<p>{'lorem ipsum ' * 80}</p></body></html>"
    )
    requests_mock.post(STOP_URL, status_code=400, text=page, headers={"Content-Type": "text/html"})
    with pytest.raises(WhatCountsApiError) as excinfo:
        hook.stop_sms_subscriber(PHONE, SENDER)
    error = excinfo.value
    text = str(error)
    assert error.status_code == 400
    assert "HTTP 400" in text
    assert "Bad Request" in error.message
    assert "<" not in error.message
    assert ">" not in error.message
    assert len(error.message) <= 200
    assert PASSWORD not in text
    assert BASIC_TOKEN not in text
    assert other_token not in text
    assert "Basic ***" in text


def test_empty_error_body_is_described(hook, requests_mock):
    requests_mock.post(STOP_URL, status_code=400, text="")
    with pytest.raises(WhatCountsApiError, match="empty body"):
        hook.stop_sms_subscriber(PHONE, SENDER)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html; charset=utf-8", "<html><body>Welcome to the login page</body></html>"),
        ("text/plain", "OK"),
    ],
    ids=["html", "plain"],
)
def test_success_status_without_json_is_an_error(hook, requests_mock, content_type, body):
    requests_mock.post(STOP_URL, status_code=200, text=body, headers={"Content-Type": content_type})
    with pytest.raises(WhatCountsApiError) as excinfo:
        hook.stop_sms_subscriber(PHONE, SENDER)
    assert excinfo.value.status_code == 200
    assert "expected a JSON answer" in str(excinfo.value)
    assert content_type.split(";")[0] in str(excinfo.value)
    assert requests_mock.call_count == 1


def test_success_status_with_json_that_is_not_an_object_is_an_error(hook, requests_mock):
    requests_mock.post(STOP_URL, status_code=200, json=[STOPPED])
    with pytest.raises(WhatCountsApiError, match="expected a JSON object"):
        hook.stop_sms_subscriber(PHONE, SENDER)
