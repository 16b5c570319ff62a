"""Security end to end against the emulator: no secret anywhere, no full phone in the provider's output.

Every test here runs the operators with DEBUG logging on for everything and reads ALL output
through ``log_text``: stdlib records (Airflow 2.11) and the file descriptors 1 and 2 (where
Airflow 3.x's structlog task loggers and Airflow's own handlers write).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import PHONE, SENDER
from tests.security.helpers import (
    ALL_PHONES,
    FAILING,
    OTHER,
    PHONE_MASKED,
    S_PASSWORD,
    S_REALM,
    SECRETS,
    UNSUBSCRIBED,
    WRONG_PASSWORD,
    WRONG_SECRETS,
    assert_absent,
    closed_loopback_port,
    exception_text,
    phone_forms,
    run,
)
from whatcounts_provider.exceptions import (
    SmsSubscriberNotFoundError,
    WhatCountsApiError,
    WhatCountsAuthError,
    WhatCountsBulkError,
    WhatCountsTransportError,
)
from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator, StopSmsSubscriberOperator

if TYPE_CHECKING:
    from whatcounts_provider.testing.emulator import WhatCountsEmulator

# The retry policy at a smaller scale: these tests are about what is shown, not about waiting.
pytestmark = pytest.mark.usefixtures("fast_retries")


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


def prepare_single(name: str, emulator: WhatCountsEmulator, use_connection: Any) -> Any:
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
    use_connection(uri=uri, **extras)
    return StopSmsSubscriberOperator(
        task_id="stop", phone="+1 (206) 595-9696", sender_code=SENDER, missing_ok=missing_ok
    )


@pytest.mark.parametrize("scenario", list(SINGLE_SCENARIOS))
def test_single_stop_shows_no_secret_anywhere_and_no_full_phone_in_provider_output(
    scenario, unique_secrets_emulator, use_connection, log_text
):
    emulator = unique_secrets_emulator
    op = prepare_single(scenario, emulator, use_connection)

    result, exc, _ = run(op)

    expected = SINGLE_SCENARIOS[scenario]
    if expected is None:
        assert exc is None, exception_text(exc)
    else:
        assert type(exc) is expected, exception_text(exc)
    if scenario == "retried-503-and-429":
        assert result["status"] == "stopped"
        retried = "\n".join(log_text.provider_lines())
        assert "HTTP 503" in retried, "the scenario must retry a 503"
        assert "HTTP 429" in retried, "the scenario must retry a 429"
    raised = exception_text(exc)

    # No secret anywhere: logs of every logger, stdout/stderr, the exception, the XCom value.
    secrets = SECRETS + (WRONG_SECRETS if scenario == "wrong-password-401" else ())
    assert_absent(log_text(), secrets, "captured output")
    assert_absent(raised, secrets, "the exception")
    assert_absent(json.dumps(result), secrets, "the return value")

    # No full phone in the provider's own log lines or in its exception; the masked form is used.
    provider = "\n".join(log_text.provider_lines())
    assert provider, "the provider's own log lines must have been captured"
    assert_absent(provider, phone_forms([PHONE]), "the provider's log lines")
    assert_absent(raised, phone_forms([PHONE]), "the exception")
    if scenario != "wrong-password-401":  # a 401 is about the connection, not the phone
        assert PHONE_MASKED in provider + raised


def test_single_stop_exceptions_name_the_phone_masked(unique_secrets_emulator, use_connection):
    """The typed errors point at the phone, in masked form (so the assertions above are meaningful)."""
    emulator = unique_secrets_emulator
    for scenario in ("not-subscribed-missing_ok-false", "connection-refused", "read-timeout"):
        emulator.state.reset()
        emulator.faults.clear()
        _, exc, _ = run(prepare_single(scenario, emulator, use_connection))
        assert exc is not None, scenario
        assert PHONE_MASKED in str(exc), (scenario, str(exc))


BULK_SCENARIOS = {
    "mixed-with-503-429-faults": WhatCountsBulkError,
    "wrong-password-401": WhatCountsAuthError,
    "connection-refused": WhatCountsBulkError,
}


@pytest.mark.parametrize("scenario", list(BULK_SCENARIOS))
def test_bulk_stop_shows_no_secret_anywhere_and_no_full_phone_in_provider_output(
    scenario, unique_secrets_emulator, use_connection, log_text
):
    emulator = unique_secrets_emulator
    uri, extras = emulator.conn_uri(), {"max_retries": 8}
    emulator.subscribe(SENDER, [PHONE, OTHER])
    if scenario == "mixed-with-503-429-faults":
        emulator.faults.update(seed=9, p_503=0.2, p_429=0.2, retry_after=(0, 0), failing_phones={FAILING})
    elif scenario == "wrong-password-401":
        uri = uri.replace(S_PASSWORD, WRONG_PASSWORD)
    else:
        uri = f"whatcounts://{S_REALM}:{S_PASSWORD}@http%3A%2F%2F127.0.0.1:{closed_loopback_port()}"
        extras["max_retries"] = 1
    use_connection(uri=uri, **extras)
    inputs = ["+1 206-595-9696", UNSUBSCRIBED, int(FAILING), "(206) 595-9699", "206-555-01"]
    # One worker: the emulator's seeded faults then fall on the same requests every run.
    op = BulkStopSmsSubscriberOperator(task_id="bulk", phones=inputs, sender_code=SENDER, max_workers=1)

    _, exc, context = run(op)

    assert type(exc) is BULK_SCENARIOS[scenario], exception_text(exc)
    raised = exception_text(exc)
    summary = context["ti"].pushed.get("return_value")
    secrets = SECRETS + (WRONG_SECRETS if scenario == "wrong-password-401" else ())
    assert_absent(log_text(), secrets, "captured output")
    assert_absent(raised, secrets, "the exception")
    assert_absent(json.dumps(summary), secrets, "the XCom summary")

    provider = "\n".join(log_text.provider_lines())
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


def test_urllib3_debug_lines_do_show_the_full_phone_in_the_request_path(
    unique_secrets_emulator, use_connection, log_text
):
    """Documents a third-party fact for docs/reliability.md: urllib3's DEBUG access line names the URL path,
    and the path holds the phone. Only urllib3 does this; the provider's own lines never do."""
    emulator = unique_secrets_emulator
    emulator.subscribe(SENDER, [PHONE])
    use_connection(uri=emulator.conn_uri())

    _, exc, _ = run(StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER))

    assert exc is None
    records = [r for r in log_text.records() if PHONE in r.getMessage()]
    assert records, "urllib3 at DEBUG logs the request line with the phone in the path"
    assert {r.name for r in records} == {"urllib3.connectionpool"}
    assert all(r.levelno == logging.DEBUG for r in records)
    assert f'"POST /rest/sms/stopSubscriberSend/{PHONE}/{SENDER} HTTP/1.1" 200' in records[0].getMessage()
    assert_absent("\n".join(log_text.provider_lines()), [PHONE], "the provider's log lines")


def test_xcom_records_keep_full_normalised_phones(unique_secrets_emulator, use_connection):
    """Downstream tasks need the phones: the XCom values are not masked (documented behaviour)."""
    emulator = unique_secrets_emulator
    emulator.subscribe(SENDER, [PHONE, OTHER])
    emulator.faults.update(failing_phones={FAILING})
    use_connection(uri=emulator.conn_uri(), max_retries=0)

    stopped, _, _ = run(StopSmsSubscriberOperator(task_id="a", phone="(206) 595-9696", sender_code=SENDER))
    missing, _, _ = run(StopSmsSubscriberOperator(task_id="b", phone="206.595.9697", sender_code=SENDER))
    bulk = BulkStopSmsSubscriberOperator(
        task_id="bulk", phones=["206-595-9699", "2065959697", "+1 206 595 9698"], sender_code=SENDER
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


@pytest.mark.parametrize("ambiguous", ["opt_out", "review"])
def test_replies_holding_a_phone_never_reach_the_logs(
    unique_secrets_emulator, use_connection, log_text, ambiguous
):
    """A reply is free text: it may quote a phone, and reasons quote the reply. Only the record
    and the receipts hold it."""
    emulator = unique_secrets_emulator
    emulator.subscribe(SENDER, [PHONE])
    use_connection(uri=emulator.conn_uri())
    quoted = "+1 206 555 0143"
    rows = [
        {"phone": PHONE, "message": f"stop texting me, call {quoted} instead?"},
        {"phone": OTHER, "message": f"thanks, my new number is {quoted}"},
    ]
    bulk = BulkStopSmsSubscriberOperator(task_id="stop", rows=rows, sender_code=SENDER, ambiguous=ambiguous)
    single = StopSmsSubscriberOperator(
        task_id="one", phone=OTHER, sender_code=SENDER, message=rows[1]["message"]
    )
    run(bulk)
    result, exc, _ = run(single)
    assert exc is None, exception_text(exc)
    assert result["status"] == "not_opt_out"
    assert_absent(log_text(), phone_forms(["12065550143"]), "captured output")
    # (urllib3's DEBUG lines name the stopped phone in the request path: see the test above.)
    assert_absent(
        "\n".join(log_text.provider_lines()), phone_forms([PHONE, OTHER]), "the provider's log lines"
    )
