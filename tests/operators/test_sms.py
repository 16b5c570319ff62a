"""StopSmsSubscriberOperator: templating sources, the return record, missing_ok, hook caching."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.helpers import NO_SUBSCRIPTION, PHONE, SENDER, STOP_URL, make_context
from whatcounts_provider._compat import AirflowFailException
from whatcounts_provider.exceptions import (
    InvalidPhoneNumberError,
    InvalidSenderCodeError,
    SmsSubscriberNotFoundError,
    WhatCountsConfigError,
    WhatCountsError,
    WhatCountsInputError,
)
from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator, StopSmsSubscriberOperator

try:
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2.11
    from airflow import DAG  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]
    from airflow.decorators import task  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

RECORD = {"id": 15, "smsSubscriberId": 424, "smsSenderId": 3, "realmId": 10, "campaignId": 0, "phone": PHONE}


def render(op: StopSmsSubscriberOperator, context: dict[str, Any]) -> StopSmsSubscriberOperator:
    op.render_template_fields(context)
    return op


def test_template_fields_are_the_documented_ones():
    assert StopSmsSubscriberOperator.template_fields == (
        "phone",
        "sender_code",
        "whatcounts_conn_id",
        "receipts_path",
        "requested_at",
        "message",
        "scope",
    )


def test_params_render_into_phone_and_sender_code():
    op = StopSmsSubscriberOperator(
        task_id="stop", phone="{{ params.phone }}", sender_code="{{ params.sender_code }}"
    )
    render(op, make_context(params={"phone": "+1 (206) 595-9696", "sender_code": SENDER}))
    assert (op.phone, op.sender_code) == ("+1 (206) 595-9696", SENDER)


def test_xcom_pull_in_jinja_renders_the_upstream_value():
    op = StopSmsSubscriberOperator(
        task_id="stop",
        phone="{{ ti.xcom_pull(task_ids='extract') }}",
        sender_code="{{ dag_run.conf['sender_code'] }}",
    )
    render(op, make_context(xcoms={"extract": "206-595-9696"}, conf={"sender_code": SENDER}))
    assert (op.phone, op.sender_code) == ("206-595-9696", SENDER)


def test_xcomarg_keeps_the_native_value():
    """What the pipeline example DAG relies on: an XComArg in a templated field keeps the native value."""
    with DAG("xcomarg_render", schedule=None, start_date=dt.datetime(2026, 1, 1)):

        @task
        def extract() -> int:
            return 2065959696

        op = StopSmsSubscriberOperator(task_id="stop", phone=extract(), sender_code=SENDER)
    render(op, make_context(xcoms={"extract": 2065959696}))
    assert op.phone == 2065959696


def test_conn_id_is_templated(use_connection, requests_mock):
    use_connection(conn_id="whatcounts_eu", host="eu.example.com", login="eu-realm", password="pw-12345")
    requests_mock.post(f"https://eu.example.com/rest/sms/stopSubscriberSend/{PHONE}/{SENDER}", json=RECORD)
    op = StopSmsSubscriberOperator(
        task_id="stop", phone=PHONE, sender_code=SENDER, whatcounts_conn_id="{{ params.conn }}"
    )
    context = make_context(params={"conn": "whatcounts_eu"})
    render(op, context)
    assert op.execute(context)["status"] == "stopped"
    assert requests_mock.call_count == 1


def test_execute_returns_the_documented_record(requests_mock):
    requests_mock.post(STOP_URL, json=RECORD)
    op = StopSmsSubscriberOperator(task_id="stop", phone="(206) 595-9696", sender_code=int(SENDER))
    result = op.execute(make_context())
    assert result == {"phone": PHONE, "sender_code": SENDER, "status": "stopped", "response": RECORD}


def test_missing_ok_true_reports_not_subscribed_with_a_warning(requests_mock, log_text):
    requests_mock.post(STOP_URL, status_code=500, json=NO_SUBSCRIPTION)
    op = StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER)
    result = op.execute(make_context())
    assert result == {"phone": PHONE, "sender_code": SENDER, "status": "not_subscribed", "response": None}
    assert requests_mock.call_count == 1, "the documented 500 must not be retried"
    own_lines = [line for line in log_text().splitlines() if "whatcounts_provider" in line]
    assert any("*******9696 has no SMS subscription" in line for line in own_lines)
    assert not any(PHONE in line for line in own_lines)


def test_missing_ok_false_fails_the_task(requests_mock):
    requests_mock.post(STOP_URL, status_code=500, json=NO_SUBSCRIPTION)
    op = StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER, missing_ok=False)
    with pytest.raises(SmsSubscriberNotFoundError) as excinfo:
        op.execute(make_context())
    assert excinfo.value.status_code == 500
    assert PHONE not in str(excinfo.value)
    assert isinstance(excinfo.value, AirflowFailException), "a retry gets the same answer: none is spent"


@pytest.mark.parametrize(
    ("phone", "sender_code", "error"),
    [
        (["2065959696", "2065959697"], SENDER, InvalidPhoneNumberError),
        ("not a phone", SENDER, InvalidPhoneNumberError),
        (PHONE, "../admin", InvalidSenderCodeError),
        (PHONE, "", InvalidSenderCodeError),
    ],
    ids=["list-to-single-operator", "letters", "path-in-sender-code", "empty-sender-code"],
)
def test_bad_input_fails_before_any_request(requests_mock, phone, sender_code, error):
    op = StopSmsSubscriberOperator(task_id="stop", phone=phone, sender_code=sender_code)
    with pytest.raises(error):
        op.execute(make_context())
    assert requests_mock.call_count == 0


def test_missing_ok_false_fails_on_a_phone_without_subscription(whatcounts_conn_env):
    op = StopSmsSubscriberOperator(task_id="stop_sms", phone=PHONE, sender_code=SENDER, missing_ok=False)
    with pytest.raises(SmsSubscriberNotFoundError):
        op.execute({})
    assert whatcounts_conn_env.state.post_count(SENDER, PHONE) == 1, "never retried"


def test_hook_is_built_once_per_task(requests_mock):
    requests_mock.post(STOP_URL, json=RECORD)
    op = StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER)
    assert op.hook is op.hook
    op.execute(make_context())
    session = op.hook.get_conn()
    op.execute(make_context())
    assert op.hook.get_conn() is session
    assert requests_mock.call_count == 2


def test_partial_expand_builds_one_task_per_phone():
    with DAG("mapped", schedule=None, start_date=dt.datetime(2026, 1, 1)):
        mapped = StopSmsSubscriberOperator.partial(task_id="stop", sender_code=SENDER).expand(
            phone=["2065959696", "2065959697"]
        )
    assert mapped.partial_kwargs["sender_code"] == SENDER
    assert mapped.expand_input.value["phone"] == ["2065959696", "2065959697"]


# --- hook settings through the operators: hook_params > connection extra > default --------------


@pytest.mark.parametrize(
    ("extra", "hook_params", "attempts"),
    [
        ({}, None, 6),  # the default: 5 retries
        ({"max_retries": 2}, None, 3),  # the connection extra
        ({"max_retries": 2}, {"max_retries": 0}, 1),  # hook_params win over the extra
        ({}, {"max_retries": 1}, 2),
    ],
    ids=["default", "connection-extra", "hook-params-over-extra", "hook-params-over-default"],
)
@pytest.mark.parametrize("operator", ["single", "bulk"])
def test_hook_params_take_precedence_over_the_connection(
    requests_mock, use_connection, fast_retries, extra, hook_params, attempts, operator
):
    use_connection(**extra)
    requests_mock.post(STOP_URL, status_code=503, json={})
    if operator == "single":
        op: Any = StopSmsSubscriberOperator(
            task_id="stop", phone=PHONE, sender_code=SENDER, hook_params=hook_params
        )
    else:
        op = BulkStopSmsSubscriberOperator(
            task_id="stop", phones=[PHONE], sender_code=SENDER, hook_params=hook_params
        )
    with pytest.raises(WhatCountsError):
        op.execute(make_context())
    assert requests_mock.call_count == attempts


def test_hook_params_set_the_timeout(use_connection):
    use_connection(timeout=7)
    op = StopSmsSubscriberOperator(
        task_id="stop", phone=PHONE, sender_code=SENDER, hook_params={"timeout": 3}
    )
    assert op.hook.settings.read_timeout == 3


@pytest.mark.parametrize(
    ("hook_params", "message"),
    [
        ({"max_retry": 1}, "hook_params has unknown key(s) 'max_retry'; the hook takes timeout, max_retries"),
        ([("max_retries", 1)], "hook_params must be a mapping of hook settings, got list"),
    ],
)
@pytest.mark.parametrize("operator", [StopSmsSubscriberOperator, BulkStopSmsSubscriberOperator])
def test_bad_hook_params_fail_when_the_dag_is_parsed(operator, hook_params, message):
    kwargs = {"phone": PHONE} if operator is StopSmsSubscriberOperator else {"phones": [PHONE]}
    with pytest.raises(WhatCountsInputError) as error:
        operator(task_id="stop", sender_code=SENDER, hook_params=hook_params, **kwargs)
    assert str(error.value).startswith(message)


# --- replies and scope -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scope": "everything"}, "scope must be 'sender_code' or 'all', got 'everything'"),
        ({"ambiguous": "maybe"}, "ambiguous must be 'opt_out' or 'review', got 'maybe'"),
        ({"opt_out_phrases": ["unfollow", "  !! "]}, "opt_out_phrases / not_opt_out_phrases: "),
        ({"not_opt_out_phrases": [42]}, "opt_out_phrases / not_opt_out_phrases: "),
    ],
)
def test_bad_reply_and_scope_arguments_fail_when_the_dag_is_parsed(kwargs, message):
    with pytest.raises(WhatCountsInputError) as error:
        BulkStopSmsSubscriberOperator(task_id="stop", phones=[PHONE], sender_code=SENDER, **kwargs)
    assert str(error.value).startswith(message)
    if "phrases" in message:
        assert repr(next(iter(kwargs.values()))[-1]) in str(error.value), "the entry is named"


def test_a_templated_scope_is_checked_once_rendered(requests_mock):
    op = StopSmsSubscriberOperator(
        task_id="stop", phone=PHONE, sender_code=SENDER, scope="{{ params.scope }}"
    )
    context = make_context(params={"scope": "al"})
    render(op, context)
    with pytest.raises(WhatCountsInputError, match="scope must be 'sender_code' or 'all', got 'al'"):
        op.execute(context)
    assert requests_mock.call_count == 0


def test_a_reply_that_is_not_an_opt_out_sends_nothing_and_says_so(requests_mock, log_text):
    op = StopSmsSubscriberOperator(
        task_id="stop", phone=PHONE, sender_code=SENDER, message="{{ params.reply }}"
    )
    context = make_context(params={"reply": "HELP"})
    render(op, context)
    result = op.execute(context)
    assert (result["status"], result["response"], result["reply_decision"]) == (
        "not_opt_out",
        None,
        "not_opt_out",
    )
    assert "help" in result["reply_reason"].lower()
    assert requests_mock.call_count == 0
    assert "*******9696" in log_text()
    assert PHONE not in log_text()


def test_the_operators_own_phrases_decide_its_replies(requests_mock):
    requests_mock.post(STOP_URL, json=RECORD)
    op = StopSmsSubscriberOperator(
        task_id="stop", phone=PHONE, sender_code=SENDER, message="unfollow", opt_out_phrases=["unfollow"]
    )
    assert op.execute(make_context())["status"] == "stopped"


def test_scope_all_without_sender_codes_fails_before_any_request_naming_the_extra(requests_mock):
    op = StopSmsSubscriberOperator(task_id="stop", phone=PHONE, sender_code=SENDER, scope="all")
    with pytest.raises(WhatCountsConfigError, match="sender_codes extra") as error:
        op.execute(make_context())
    assert isinstance(error.value, AirflowFailException)
    assert requests_mock.call_count == 0
