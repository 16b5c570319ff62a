"""
### Stop SMS for each STOP reply as it arrives on a queue

Your SMS provider's inbound-reply webhook puts each reply on an SQS queue as JSON:

    {"phone": "+12065550100", "sender_code": "2065551212", "message": "STOP",
     "received_at": "2026-12-06T10:15:00Z", "message_id": "SM8f2c..."}

On Airflow 3 a watcher (`WhatCountsQueueTrigger`, in the triggerer) looks at the queue every
2 s and schedules this DAG when replies wait; the event carries only counts, never a message.
The one task, `stop_sms`, takes what waits (up to 2,000 per run), classifies each reply ("STOP",
"remove me", "no más" are opt-outs; "thanks" is not), stops each opt-out on its sender code,
writes a receipt per reply with its message id, and only then deletes the message. A reply it
cannot honour as written (not JSON, no phone, an unknown field) is receipted `invalid` and
deleted; one whose request failed stays on the queue and comes back after the visibility
timeout. A burst of replies becomes a few runs (`max_active_runs=1`), not one per reply.

On Airflow 2.11, which has no watchers, the same task runs every minute and waits up to 20 s
for replies.

Set `WHATCOUNTS_EXAMPLE_QUEUE_URL` to your queue, `WHATCOUNTS_EXAMPLE_AWS_CONN_ID` to its AWS
connection (default `aws_default`), and `WHATCOUNTS_EXAMPLE_STORAGE` to where receipts go.
Uses the `whatcounts_default` connection. See docs/events.md.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Any

from whatcounts_provider.operators.queue import StopSmsFromQueueOperator

try:
    from airflow.sdk import DAG, Asset, AssetWatcher
except ImportError:  # Airflow 2.11: no watchers; the queue is drained on a schedule
    from airflow import DAG  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

    AssetWatcher = None

STORAGE = os.environ.get("WHATCOUNTS_EXAMPLE_STORAGE", "file:///tmp/whatcounts_example").rstrip("/")
QUEUE_URL = os.environ.get(
    "WHATCOUNTS_EXAMPLE_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/whatcounts-stop-replies"
)
AWS_CONN_ID = os.environ.get("WHATCOUNTS_EXAMPLE_AWS_CONN_ID", "aws_default")
# Must outlast a run: a message not acknowledged by then is delivered again (one more request).
VISIBILITY_TIMEOUT = int(os.environ.get("WHATCOUNTS_EXAMPLE_QUEUE_VISIBILITY_TIMEOUT", "900"))

schedule: Any
if AssetWatcher is not None:
    from whatcounts_provider.triggers.queue import WhatCountsQueueTrigger

    STOP_REPLY_QUEUE = Asset(
        "whatcounts_stop_reply_queue",
        watchers=[
            AssetWatcher(
                name="whatcounts_stop_reply_queue_watcher",
                trigger=WhatCountsQueueTrigger(queue_url=QUEUE_URL, aws_conn_id=AWS_CONN_ID),
            )
        ],
    )
    schedule, wait_seconds = [STOP_REPLY_QUEUE], 1
else:
    schedule, wait_seconds = timedelta(minutes=1), 20

with DAG(
    dag_id="whatcounts_stop_sms_from_queue",
    schedule=schedule,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    # One run at a time: events that come meanwhile start one more run, not one per reply.
    max_active_runs=1,
    tags=["whatcounts", "example"],
    doc_md=__doc__,
):
    StopSmsFromQueueOperator(
        task_id="stop_sms",
        queue_url=QUEUE_URL,
        aws_conn_id=AWS_CONN_ID,
        receipts_path=f"{STORAGE}/receipts",
        visibility_timeout=VISIBILITY_TIMEOUT,
        wait_seconds=wait_seconds,
        # The queue is the retry: a message whose request failed comes back after the visibility
        # timeout, to a later run. An Airflow retry would only take other messages.
        retries=0,
    )
