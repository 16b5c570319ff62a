"""Transport security: TLS verified by default, the verify extra honoured, no clear-text credentials."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests
import requests.adapters
import urllib3.util.connection

from tests.helpers import PASSWORD, PHONE, REALM, SENDER, STOP_URL, make_context
from tests.security.helpers import (
    OTHER,
    S_PASSWORD,
    S_REALM,
    SECRETS,
    VERIFY_OFF_WARNING,
    assert_absent,
    basic_token,
    exception_text,
    run,
)
from whatcounts_provider.exceptions import (
    WhatCountsConfigError,
    WhatCountsTransportError,
)
from whatcounts_provider.hooks.whatcounts import WhatCountsHook
from whatcounts_provider.operators.sms import StopSmsSubscriberOperator

# The retry policy at a smaller scale: these tests are about what is shown, not about waiting.
pytestmark = pytest.mark.usefixtures("fast_retries")


def test_tls_verification_is_on_by_default(no_ca_bundle_env):
    hook = WhatCountsHook()
    assert hook.settings.verify is True
    assert hook.get_conn().verify is True


def test_https_with_a_self_signed_certificate_is_refused_by_default(https, tls, use_connection, log_text):
    https.subscribe(SENDER, [PHONE])
    use_connection(uri=https.conn_uri(), max_retries=1)
    op = StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER)

    _, exc, _ = run(op)

    assert type(exc) is WhatCountsTransportError, exception_text(exc)
    assert "SSLError" in str(exc)
    assert https.url in str(exc)
    assert https.state.requests_total == 0, "no request got through the TLS handshake"
    assert https.state.is_subscribed(SENDER, PHONE)
    assert not https.state.is_stopped(SENDER, PHONE)
    assert_absent(log_text() + exception_text(exc), SECRETS, "output")


def test_ca_bundle_in_the_verify_extra_makes_https_work(https, tls, use_connection):
    https.subscribe(SENDER, [PHONE])
    use_connection(uri=https.conn_uri(), verify=tls.bundle)
    op = StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER)

    result, exc, _ = run(op)

    assert exc is None, exception_text(exc)
    assert op.hook.get_conn().verify == tls.bundle
    assert result["status"] == "stopped"
    assert https.state.is_stopped(SENDER, PHONE)
    assert https.state.snapshot()["stopped"] == {SENDER: [PHONE]}


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_verify_false_warns_on_every_task_run_naming_the_connection(https, tls, use_connection, log_text):
    https.subscribe(SENDER, [PHONE, OTHER])
    use_connection(uri=https.conn_uri(), verify="false")
    for task_run, phone in enumerate((PHONE, OTHER)):  # two task runs: two operator instances
        op = StopSmsSubscriberOperator(task_id=f"run{task_run}", phone=phone, sender_code=SENDER)
        result, exc, _ = run(op)
        assert exc is None, exception_text(exc)
        assert result["status"] == "stopped"

    warnings = [line for line in log_text.provider_lines() if VERIFY_OFF_WARNING in line]
    assert len(warnings) == 2, warnings
    for warning in warnings:
        assert "'whatcounts_default'" in warning
        assert_absent(warning, SECRETS, "the warning")
    assert_absent(log_text(), SECRETS, "captured output")


def test_plain_http_to_a_remote_host_is_refused_before_any_connection(monkeypatch, use_connection):
    attempts: list[tuple[Any, ...]] = []

    def record(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("the test allows no connection")

    monkeypatch.setattr(socket, "create_connection", record)
    monkeypatch.setattr(urllib3.util.connection, "create_connection", record)
    monkeypatch.setattr(socket.socket, "connect", record)
    use_connection(uri=f"whatcounts://{S_REALM}:{S_PASSWORD}@http%3A%2F%2Fmail.example.com")
    op = StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER)

    with pytest.raises(WhatCountsConfigError, match="clear text") as excinfo:
        op.execute(make_context())

    assert attempts == []
    assert "http://mail.example.com" in str(excinfo.value)
    assert_absent(exception_text(excinfo.value), SECRETS, "the configuration error")


def test_https_to_a_remote_host_works(requests_mock, no_ca_bundle_env):
    requests_mock.post(STOP_URL, json={"id": 1, "phone": PHONE})
    op = StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER)

    result, exc, _ = run(op)

    assert exc is None
    assert result["status"] == "stopped"
    sent = requests_mock.last_request
    assert sent.url == STOP_URL
    assert sent.url.startswith("https://mail.example.com/")
    assert sent.headers["Authorization"] == f"Basic {basic_token(REALM, PASSWORD)}"
    assert sent.verify is True


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
@pytest.mark.parametrize("verify", ["ca-bundle", "false"])
def test_verify_extra_wins_over_the_ca_bundle_environment_variables(
    https, verify, variable, tls, use_connection, monkeypatch
):
    """requests lets REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE override a session's ``verify``.

    Both are common in containers and behind proxies; the connection's extra must still win: the
    request is sent with it, and the TLS handshake against the throwaway CA succeeds.
    """
    monkeypatch.setenv(variable, requests.certs.where())  # the system bundle: refuses tls's certificate
    sent_verify: list[Any] = []
    send = requests.adapters.HTTPAdapter.send

    def spy(adapter: requests.adapters.HTTPAdapter, request: Any, **kwargs: Any) -> Any:
        sent_verify.append(kwargs.get("verify"))
        return send(adapter, request, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", spy)
    extra = tls.bundle if verify == "ca-bundle" else "false"
    https.subscribe(SENDER, [PHONE])
    use_connection(uri=https.conn_uri(), verify=extra, max_retries=0)

    result, exc, _ = run(StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER))

    assert exc is None, exception_text(exc)
    assert result["status"] == "stopped"
    assert https.state.is_stopped(SENDER, PHONE)
    assert sent_verify == [tls.bundle if verify == "ca-bundle" else False], "what the request was sent with"
