"""WhatCountsHook against requests-mock: the request on the wire, retries, error mapping, test_connection."""

from __future__ import annotations

import base64
import json
import logging
import traceback

import pytest
import requests
from conftest import PASSWORD, REALM, REST, SENDER
from requests_mock import ANY
from urllib3.exceptions import ReadTimeoutError

from whatcounts_provider import __version__
from whatcounts_provider.exceptions import (
    InvalidPhoneNumberError,
    InvalidSenderCodeError,
    SmsSubscriberNotFoundError,
    WhatCountsApiError,
    WhatCountsAuthError,
    WhatCountsConfigError,
    WhatCountsTransportError,
)
from whatcounts_provider.hooks.whatcounts import WhatCountsHook

PHONE = "12065959696"
MASKED = "*******9696"
STOP_URL = f"{REST}/sms/stopSubscriberSend/{PHONE}/{SENDER}"
LISTS_URL = f"{REST}/lists"
STOPPED = {"phone": PHONE, "senderCode": SENDER, "status": "STOPPED"}
NO_SUBSCRIPTION = {
    "error": f"An error occurred processing STOP sends for phone [{PHONE}] realmId [10]",
    "status": "Internal Server Error",
    "statusCode": 500,
}
BASIC_TOKEN = base64.b64encode(f"{REALM}:{PASSWORD}".encode()).decode()


class FakeClock:
    """Stands in for the hook's clock and sleep (throttle and retry waits): sleeping is instant, recorded."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(WhatCountsHook, "_now", staticmethod(fake.monotonic))
    monkeypatch.setattr(WhatCountsHook, "_sleep", staticmethod(fake.sleep))
    return fake


@pytest.fixture
def hook(whatcounts_conn: str, clock: FakeClock) -> WhatCountsHook:
    return WhatCountsHook(retry_backoff_initial=0.001)


def answer(status: int, body: object = None, **headers: str) -> dict[str, object]:
    """One requests-mock response: JSON body unless ``body`` is a str."""
    if isinstance(body, str):
        return {"status_code": status, "text": body, "headers": headers}
    return {"status_code": status, "json": body if body is not None else {}, "headers": headers}


def use_conn(monkeypatch: pytest.MonkeyPatch, uri: str) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WHATCOUNTS_DEFAULT", uri)


def use_json_conn(monkeypatch: pytest.MonkeyPatch, host: str, **extra: str) -> None:
    conn = {"conn_type": "whatcounts", "host": host, "login": REALM, "password": PASSWORD, "extra": extra}
    use_conn(monkeypatch, json.dumps(conn))


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


def test_path_prefix_of_the_site_url_is_kept(monkeypatch, clock, requests_mock):
    use_json_conn(monkeypatch, "https://mail.example.com/wc/")
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


def test_api_version_extra_changes_the_accept_header(monkeypatch, clock, requests_mock):
    use_conn(monkeypatch, f"whatcounts://{REALM}:{PASSWORD}@mail.example.com?api_version=v2")
    requests_mock.post(STOP_URL, json=STOPPED)
    WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.last_request.headers["Accept"] == "application/vnd.whatcounts-v2+json"


@pytest.mark.parametrize(
    ("query", "hook_timeout", "expected"),
    [
        ("", None, (10.0, 30.0)),
        ("?timeout=12", None, (10.0, 12.0)),
        ("?timeout=12", 4.5, (10.0, 4.5)),
        ("", 7, (10.0, 7.0)),
    ],
    ids=["default", "extra", "argument-over-extra", "argument"],
)
def test_connect_and_read_timeouts_are_sent(monkeypatch, clock, requests_mock, query, hook_timeout, expected):
    use_conn(monkeypatch, f"whatcounts://{REALM}:{PASSWORD}@mail.example.com{query}")
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


@pytest.fixture
def no_ca_bundle_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests lets these variables override a session's ``verify`` (see the tests below)."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


def verify_conn(monkeypatch: pytest.MonkeyPatch, verify: str) -> None:
    use_json_conn(monkeypatch, "mail.example.com", verify=verify)


def test_verify_false_is_sent_and_warned_about(
    monkeypatch, clock, requests_mock, provider_logs, no_ca_bundle_env
):
    verify_conn(monkeypatch, "false")
    requests_mock.post(STOP_URL, json=STOPPED)
    WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.last_request.verify is False
    assert "TLS certificate verification is OFF" in provider_logs()


def test_verify_ca_bundle_path_is_sent(monkeypatch, clock, requests_mock, tmp_path, no_ca_bundle_env):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    verify_conn(monkeypatch, str(bundle))
    requests_mock.post(STOP_URL, json=STOPPED)
    WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.last_request.verify == str(bundle)


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_verify_ca_bundle_extra_beats_the_environment(
    monkeypatch, clock, requests_mock, tmp_path, no_ca_bundle_env, variable
):
    bundle = tmp_path / "private-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv(variable, str(tmp_path / "system-ca.pem"))
    verify_conn(monkeypatch, str(bundle))
    requests_mock.post(STOP_URL, json=STOPPED)
    WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.last_request.verify == str(bundle)


def test_verify_false_extra_beats_the_environment(
    monkeypatch, clock, requests_mock, tmp_path, no_ca_bundle_env
):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "system-ca.pem"))
    verify_conn(monkeypatch, "false")
    requests_mock.post(STOP_URL, json=STOPPED)
    WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.last_request.verify is False


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


def test_unusable_connection_sends_nothing(monkeypatch, clock, requests_mock):
    use_conn(monkeypatch, f"whatcounts://{REALM}:{PASSWORD}@mail.example.com?max_retries=five")
    requests_mock.post(ANY, json=STOPPED)
    with pytest.raises(WhatCountsConfigError, match="max_retries"):
        WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.call_count == 0


def test_default_region_extra_applies_to_national_numbers(monkeypatch, clock, requests_mock):
    use_conn(monkeypatch, f"whatcounts://{REALM}:{PASSWORD}@mail.example.com?default_region=GB")
    url = f"{REST}/sms/stopSubscriberSend/442079460958/{SENDER}"
    requests_mock.post(url, json=STOPPED)
    WhatCountsHook().stop_sms_subscriber("020 7946 0958", SENDER)
    assert requests_mock.last_request.url == url


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
def test_max_retries_bounds_the_calls(monkeypatch, clock, requests_mock, max_retries):
    use_conn(monkeypatch, f"whatcounts://{REALM}:{PASSWORD}@mail.example.com")
    requests_mock.post(STOP_URL, status_code=503, json={"error": "Service Unavailable"})
    hook = WhatCountsHook(max_retries=max_retries)
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


def test_max_retries_extra_bounds_the_calls(monkeypatch, clock, requests_mock):
    use_conn(monkeypatch, f"whatcounts://{REALM}:{PASSWORD}@mail.example.com?max_retries=2")
    requests_mock.post(STOP_URL, status_code=502, text="Bad Gateway")
    with pytest.raises(WhatCountsApiError):
        WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.call_count == 3


def test_default_is_five_retries(hook, requests_mock):
    requests_mock.post(STOP_URL, status_code=503, json={})
    with pytest.raises(WhatCountsApiError):
        hook.stop_sms_subscriber(PHONE, SENDER)
    assert requests_mock.call_count == 6


def test_backoff_grows_exponentially_with_jitter(whatcounts_conn, clock, requests_mock):
    requests_mock.post(STOP_URL, status_code=503, json={})
    hook = WhatCountsHook(max_retries=4)
    with pytest.raises(WhatCountsApiError):
        hook.stop_sms_subscriber(PHONE, SENDER)
    initial = hook.settings.retry_backoff_initial
    assert len(clock.sleeps) == 4
    for attempt, slept in enumerate(clock.sleeps):
        base = initial * 2**attempt
        assert base <= slept <= base + initial


def test_backoff_is_capped(whatcounts_conn, clock, requests_mock):
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


def test_huge_retry_after_is_capped_and_the_cap_logged(hook, clock, requests_mock, provider_logs):
    requests_mock.post(STOP_URL, [answer(429, {}, **{"Retry-After": "3600"}), answer(200, STOPPED)])
    assert hook.stop_sms_subscriber(PHONE, SENDER) == STOPPED
    assert hook.settings.retry_after_max == 60.0
    assert clock.sleeps == [60.0]
    assert "Retry-After 3600 s capped to 60 s" in provider_logs()


def test_retry_after_cap_is_configurable_per_hook(whatcounts_conn, clock, requests_mock, provider_logs):
    hook = WhatCountsHook(retry_after_max=5)
    requests_mock.post(STOP_URL, [answer(429, {}, **{"Retry-After": "120"}), answer(200, STOPPED)])
    hook.stop_sms_subscriber(PHONE, SENDER)
    assert clock.sleeps == [5.0]
    assert "capped to 5 s" in provider_logs()


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

REAL_CONNECTION_ERROR = requests.exceptions.ConnectionError(
    "HTTPSConnectionPool(host='mail.example.com', port=443): Max retries exceeded with url: "
    f"/rest/sms/stopSubscriberSend/{PHONE}/{SENDER} (Caused by NewConnectionError: refused)"
)


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


def test_read_timeout_message_uses_the_configured_timeout(whatcounts_conn, clock, requests_mock):
    requests_mock.post(STOP_URL, exc=requests.exceptions.ReadTimeout)
    with pytest.raises(WhatCountsTransportError, match=r"timed out after 2\.5 s"):
        WhatCountsHook(timeout=2.5, max_retries=0).stop_sms_subscriber(PHONE, SENDER)


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


def test_other_500_text_is_not_taken_for_no_subscription(whatcounts_conn, clock, requests_mock):
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


def test_test_connection_reports_bad_connection_settings(monkeypatch, clock, requests_mock):
    use_json_conn(monkeypatch, "http://mail.example.com")
    requests_mock.get(ANY, json=[])
    ok, message = WhatCountsHook().test_connection()
    assert ok is False
    assert "clear text" in message
    assert PASSWORD not in message
    assert requests_mock.call_count == 0


# --- logs ------------------------------------------------------------------------------------


@pytest.fixture
def hook_logs(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]):
    """Everything this provider logged at DEBUG and above (stdlib records on 2.11, structlog output on 3.x).

    requests-mock's own DEBUG line echoes the mocked URL; it is the test double, not the hook.
    """
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="requests_mock")

    def text() -> str:
        out, err = capsys.readouterr()
        records = [
            f"{record.name} {record.getMessage()}"
            for record in caplog.records
            if not record.name.startswith("requests_mock")
        ]
        return "\n".join([*records, out, err])

    return text


def test_logs_never_contain_the_phone_or_the_password(hook, requests_mock, hook_logs):
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
    logs = hook_logs()
    assert MASKED in logs, "the hook did log about the phone (masked)"
    assert "retrying" in logs
    assert PHONE not in logs
    assert PHONE[1:] not in logs
    assert PASSWORD not in logs
    assert BASIC_TOKEN not in logs
