"""Which errors fail a task at once (AirflowFailException: no retry can fix them), which keep its retries."""

from __future__ import annotations

import pickle

import pytest

from whatcounts_provider.exceptions import (
    InvalidPhoneNumberError,
    InvalidSenderCodeError,
    SmsSubscriberNotFoundError,
    WhatCountsApiError,
    WhatCountsAuthError,
    WhatCountsBulkError,
    WhatCountsCancelledError,
    WhatCountsCircuitOpenError,
    WhatCountsConfigError,
    WhatCountsError,
    WhatCountsInvalidInputsError,
    WhatCountsTransportError,
)

# What the task runner catches to skip the task's retries: airflow.sdk's on 3.2+, before that
# (3.0, 3.1 and 2.11) airflow.exceptions'.
try:
    from airflow.sdk.exceptions import AirflowException, AirflowFailException
except ImportError:
    from airflow.exceptions import AirflowException, AirflowFailException  # type: ignore[no-redef]

NO_RETRY_CAN_FIX = {
    "rejected credentials": WhatCountsAuthError("bad password", status_code=401),
    "unusable connection": WhatCountsConfigError("Host is empty"),
    "invalid phone": InvalidPhoneNumberError("phone '***' is invalid"),
    "invalid sender code": InvalidSenderCodeError("sender_code is empty"),
    # WhatCounts' final answer (missing_ok=False): a phone already stopped answers the same way.
    "not subscribed": SmsSubscriberNotFoundError("no subscription", status_code=500),
    "only invalid or not subscribed": WhatCountsInvalidInputsError("2 invalid", summary={}),
}
WORTH_A_TASK_RETRY = {
    "no answer": WhatCountsTransportError("timed out"),
    "server error": WhatCountsApiError("Service Unavailable", status_code=503),
    "some phones failed": WhatCountsBulkError("2 failed", summary={}),
    "cancelled": WhatCountsCancelledError("cancelled"),
    # The run's circuit breaker stopped sending during an outage: a later try sends the pair.
    "circuit breaker open": WhatCountsCircuitOpenError("not sent", failures=20, seconds=61.0),
}


@pytest.mark.parametrize("error", NO_RETRY_CAN_FIX.values(), ids=NO_RETRY_CAN_FIX.keys())
def test_errors_no_retry_can_fix_fail_the_task_without_spending_retries(error):
    assert isinstance(error, AirflowFailException)


@pytest.mark.parametrize("error", WORTH_A_TASK_RETRY.values(), ids=WORTH_A_TASK_RETRY.keys())
def test_other_errors_keep_the_task_retries(error):
    assert not isinstance(error, AirflowFailException)


@pytest.mark.parametrize("error", [*NO_RETRY_CAN_FIX.values(), *WORTH_A_TASK_RETRY.values()])
def test_every_error_keeps_its_documented_bases(error):
    assert isinstance(error, WhatCountsError)
    assert isinstance(error, AirflowException)


def test_the_specific_bases_are_kept():
    assert issubclass(WhatCountsAuthError, WhatCountsApiError)
    assert NO_RETRY_CAN_FIX["rejected credentials"].status_code == 401
    for error in (WhatCountsConfigError, InvalidPhoneNumberError, InvalidSenderCodeError):
        assert issubclass(error, ValueError)


def test_a_circuit_breaker_error_is_a_transport_error_that_survives_pickling():
    error = WhatCountsCircuitOpenError("not sent", failures=20, seconds=61.0, reasons=("HTTP 503",))
    assert isinstance(error, WhatCountsTransportError)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 -- bytes we just made
    assert (str(copy), copy.failures, copy.seconds, copy.reasons) == ("not sent", 20, 61.0, ("HTTP 503",))


def test_a_deadline_error_fails_without_retries_and_keeps_its_list_through_pickling():
    from whatcounts_provider.exceptions import WhatCountsDeadlineError

    error = WhatCountsDeadlineError("1 opt-out(s) not honoured yet", risks=[{"phone": "12062000001"}])
    assert isinstance(error, AirflowFailException), "the receipts will not change on a retry"
    assert isinstance(error, WhatCountsError)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 -- bytes we just made
    assert (str(copy), copy.risks) == ("1 opt-out(s) not honoured yet", [{"phone": "12062000001"}])
    assert WhatCountsDeadlineError("none").risks == []
