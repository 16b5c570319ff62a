"""Security: no secret or full phone in logs and errors, TLS verified by default, no clear-text credentials.

Every end-to-end test here runs the operators against the emulator with DEBUG logging on for
everything and reads ALL output: caplog (stdlib records, Airflow 2.11) and capfd (file
descriptors 1 and 2, where Airflow 3.x's structlog task loggers and Airflow's own handlers write).
"""

from __future__ import annotations

import base64
import inspect
import io
import json
import logging
import socket
import ssl
import traceback
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import airflow
import pytest
import requests
import trustme
import urllib3.util.connection
from conftest import PASSWORD, REALM, REST, SENDER, make_context

from whatcounts_provider.exceptions import (
    SmsSubscriberNotFoundError,
    WhatCountsApiError,
    WhatCountsAuthError,
    WhatCountsBulkError,
    WhatCountsConfigError,
    WhatCountsTransportError,
)
from whatcounts_provider.hooks.whatcounts import WhatCountsHook
from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator, StopSmsSubscriberOperator
from whatcounts_provider.testing.emulator import WhatCountsEmulator

AIRFLOW_3 = int(airflow.__version__.split(".")[0]) >= 3

S_REALM = "Zq9-unique-realm"
S_PASSWORD = "Zq9-unique-S3cret-pw"
WRONG_PASSWORD = "Wr0ng-unique-S3cret-pw"

PHONE = "12065959696"  # subscribed in most scenarios
PHONE_MASKED = "*******9696"
UNSUBSCRIBED = "12065959697"
FAILING = "12065959698"  # the emulator answers 503 to it, always
OTHER = "12065959699"
ALL_PHONES = (PHONE, UNSUBSCRIBED, FAILING, OTHER)

STOP_URL = f"{REST}/sms/stopSubscriberSend/{PHONE}/{SENDER}"
VERIFY_OFF_WARNING = "TLS certificate verification is OFF"


def basic_token(realm: str, password: str) -> str:
    return base64.b64encode(f"{realm}:{password}".encode()).decode()


def secret_forms(password: str, realm: str = S_REALM) -> tuple[str, ...]:
    """The password, ``realm:password`` and the Basic token derived from them."""
    return password, f"{realm}:{password}", basic_token(realm, password)


SECRETS = secret_forms(S_PASSWORD)
WRONG_SECRETS = secret_forms(WRONG_PASSWORD)


def phone_forms(phones: tuple[str, ...] | list[str]) -> list[str]:
    """Each 11-digit phone and its 10-digit national form."""
    return [form for phone in phones for form in (phone, phone[1:])]


def assert_absent(text: str, needles: tuple[str, ...] | list[str], what: str) -> None:
    found = [needle for needle in needles if needle in text]
    assert not found, f"{what} contains {found}:\n{text[-3000:]}"


def exception_text(exc: BaseException | None) -> str:
    """Everything an exception shows: str, repr and the formatted traceback (with its chain)."""
    if exc is None:
        return ""
    return "\n".join([str(exc), repr(exc), "".join(traceback.format_exception(exc))])


def use_connection(monkeypatch: pytest.MonkeyPatch, uri: str, **extras: Any) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WHATCOUNTS_DEFAULT", uri + (f"?{urlencode(extras)}" if extras else ""))


def closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Output:
    """All output of a test so far: caplog records and the captured file descriptors 1 and 2."""

    def __init__(self, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
        self._caplog = caplog
        self._capfd = capfd
        self._streams: list[str] = []

    def streams(self) -> str:
        out, err = self._capfd.readouterr()
        self._streams.extend([out, err])
        return "".join(self._streams)

    def everything(self) -> str:
        records = "\n".join(f"{r.getMessage()} {r.args!r}" for r in self._caplog.records)
        return "\n".join([self._caplog.text, records, self.streams()])

    def records(self) -> list[logging.LogRecord]:
        return list(self._caplog.records)

    def provider_lines(self) -> list[str]:
        """Log lines of the provider's own loggers (names contain ``whatcounts_provider``).

        On 2.11 they are stdlib records (their stdout copies carry no logger name); on 3.x the
        structlog line names its logger in brackets.
        """
        lines = [
            f"[{r.name}] {r.getMessage()}" for r in self._caplog.records if "whatcounts_provider" in r.name
        ]
        lines += [line for line in self.streams().splitlines() if "whatcounts_provider" in line]
        return lines


@pytest.fixture
def output(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Output:
    """DEBUG on for root, requests, urllib3, the provider and Airflow's task logger; capture it all."""
    for name in (None, "requests", "urllib3", "whatcounts_provider", "airflow.task"):
        caplog.set_level(logging.DEBUG, logger=name)
    return Output(caplog, capfd)


@pytest.fixture
def emulator() -> Any:
    with WhatCountsEmulator(S_REALM, S_PASSWORD) as running:
        yield running


@pytest.fixture
def no_ca_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests lets these variables override a session's ``verify``: see the LEAK/BUG test below."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.fixture
def tls(tmp_path: Any, no_ca_env: None) -> SimpleNamespace:
    """A throwaway CA, a server context with a certificate for 127.0.0.1, and the CA bundle file."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return SimpleNamespace(context=context, bundle=str(bundle))


def fast(op: Any) -> Any:
    op.hook.retry_backoff_initial = 0.01
    op.hook.retry_backoff_max = 0.05
    return op


def run(op: Any) -> tuple[Any, BaseException | None, dict[str, Any]]:
    """Execute like one task run; return (result, raised exception, the stub context)."""
    context = make_context()
    try:
        return op.execute(context), None, context
    except Exception as exc:
        return None, exc, context


# --------------------------------------------------------------------------------------------
# Secrets and PII in logs: end to end against the emulator
# --------------------------------------------------------------------------------------------

SINGLE_SCENARIOS = {
    # name: expected exception (None: the task succeeds)
    "success": None,
    "not-subscribed": None,
    "not-subscribed-missing_ok-false": SmsSubscriberNotFoundError,
    "retried-503-and-429": None,
    "503-until-retries-exhausted": WhatCountsApiError,
    "wrong-password-401": WhatCountsAuthError,
    "connection-refused": WhatCountsTransportError,
    "read-timeout": WhatCountsTransportError,
    "body-stalls-after-headers": WhatCountsTransportError,
}


def prepare_single(name: str, emulator: WhatCountsEmulator, monkeypatch: pytest.MonkeyPatch) -> Any:
    uri, extras, missing_ok = emulator.conn_uri(), {"max_retries": 2}, True
    if name in ("success", "retried-503-and-429", "wrong-password-401"):
        emulator.subscribe(SENDER, [PHONE])
    if name == "not-subscribed-missing_ok-false":
        missing_ok = False
    elif name == "retried-503-and-429":
        emulator.faults.update(seed=3, p_503=0.4, p_429=0.4, retry_after=(0, 0))  # 503, 429, 429, 200
        extras["max_retries"] = 20
    elif name == "503-until-retries-exhausted":
        emulator.faults.update(failing_phones={PHONE})
    elif name == "wrong-password-401":
        uri = uri.replace(S_PASSWORD, WRONG_PASSWORD)
    elif name == "connection-refused":
        uri = f"whatcounts://{S_REALM}:{S_PASSWORD}@http%3A%2F%2F127.0.0.1:{closed_loopback_port()}"
    elif name == "read-timeout":
        emulator.faults.update(hang=True)
        extras.update(timeout=0.2, max_retries=1)
    elif name == "body-stalls-after-headers":
        emulator.subscribe(SENDER, [PHONE])
        emulator.faults.update(stall_body=True)
        extras.update(timeout=0.2, max_retries=1)
    use_connection(monkeypatch, uri, **extras)
    return fast(
        StopSmsSubscriberOperator(
            task_id="stop", phone="+1 (206) 595-9696", sender_code=SENDER, missing_ok=missing_ok
        )
    )


@pytest.mark.parametrize("scenario", list(SINGLE_SCENARIOS))
def test_single_stop_shows_no_secret_anywhere_and_no_full_phone_in_provider_output(
    scenario, emulator, monkeypatch, output
):
    op = prepare_single(scenario, emulator, monkeypatch)

    result, exc, _ = run(op)

    expected = SINGLE_SCENARIOS[scenario]
    if expected is None:
        assert exc is None, exception_text(exc)
    else:
        assert type(exc) is expected, exception_text(exc)
    if scenario == "retried-503-and-429":
        assert result["status"] == "stopped"
        retried = "\n".join(output.provider_lines())
        assert "HTTP 503" in retried, "the scenario must retry a 503"
        assert "HTTP 429" in retried, "the scenario must retry a 429"
    raised = exception_text(exc)

    # No secret anywhere: logs of every logger, stdout/stderr, the exception, the XCom value.
    secrets = SECRETS + (WRONG_SECRETS if scenario == "wrong-password-401" else ())
    assert_absent(output.everything(), secrets, "captured output")
    assert_absent(raised, secrets, "the exception")
    assert_absent(json.dumps(result), secrets, "the return value")

    # No full phone in the provider's own log lines or in its exception; the masked form is used.
    provider = "\n".join(output.provider_lines())
    assert provider, "the provider's own log lines must have been captured"
    assert_absent(provider, phone_forms([PHONE]), "the provider's log lines")
    assert_absent(raised, phone_forms([PHONE]), "the exception")
    if scenario != "wrong-password-401":  # a 401 is about the connection, not the phone
        assert PHONE_MASKED in provider + raised


def test_single_stop_exceptions_name_the_phone_masked(emulator, monkeypatch):
    """The typed errors point at the phone, in masked form (so the assertions above are meaningful)."""
    for scenario in ("not-subscribed-missing_ok-false", "connection-refused", "read-timeout"):
        emulator.state.reset()
        emulator.faults.clear()
        _, exc, _ = run(prepare_single(scenario, emulator, monkeypatch))
        assert exc is not None, scenario
        assert PHONE_MASKED in str(exc), (scenario, str(exc))


BULK_SCENARIOS = {
    "mixed-with-503-429-faults": WhatCountsBulkError,
    "wrong-password-401": WhatCountsAuthError,
    "connection-refused": WhatCountsBulkError,
}


@pytest.mark.parametrize("scenario", list(BULK_SCENARIOS))
def test_bulk_stop_shows_no_secret_anywhere_and_no_full_phone_in_provider_output(
    scenario, emulator, monkeypatch, output
):
    uri, extras = emulator.conn_uri(), {"max_retries": 8}
    emulator.subscribe(SENDER, [PHONE, OTHER])
    if scenario == "mixed-with-503-429-faults":
        emulator.faults.update(seed=9, p_503=0.2, p_429=0.2, retry_after=(0, 0), failing_phones={FAILING})
    elif scenario == "wrong-password-401":
        uri = uri.replace(S_PASSWORD, WRONG_PASSWORD)
    else:
        uri = f"whatcounts://{S_REALM}:{S_PASSWORD}@http%3A%2F%2F127.0.0.1:{closed_loopback_port()}"
        extras["max_retries"] = 1
    use_connection(monkeypatch, uri, **extras)
    inputs = ["+1 206-595-9696", UNSUBSCRIBED, int(FAILING), "(206) 595-9699", "206-555-01"]
    # One worker: the emulator's seeded faults then fall on the same requests every run.
    op = fast(BulkStopSmsSubscriberOperator(task_id="bulk", phones=inputs, sender_code=SENDER, max_workers=1))

    _, exc, context = run(op)

    assert type(exc) is BULK_SCENARIOS[scenario], exception_text(exc)
    raised = exception_text(exc)
    summary = context["ti"].pushed.get("return_value")
    secrets = SECRETS + (WRONG_SECRETS if scenario == "wrong-password-401" else ())
    assert_absent(output.everything(), secrets, "captured output")
    assert_absent(raised, secrets, "the exception")
    assert_absent(json.dumps(summary), secrets, "the XCom summary")

    provider = "\n".join(output.provider_lines())
    assert provider, "the provider's own log lines must have been captured"
    assert_absent(provider, phone_forms(ALL_PHONES), "the provider's log lines")
    assert_absent(raised, phone_forms(ALL_PHONES), "the exception")
    if summary is not None:  # the per-phone error texts are exception messages too
        errors = " ".join(item["error"] for item in summary["failed"])
        assert_absent(errors, phone_forms(ALL_PHONES), "the summary's error texts")
    if scenario == "mixed-with-503-429-faults":
        assert op.hook.retries > 0
        assert summary["stopped"] == 2
        assert "HTTP 503" in provider
        assert "HTTP 429" in provider
        assert f"failed {'*' * 7}9698" in provider
        assert f"not subscribed {'*' * 7}9697" in provider


def test_urllib3_debug_lines_do_show_the_full_phone_in_the_request_path(emulator, monkeypatch, output):
    """Documents a third-party fact for the README: urllib3's DEBUG access line names the URL path,
    and the path holds the phone. Only urllib3 does this; the provider's own lines never do."""
    emulator.subscribe(SENDER, [PHONE])
    use_connection(monkeypatch, emulator.conn_uri())

    _, exc, _ = run(fast(StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER)))

    assert exc is None
    records = [r for r in output.records() if PHONE in r.getMessage()]
    assert records, "urllib3 at DEBUG logs the request line with the phone in the path"
    assert {r.name for r in records} == {"urllib3.connectionpool"}
    assert all(r.levelno == logging.DEBUG for r in records)
    assert f'"POST /rest/sms/stopSubscriberSend/{PHONE}/{SENDER} HTTP/1.1" 200' in records[0].getMessage()
    assert_absent("\n".join(output.provider_lines()), [PHONE], "the provider's log lines")


def test_xcom_records_keep_full_normalised_phones(emulator, monkeypatch):
    """Downstream tasks need the phones: the XCom values are not masked (documented behaviour)."""
    emulator.subscribe(SENDER, [PHONE, OTHER])
    emulator.faults.update(failing_phones={FAILING})
    use_connection(monkeypatch, emulator.conn_uri(), max_retries=0)

    stopped, _, _ = run(
        fast(StopSmsSubscriberOperator(task_id="a", phone="(206) 595-9696", sender_code=SENDER))
    )
    missing, _, _ = run(
        fast(StopSmsSubscriberOperator(task_id="b", phone="206.595.9697", sender_code=SENDER))
    )
    bulk = fast(
        BulkStopSmsSubscriberOperator(
            task_id="bulk", phones=["206-595-9699", "2065959697", "+1 206 595 9698"], sender_code=SENDER
        )
    )
    _, exc, context = run(bulk)

    assert (stopped["phone"], stopped["status"], stopped["response"]["phone"]) == (PHONE, "stopped", PHONE)
    assert (missing["phone"], missing["status"]) == (UNSUBSCRIBED, "not_subscribed")
    assert isinstance(exc, WhatCountsBulkError)
    summary = context["ti"].pushed["return_value"]
    assert summary == exc.summary
    assert summary["not_subscribed"] == [UNSUBSCRIBED]
    assert [item["phone"] for item in summary["failed"]] == [FAILING]
    assert FAILING not in summary["failed"][0]["error"], "the error text itself stays masked"


# --------------------------------------------------------------------------------------------
# Secrets and PII in errors built from response bodies (requests-mock)
# --------------------------------------------------------------------------------------------


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
def test_error_from_a_hostile_html_page_is_a_short_clean_excerpt(
    status, whatcounts_conn, requests_mock, output
):
    requests_mock.post(
        STOP_URL, status_code=status, text=hostile_page(), headers={"Content-Type": "text/html"}
    )
    op = fast(StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER))

    _, exc, _ = run(op)

    assert isinstance(exc, WhatCountsApiError)
    assert exc.status_code == status
    message = str(exc)
    conftest_secrets = secret_forms(PASSWORD, REALM)
    assert_absent(message, conftest_secrets, "the exception message")
    assert_absent(exception_text(exc), conftest_secrets, "the exception")
    assert "<" not in message, message
    assert ">" not in message, message
    assert len(message) <= 300, len(message)
    assert_absent(message, phone_forms([PHONE]), "the exception message")
    assert_absent(output.everything(), conftest_secrets, "captured output")


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
def test_api_errors_echoing_the_phone_mask_it(status, body, whatcounts_conn, requests_mock, output):
    requests_mock.post(STOP_URL, status_code=status, **body)
    op = fast(StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER))

    _, exc, _ = run(op)

    assert type(exc) is WhatCountsApiError
    assert exc.status_code == status
    assert_absent(exception_text(exc), phone_forms([PHONE]), "the exception")
    assert_absent("\n".join(output.provider_lines()), phone_forms([PHONE]), "the provider's log lines")
    assert "9696" in str(exc), "the excerpt keeps the masked phone"


def test_redirect_error_does_not_echo_the_phone_from_the_location_header(whatcounts_conn, requests_mock):
    # A Site URL without "www." is typically redirected to the same path on www: the phone comes back.
    location = f"https://www.mail.example.com/rest/sms/stopSubscriberSend/{PHONE}/{SENDER}"
    requests_mock.post(STOP_URL, status_code=301, headers={"Location": location})
    op = fast(StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER))

    _, exc, _ = run(op)

    assert type(exc) is WhatCountsApiError
    assert exc.status_code == 301
    assert_absent(exception_text(exc), phone_forms([PHONE]), "the exception")


def test_config_error_for_a_host_with_credentials_and_a_bad_scheme_hides_the_password(monkeypatch):
    host = f"ftp://{S_REALM}:{S_PASSWORD}@mail.example.com"
    monkeypatch.setenv(
        "AIRFLOW_CONN_WHATCOUNTS_DEFAULT",
        json.dumps({"conn_type": "whatcounts", "host": host, "login": S_REALM, "password": "other-pw-123"}),
    )

    with pytest.raises(WhatCountsConfigError) as excinfo:
        WhatCountsHook().settings  # noqa: B018

    assert_absent(exception_text(excinfo.value), (S_PASSWORD,), "the configuration error")


# --------------------------------------------------------------------------------------------
# Airflow's secrets masker: the hook registers the Basic token and realm:password
# --------------------------------------------------------------------------------------------


def masker_redact(value: str) -> str:
    try:
        from airflow.sdk._shared.secrets_masker import redact
    except ImportError:  # Airflow 3.0 and 2.11
        try:
            from airflow.sdk.execution_time.secrets_masker import redact  # type: ignore[no-redef,unused-ignore]
        except ImportError:  # Airflow 2.11
            from airflow.utils.log.secrets_masker import redact  # type: ignore[no-redef,unused-ignore]
    return str(redact(value))


@pytest.fixture
def clean_masker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process-wide secrets masker without the masks other tests registered (restored after).

    Another test's short password (2.11 masks even "p") would otherwise redact parts of our lines.
    """
    try:
        from airflow.sdk._shared.secrets_masker import _secrets_masker
    except ImportError:  # Airflow 3.0 and 2.11
        try:
            from airflow.sdk.execution_time.secrets_masker import _secrets_masker  # type: ignore[no-redef,unused-ignore]
        except ImportError:  # Airflow 2.11
            from airflow.utils.log.secrets_masker import _secrets_masker  # type: ignore[no-redef,unused-ignore]
    masker = _secrets_masker()
    monkeypatch.setattr(masker, "patterns", set())
    monkeypatch.setattr(masker, "replacer", None)


def test_hook_registers_the_token_and_realm_password_with_the_secrets_masker(monkeypatch, clean_masker):
    monkeypatch.setenv(
        "AIRFLOW_CONN_WHATCOUNTS_DEFAULT", f"whatcounts://{S_REALM}:{S_PASSWORD}@mail.example.com"
    )
    password, creds, token = secret_forms(S_PASSWORD)

    assert WhatCountsHook().settings.password == S_PASSWORD

    assert masker_redact(f"Authorization: Basic {token}") == "Authorization: Basic ***"
    assert masker_redact(f"creds={creds}") == "creds=***"
    assert masker_redact(f"password={password}") == "password=***"  # Airflow masks this one itself


def airflow_log_processors(*, json_output: bool) -> list[Any]:
    """Airflow 3's structlog processors: the console's, or the task log file's (JSON)."""
    from airflow.sdk.log import logging_processors

    if "json_output" in inspect.signature(logging_processors).parameters:  # Airflow 3.1+
        return list(logging_processors(json_output=json_output, colors=False))
    # Airflow 3.0: (processors, named processors); "pretty" is the console, the rest JSON
    processors, _ = logging_processors(enable_pretty_log=not json_output, colored_console_log=False)
    return list(processors)


def test_a_task_log_line_with_the_secrets_is_redacted_by_airflow(monkeypatch, caplog, clean_masker):
    """The real logging path of a task: the hook's own logger, and Airflow's task log writer."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_WHATCOUNTS_DEFAULT", f"whatcounts://{S_REALM}:{S_PASSWORD}@mail.example.com"
    )
    hook = WhatCountsHook()
    hook.settings  # noqa: B018  resolving the settings registers the derived secrets
    password, creds, token = SECRETS
    line = "echoed: Authorization: Basic %s creds=%s password=%s"

    if AIRFLOW_3:
        import structlog

        # Task logs are rendered by structlog with Airflow's processors, mask_logs among them.
        console = io.StringIO()
        saved = structlog.get_config()
        try:
            structlog.configure(
                processors=airflow_log_processors(json_output=False),
                logger_factory=structlog.PrintLoggerFactory(console),
                cache_logger_on_first_use=False,
            )
            if isinstance(hook.log, logging.Logger):
                # Airflow 3.0's hooks log through stdlib logging, which a task bridges into structlog.
                bridge = logging.StreamHandler(console)
                bridge.setFormatter(
                    structlog.stdlib.ProcessorFormatter(
                        processors=[
                            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                            *airflow_log_processors(json_output=False),
                        ]
                    )
                )
                hook.log.addHandler(bridge)
                try:
                    hook.log.warning(line, token, creds, password)
                finally:
                    hook.log.removeHandler(bridge)
            else:
                hook.log.warning(line, token, creds, password)
        finally:
            structlog.configure(**saved)
        # The supervisor writes the task log file through the same processors, as JSON.
        log_file = io.BytesIO()
        task_log = structlog.wrap_logger(
            structlog.BytesLogger(log_file),
            processors=airflow_log_processors(json_output=True),
            logger_name="task",
        )
        task_log.warning(line, token, creds, password)
        written = [console.getvalue(), log_file.getvalue().decode()]
        assert json.loads(written[1])["logger"] == "task"
    else:
        import airflow.settings

        # `airflow tasks run` turns masking on; the masker is a filter of the airflow.task logger.
        monkeypatch.setattr(airflow.settings, "MASK_SECRETS_IN_LOGS", True)
        caplog.set_level(logging.INFO, logger="airflow.task")
        hook.log.warning(line, token, creds, password)
        logging.getLogger("airflow.task").warning(line, token, creds, password)
        records = [r for r in caplog.records if r.name.startswith("airflow.task")]
        assert {r.name for r in records} == {hook.log.name, "airflow.task"}
        written = [r.getMessage() for r in records]

    assert len(written) == 2
    for text in written:
        assert "echoed: Authorization: Basic *** creds=*** password=***" in text, text
        assert_absent(text, SECRETS, "the task log line")


# --------------------------------------------------------------------------------------------
# Transport security
# --------------------------------------------------------------------------------------------


def test_tls_verification_is_on_by_default(whatcounts_conn, no_ca_env):
    hook = WhatCountsHook()
    assert hook.settings.verify is True
    assert hook.get_conn().verify is True


def test_https_with_a_self_signed_certificate_is_refused_by_default(tls, monkeypatch, output):
    with WhatCountsEmulator(S_REALM, S_PASSWORD, ssl_context=tls.context) as https:
        https.subscribe(SENDER, [PHONE])
        use_connection(monkeypatch, https.conn_uri(), max_retries=1)
        op = fast(StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER))

        _, exc, _ = run(op)

        assert type(exc) is WhatCountsTransportError, exception_text(exc)
        assert "SSLError" in str(exc)
        assert https.url in str(exc)
        assert https.state.requests_total == 0, "no request got through the TLS handshake"
        assert https.state.is_subscribed(SENDER, PHONE)
        assert not https.state.is_stopped(SENDER, PHONE)
    assert_absent(output.everything() + exception_text(exc), SECRETS, "output")


def test_ca_bundle_in_the_verify_extra_makes_https_work(tls, monkeypatch):
    with WhatCountsEmulator(S_REALM, S_PASSWORD, ssl_context=tls.context) as https:
        https.subscribe(SENDER, [PHONE])
        use_connection(monkeypatch, https.conn_uri(), verify=tls.bundle)
        op = fast(StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER))

        result, exc, _ = run(op)

        assert exc is None, exception_text(exc)
        assert op.hook.get_conn().verify == tls.bundle
        assert result["status"] == "stopped"
        assert https.state.is_stopped(SENDER, PHONE)
        assert https.state.snapshot()["stopped"] == {SENDER: [PHONE]}


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_verify_false_warns_on_every_task_run_naming_the_connection(tls, monkeypatch, output):
    with WhatCountsEmulator(S_REALM, S_PASSWORD, ssl_context=tls.context) as https:
        https.subscribe(SENDER, [PHONE, OTHER])
        use_connection(monkeypatch, https.conn_uri(), verify="false")
        for task_run, phone in enumerate((PHONE, OTHER)):  # two task runs: two operator instances
            op = fast(StopSmsSubscriberOperator(task_id=f"run{task_run}", phone=phone, sender_code=SENDER))
            result, exc, _ = run(op)
            assert exc is None, exception_text(exc)
            assert result["status"] == "stopped"

    warnings = [line for line in output.provider_lines() if VERIFY_OFF_WARNING in line]
    assert len(warnings) == 2, warnings
    for warning in warnings:
        assert "'whatcounts_default'" in warning
        assert_absent(warning, SECRETS, "the warning")
    assert_absent(output.everything(), SECRETS, "captured output")


def test_plain_http_to_a_remote_host_is_refused_before_any_connection(monkeypatch):
    attempts: list[tuple[Any, ...]] = []

    def record(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("the test allows no connection")

    monkeypatch.setattr(socket, "create_connection", record)
    monkeypatch.setattr(urllib3.util.connection, "create_connection", record)
    monkeypatch.setattr(socket.socket, "connect", record)
    use_connection(monkeypatch, f"whatcounts://{S_REALM}:{S_PASSWORD}@http%3A%2F%2Fmail.example.com")
    op = StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER)

    with pytest.raises(WhatCountsConfigError, match="clear text") as excinfo:
        op.execute(make_context())

    assert attempts == []
    assert "http://mail.example.com" in str(excinfo.value)
    assert_absent(exception_text(excinfo.value), SECRETS, "the configuration error")


def test_https_to_a_remote_host_works(whatcounts_conn, requests_mock, no_ca_env):
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
@pytest.mark.parametrize("verify", ["ca-bundle", "false"])
def test_verify_extra_wins_over_the_requests_ca_bundle_environment_variable(verify, tls, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())  # common in containers, proxies
    with WhatCountsEmulator(S_REALM, S_PASSWORD, ssl_context=tls.context) as https:
        https.subscribe(SENDER, [PHONE])
        use_connection(
            monkeypatch,
            https.conn_uri(),
            verify=tls.bundle if verify == "ca-bundle" else "false",
            max_retries=0,
        )

        result, exc, _ = run(fast(StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER)))

        assert exc is None, exception_text(exc)
        assert result["status"] == "stopped"
        assert https.state.is_stopped(SENDER, PHONE)
