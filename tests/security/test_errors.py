"""Security: no secret and no full phone in errors built from response bodies (requests-mock)."""

from __future__ import annotations

import pytest

from tests.helpers import PASSWORD, PHONE, REALM, SENDER, STOP_URL
from tests.security.helpers import (
    S_PASSWORD,
    S_REALM,
    assert_absent,
    basic_token,
    exception_text,
    phone_forms,
    run,
    secret_forms,
)
from whatcounts_provider.exceptions import (
    WhatCountsApiError,
    WhatCountsConfigError,
)
from whatcounts_provider.hooks.whatcounts import WhatCountsHook
from whatcounts_provider.operators.sms import StopSmsSubscriberOperator

# The retry policy at a smaller scale: these tests are about what is shown, not about waiting.
pytestmark = pytest.mark.usefixtures("fast_retries")


def hostile_page() -> str:
    """A 50 KB HTML error page of a proxy that echoes the request, credentials included."""
    token = basic_token(REALM, PASSWORD)
    echo = (
        f"<pre>POST /rest/sms/stopSubscriberSend/{PHONE}/{SENDER} HTTP/1.1\r\n"
        f"Authorization: Basic {token}\r\nX-Token: {token}\r\nX-Password: {PASSWORD}\r\n"
        f"X-Credentials: {REALM}:{PASSWORD}</pre>"
    )
    head = f"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>{echo}"
    filler = f"<p class='debug'>upstream said: {echo}</p>"
    page = head + filler * (50_000 // len(filler) + 1) + "</body></html>"
    assert len(page) >= 50_000
    return page


@pytest.mark.parametrize("status", [502, 200], ids=["502-error-page", "200-html-instead-of-json"])
def test_error_from_a_hostile_html_page_is_a_short_clean_excerpt(status, requests_mock, log_text):
    requests_mock.post(
        STOP_URL, status_code=status, text=hostile_page(), headers={"Content-Type": "text/html"}
    )
    op = StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER)

    _, exc, _ = run(op)

    assert isinstance(exc, WhatCountsApiError)
    assert exc.status_code == status
    message = str(exc)
    default_secrets = secret_forms(PASSWORD, REALM)
    assert_absent(message, default_secrets, "the exception message")
    assert_absent(exception_text(exc), default_secrets, "the exception")
    assert "<" not in message, message
    assert ">" not in message, message
    assert len(message) <= 300, len(message)
    assert_absent(message, phone_forms([PHONE]), "the exception message")
    assert_absent(log_text(), default_secrets, "captured output")


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"text": f"Upstream failure while stopping {PHONE} (national 2065959696)"}),
        (502, {"json": {"error": f"Bad gateway for phone [{PHONE}]", "statusCode": 502}}),
        (503, {"json": {"error": f"Service unavailable for phone {PHONE}", "statusCode": 503}}),
        (404, {"text": f"No route for /rest/sms/stopSubscriberSend/{PHONE}/{SENDER}"}),
    ],
    ids=["500-text", "502-json", "503-json", "404-text"],
)
def test_api_errors_echoing_the_phone_mask_it(status, body, requests_mock, log_text):
    requests_mock.post(STOP_URL, status_code=status, **body)
    op = StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER)

    _, exc, _ = run(op)

    assert type(exc) is WhatCountsApiError
    assert exc.status_code == status
    assert_absent(exception_text(exc), phone_forms([PHONE]), "the exception")
    assert_absent("\n".join(log_text.provider_lines()), phone_forms([PHONE]), "the provider's log lines")
    assert "9696" in str(exc), "the excerpt keeps the masked phone"


def test_redirect_error_does_not_echo_the_phone_from_the_location_header(requests_mock):
    # A Site URL without "www." is typically redirected to the same path on www: the phone comes back.
    location = f"https://www.mail.example.com/rest/sms/stopSubscriberSend/{PHONE}/{SENDER}"
    requests_mock.post(STOP_URL, status_code=301, headers={"Location": location})
    op = StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER)

    _, exc, _ = run(op)

    assert type(exc) is WhatCountsApiError
    assert exc.status_code == 301
    assert_absent(exception_text(exc), phone_forms([PHONE]), "the exception")


def test_config_error_for_a_host_with_credentials_and_a_bad_scheme_hides_the_password(use_connection):
    host = f"ftp://{S_REALM}:{S_PASSWORD}@mail.example.com"
    use_connection(host=host, login=S_REALM, password="other-pw-123")

    with pytest.raises(WhatCountsConfigError) as excinfo:
        WhatCountsHook().settings  # noqa: B018

    assert_absent(exception_text(excinfo.value), (S_PASSWORD,), "the configuration error")
