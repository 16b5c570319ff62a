"""StopSmsFromQueueOperator: arguments checked when the DAG is parsed, templated fields, and a run
against SQS (moto's server on 127.0.0.1) and the emulator that pushes the record."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import SENDER, make_context, phones
from whatcounts_provider.exceptions import WhatCountsConfigError, WhatCountsInputError
from whatcounts_provider.operators.queue import StopSmsFromQueueOperator

if TYPE_CHECKING:
    from tests.conftest import Publish
    from whatcounts_provider.queues import SqsQueue

CONTEXT = {"dag_id": "whatcounts_stop_sms_from_queue", "run_id": "asset_triggered__1", "task_id": "stop_sms"}


def operator(**kwargs: Any) -> StopSmsFromQueueOperator:
    from tests.receipts.support import S3_CONN_ID

    arguments = {"task_id": "stop_sms", "queue_url": "u", "receipts_path": "r", "aws_conn_id": S3_CONN_ID}
    return StopSmsFromQueueOperator(**{**arguments, **kwargs})


def test_template_fields_are_the_documented_ones():
    assert StopSmsFromQueueOperator.template_fields == (
        "queue_url",
        "receipts_path",
        "sender_code",
        "whatcounts_conn_id",
        "scope",
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"scope": "everything"}, WhatCountsConfigError, "scope"),
        ({"ambiguous": "maybe"}, WhatCountsConfigError, "ambiguous"),
        ({"hook_params": {"colour": 1}}, WhatCountsInputError, "'colour'"),
        ({"opt_out_phrases": [""]}, WhatCountsInputError, "opt_out_phrases"),
    ],
)
def test_bad_arguments_fail_when_the_dag_is_parsed(kwargs: dict[str, Any], error: type, message: str):
    with pytest.raises(error, match=message):
        operator(**kwargs)


@pytest.mark.usefixtures("fast_retries")
def test_it_honours_the_queue_and_pushes_the_record(
    whatcounts_conn_env: Any, queue: SqsQueue, publish: Publish, tmp_path: Any
) -> None:
    whatcounts_conn_env.subscribe(SENDER, phones(2))
    publish(*({"phone": p, "message": "STOP"} for p in phones(2)))
    context = make_context(**CONTEXT)
    task = operator(queue_url=queue.url, receipts_path=str(tmp_path), sender_code=SENDER, wait_seconds=0)
    record = task.execute(context)
    assert (record["stopped"], record["queue"]["acknowledged"]) == (2, 2)
    assert queue.counts() == (0, 0)
    json.dumps(record)  # an XCom


@pytest.mark.usefixtures("fast_retries")
def test_a_run_with_bad_messages_pushes_the_record_before_it_fails(
    whatcounts_conn_env: Any, queue: SqsQueue, publish: Publish, tmp_path: Any
) -> None:
    publish("not json")
    context = make_context(**CONTEXT)
    task = operator(queue_url=queue.url, receipts_path=str(tmp_path), sender_code=SENDER, wait_seconds=0)
    with pytest.raises(Exception, match="invalid"):
        task.execute(context)
    pushed = context["ti"].pushed["return_value"]
    assert (len(pushed["invalid"]), pushed["queue"]["acknowledged"]) == (1, 1)
    assert queue.counts() == (0, 0)
