"""WhatCountsHook against requests-mock: the request on the wire, input checks, test_connection, logs."""

from __future__ import annotations

import pytest
import requests
from requests_mock import ANY

from tests.helpers import (
    BASIC_TOKEN,
    LISTS_URL,
    MASKED,
    NO_SUBSCRIPTION,
    PASSWORD,
    PHONE,
    REAL_CONNECTION_ERROR,
    REALM,
    REST,
    SENDER,
    STOP_URL,
    STOPPED,
    answer,
)
from whatcounts_provider import __version__
from whatcounts_provider.exceptions import (
    InvalidPhoneNumberError,
    InvalidSenderCodeError,
    SmsSubscriberNotFoundError,
    WhatCountsApiError,
    WhatCountsAuthError,
    WhatCountsConfigError,
)
from whatcounts_provider.hooks.whatcounts import WhatCountsHook

# --- the request on the wire -----------------------------------------------------------------


def test_stop_returns_whatcounts_record(hook, requests_mock):
    requests_mock.post(STOP_URL, json=STOPPED)
    assert hook.stop_sms_subscriber("+1 (206) 595-9696", SENDER) == STOPPED
    assert requests_mock.call_count == 1


@pytest.mark.parametrize(
    ("phone", "sender_code", "path"),
    [
        ("206-595-9696", "2065551212", "/sms/stopSubscriberSend/12065959696/2065551212"),
        (2065959696, 12345, "/sms/stopSubscriberSend/12065959696/12345"),
        ("tel:+44-20-7946-0958", "ACME", "/sms/stopSubscriberSend/442079460958/ACME"),
        (
            "\uff12\uff10\uff16\uff15\uff19\uff15\uff19\uff16\uff19\uff16",
            "Acme2",
            "/sms/stopSubscriberSend/12065959696/Acme2",
        ),
    ],
    ids=["dashed-long-code", "ints-short-code", "tel-uri-alphanumeric", "full-width-digits"],
)
def test_request_url_is_exact_and_needs_no_escaping(hook, requests_mock, phone, sender_code, path):
    requests_mock.post(REST + path, json=STOPPED)
    hook.stop_sms_subscriber(phone, sender_code)
    sent = requests_mock.last_request
    assert sent.method == "POST"
    assert sent.url == REST + path
    assert "%" not in sent.url, "normalised phones and codes are plain ASCII path segments"
    assert sent.body is None, "the API takes no body"


def test_path_prefix_of_the_site_url_is_kept(use_connection, clock, requests_mock):
    use_connection(host="https://mail.example.com/wc/")
    url = f"https://mail.example.com/wc/rest/sms/stopSubscriberSend/{PHONE}/{SENDER}"
    requests_mock.post(url, json=STOPPED)
    WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.last_request.url == url


def test_headers_and_basic_auth(hook, requests_mock):
    requests_mock.post(STOP_URL, json=STOPPED)
    hook.stop_sms_subscriber(PHONE, SENDER)
    headers = requests_mock.last_request.headers
    assert headers["Accept"] == "application/vnd.whatcounts-v1+json"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith(f"airflow-provider-whatcounts/{__version__} ")
    assert headers["Authorization"] == f"Basic {BASIC_TOKEN}"


def test_api_version_extra_changes_the_accept_header(use_connection, clock, requests_mock):
    use_connection(api_version="v2")
    requests_mock.post(STOP_URL, json=STOPPED)
    WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.last_request.headers["Accept"] == "application/vnd.whatcounts-v2+json"


@pytest.mark.parametrize(
    ("extras", "hook_timeout", "expected"),
    [
        ({}, None, (10.0, 30.0)),
        ({"timeout": "12"}, None, (10.0, 12.0)),
        ({"timeout": "12"}, 4.5, (10.0, 4.5)),
        ({}, 7, (10.0, 7.0)),
    ],
    ids=["default", "extra", "argument-over-extra", "argument"],
)
def test_connect_and_read_timeouts_are_sent(
    use_connection, clock, requests_mock, extras, hook_timeout, expected
):
    use_connection(**extras)
    requests_mock.post(STOP_URL, json=STOPPED)
    WhatCountsHook(timeout=hook_timeout).stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.last_request.timeout == expected


def test_get_conn_returns_one_authenticated_pooled_session(hook):
    session = hook.get_conn()
    assert hook.get_conn() is session
    assert isinstance(session, requests.Session)
    assert session.auth == (REALM, PASSWORD)
    assert session.verify is True
    for prefix in ("https://", "http://"):
        adapter = session.adapters[prefix]
        assert adapter._pool_maxsize == 64, "room for the largest allowed worker count"
        assert adapter._pool_block is True
        assert adapter.max_retries.total == 0, "retries happen in the hook, not in urllib3"


def test_a_bulk_run_uses_the_session_as_built(hook, requests_mock):
    requests_mock.post(STOP_URL, json=STOPPED)
    session = hook.get_conn()
    adapter = session.adapters["https://"]
    list(hook.stop_sms_subscribers([PHONE], SENDER, max_workers=64))
    assert hook.get_conn() is session
    assert session.adapters["https://"] is adapter, "no adapter is swapped at run time"


def test_verify_false_is_sent_and_warned_about(
    use_connection, clock, requests_mock, log_text, no_ca_bundle_env
):
    use_connection(verify="false")
    requests_mock.post(STOP_URL, json=STOPPED)
    WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.last_request.verify is False
    assert "TLS certificate verification is OFF" in log_text()


def test_verify_ca_bundle_path_is_sent(use_connection, clock, requests_mock, tmp_path, no_ca_bundle_env):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    use_connection(verify=str(bundle))
    requests_mock.post(STOP_URL, json=STOPPED)
    WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.last_request.verify == str(bundle)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_not_followed(hook, requests_mock, status):
    requests_mock.post(STOP_URL, status_code=status, headers={"Location": "https://login.example.com/sso"})
    requests_mock.register_uri(ANY, "https://login.example.com/sso", json=STOPPED)
    with pytest.raises(WhatCountsApiError) as excinfo:
        hook.stop_sms_subscriber(PHONE, SENDER)
    assert excinfo.value.status_code == status
    assert "Site URL" in str(excinfo.value)
    assert "https://login.example.com/sso" in str(excinfo.value)
    assert requests_mock.call_count == 1


# --- input validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "sender_code", "error"),
    [
        ("12345", SENDER, InvalidPhoneNumberError),
        ("206/595/9696", SENDER, InvalidPhoneNumberError),
        (None, SENDER, InvalidPhoneNumberError),
        (PHONE, "a/b", InvalidSenderCodeError),
        (PHONE, "", InvalidSenderCodeError),
        (PHONE, "ÄBC", InvalidSenderCodeError),
    ],
    ids=["short-phone", "slashed-phone", "no-phone", "slashed-code", "empty-code", "unicode-code"],
)
def test_invalid_input_sends_nothing(hook, requests_mock, phone, sender_code, error):
    requests_mock.post(ANY, json=STOPPED)
    with pytest.raises(error):
        hook.stop_sms_subscriber(phone, sender_code)
    assert requests_mock.call_count == 0


def test_unusable_connection_sends_nothing(use_connection, clock, requests_mock):
    use_connection(max_retries="five")
    requests_mock.post(ANY, json=STOPPED)
    with pytest.raises(WhatCountsConfigError, match="max_retries"):
        WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.call_count == 0


def test_default_region_extra_applies_to_national_numbers(use_connection, clock, requests_mock):
    use_connection(default_region="GB")
    url = f"{REST}/sms/stopSubscriberSend/442079460958/{SENDER}"
    requests_mock.post(url, json=STOPPED)
    WhatCountsHook().stop_sms_subscriber("020 7946 0958", SENDER)
    assert requests_mock.last_request.url == url


# --- test_connection -------------------------------------------------------------------------


def test_test_connection_succeeds(hook, requests_mock):
    requests_mock.get(LISTS_URL, json=[{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
    ok, message = hook.test_connection()
    assert ok is True
    assert "https://mail.example.com/rest" in message
    assert f"'{REALM}'" in message
    assert "2 lists" in message
    sent = requests_mock.last_request
    assert (sent.method, sent.url) == ("GET", LISTS_URL)
    assert sent.headers["Authorization"] == f"Basic {BASIC_TOKEN}"
    assert requests_mock.call_count == 1


FAILED_CONNECTION_TESTS = {
    "bad-credentials": ({"status_code": 401, "json": {"error": "Unauthorized"}}, "credentials"),
    "forbidden": ({"status_code": 403, "json": {"error": "Forbidden"}}, "credentials"),
    "connection-refused": ({"exc": requests.exceptions.ConnectionError("Connection refused")}, "failed"),
    "unreachable-timeout": ({"exc": requests.exceptions.ConnectTimeout}, "timed out"),
    "wrong-url-404": ({"status_code": 404, "text": "<html><h1>Not Found</h1></html>"}, "Site URL"),
    "html-page": (
        {"status_code": 200, "text": "<html>Sign in</html>", "headers": {"Content-Type": "text/html"}},
        "expected a JSON answer, got text/html",
    ),
    "unavailable-not-retried": ({"status_code": 503, "json": {"error": "down"}}, "HTTP 503"),
    "unexpected-exception": ({"exc": RuntimeError("boom")}, "Unexpected RuntimeError: boom"),
}


@pytest.mark.parametrize(
    ("response", "needle"), FAILED_CONNECTION_TESTS.values(), ids=FAILED_CONNECTION_TESTS.keys()
)
def test_test_connection_fails_clearly_without_raising_or_retrying(hook, requests_mock, response, needle):
    requests_mock.get(LISTS_URL, [response, {"json": []}])
    ok, message = hook.test_connection()
    assert ok is False
    assert needle in message
    assert PASSWORD not in message
    assert requests_mock.call_count == 1
    assert hook.retries == 0


def test_test_connection_reports_bad_connection_settings(use_connection, clock, requests_mock):
    use_connection(host="http://mail.example.com")
    requests_mock.get(ANY, json=[])
    ok, message = WhatCountsHook().test_connection()
    assert ok is False
    assert "clear text" in message
    assert PASSWORD not in message
    assert requests_mock.call_count == 0


# --- logs ------------------------------------------------------------------------------------


def test_logs_never_contain_the_phone_or_the_password(hook, requests_mock, log_text):
    requests_mock.post(
        STOP_URL,
        [
            answer(503, {"error": f"busy with {PHONE}"}),
            answer(429, {}, **{"Retry-After": "1"}),
            {"exc": REAL_CONNECTION_ERROR},
            {"exc": requests.exceptions.ReadTimeout(f"read timeout for /{PHONE}")},
            answer(200, STOPPED),
            answer(500, NO_SUBSCRIPTION),
            answer(401, {"error": f"wrong password {PASSWORD}"}),
        ],
    )
    requests_mock.get(LISTS_URL, status_code=401, json={})
    hook.stop_sms_subscriber("206-595-9696", SENDER)
    with pytest.raises(SmsSubscriberNotFoundError):
        hook.stop_sms_subscriber(PHONE, SENDER)
    with pytest.raises(WhatCountsAuthError):
        hook.stop_sms_subscriber(PHONE, SENDER)
    hook.test_connection()
    logs = log_text()
    assert MASKED in logs, "the hook did log about the phone (masked)"
    assert "retrying" in logs
    assert PHONE not in logs
    assert PHONE[1:] not in logs
    assert PASSWORD not in logs
    assert BASIC_TOKEN not in logs
