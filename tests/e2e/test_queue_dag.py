"""The queue example: STOP replies on an SQS queue (moto's server on 127.0.0.1) honoured by one
task that receipts each with its message id and only then deletes it; the same DAG file drains
the queue on a one-minute schedule on Airflow 2.11 and from a queue watcher on Airflow 3."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from airflow.utils.state import DagRunState

from tests.e2e.dag_runs import DagBag, assert_no_phone, load_example_dags, return_values, task_states
from tests.helpers import AIRFLOW_3, SENDER, phones
from whatcounts_provider.operators.queue import StopSmsFromQueueOperator
from whatcounts_provider.queues import SqsQueue, sqs_client
from whatcounts_provider.receipts import iter_receipts

if TYPE_CHECKING:
    from collections.abc import Iterator

DAG_ID = "whatcounts_stop_sms_from_queue"


@pytest.fixture(scope="module")
def example_queue(s3_endpoint: str, example_storage: str) -> Iterator[SqsQueue]:
    """A queue on the loopback SQS server, named to the example through its environment."""
    from tests.receipts.support import S3_CONN_ID

    client = sqs_client(S3_CONN_ID)
    url = client.create_queue(QueueName=f"example-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WHATCOUNTS_EXAMPLE_QUEUE_URL", url)
        patch.setenv("WHATCOUNTS_EXAMPLE_AWS_CONN_ID", S3_CONN_ID)
        yield SqsQueue(client, url)


@pytest.fixture(scope="module")
def queue_dags(example_queue: SqsQueue) -> DagBag:
    bag = load_example_dags()
    assert bag.import_errors == {}
    return bag


def test_one_task_drains_the_queue_one_run_at_a_time(
    queue_dags: DagBag, example_queue: SqsQueue, example_storage
):
    dag = queue_dags.dags[DAG_ID]
    assert set(dag.task_dict) == {"stop_sms"}
    task = dag.get_task("stop_sms")
    assert isinstance(task, StopSmsFromQueueOperator)
    assert (task.queue_url, task.receipts_path) == (example_queue.url, f"{example_storage}/receipts")
    assert task.retries == 0, "the queue redelivers what failed: an Airflow retry would take other messages"
    assert dag.max_active_runs == 1


@pytest.mark.skipif(not AIRFLOW_3, reason="Airflow 3 schedules on a queue watcher")
def test_on_airflow_3_a_queue_watcher_schedules_it(queue_dags: DagBag, example_queue: SqsQueue):
    from whatcounts_provider.triggers.queue import WhatCountsQueueTrigger

    (asset,) = queue_dags.dags[DAG_ID].timetable.asset_condition.objects
    (watcher,) = asset.watchers
    assert isinstance(watcher.trigger, WhatCountsQueueTrigger)
    assert watcher.trigger.queue_url == example_queue.url
    assert queue_dags.dags[DAG_ID].get_task("stop_sms").wait_seconds == 1


@pytest.mark.skipif(AIRFLOW_3, reason="Airflow 2.11 has no watchers: it drains on a schedule")
def test_on_airflow_2_it_drains_the_queue_every_minute(queue_dags: DagBag):
    dag = queue_dags.dags[DAG_ID]
    assert dag.schedule_interval == timedelta(minutes=1)
    assert dag.get_task("stop_sms").wait_seconds == 20
    with pytest.raises(ImportError, match="needs Airflow 3"):
        import whatcounts_provider.triggers.queue  # noqa: F401


@pytest.mark.e2e
def test_each_reply_on_the_queue_is_honoured_receipted_and_deleted(
    airflow_db, whatcounts_conn_env, queue_dags: DagBag, example_queue: SqsQueue, task_logs: Any
):
    emulator = whatcounts_conn_env
    numbers = phones(4)
    emulator.subscribe(SENDER, numbers)
    replies = ["STOP", "thanks!", "remove me from this list", "no más mensajes"]
    for n, (phone, text) in enumerate(zip(numbers, replies, strict=True)):
        body = {"phone": phone, "sender_code": SENDER, "message": text, "message_id": f"SM-{n}"}
        example_queue.client.send_message(QueueUrl=example_queue.url, MessageBody=json.dumps(body))

    run = queue_dags.dags[DAG_ID].test()

    assert run.state == DagRunState.SUCCESS
    assert task_states(run) == {"stop_sms": {"success"}}
    assert [emulator.state.post_count(SENDER, p) for p in numbers] == [1, 0, 1, 1]
    record = return_values(run, "stop_sms")[-1]
    assert (record["stopped"], record["not_opt_out"]) == (3, 1)
    assert record["queue"]["acknowledged"] == 4
    assert example_queue.counts() == (0, 0)
    receipts = [r for r in iter_receipts(record["receipts"]) if r["run_id"] == run.run_id]
    assert sorted((r["message_id"], r["status"]) for r in receipts) == [
        ("SM-0", "stopped"), ("SM-1", "not_opt_out"), ("SM-2", "stopped"), ("SM-3", "stopped"),
    ]  # fmt: skip
    assert_no_phone(task_logs(), [form for p in numbers for form in (p, p[1:])])
