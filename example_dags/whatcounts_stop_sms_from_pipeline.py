"""
### Stop SMS for every STOP reply in an inbound-replies file

Runs whenever the inbound SMS replies file (the asset `STOP_REPLIES`) is updated. One bulk task,
`stop_sms`, reads the file (`source=`, streamed: only its location is in the DAG):

- every reply in the `message` column is classified (see docs/replies.md): "STOP", "Revoke",
  "remove me from this list", "no más mensajes" are opt-outs; "thanks", HELP, START and questions
  are not, and are receipted `not_opt_out` without a request; an ambiguous reply ("when does the
  sale end?") is sent as an opt-out, since honouring one too many costs far less than one too few
  (`ambiguous="review"` holds those for a person instead);
- each opt-out is stopped on the sender code it replied to (`scope="sender_code"`), with the
  reply's time as `requested_at`: each reply gets a receipt with the business days it took, and
  the task warns when one is past the 10-business-day deadline.

From 2027-01-31 (the FCC's revoke-all rule) a STOP to one of your programs must stop all of them:
list every sender code of the account in the connection's `sender_codes` extra and set
`scope="all"`.

Something must say the file was updated: the producer DAG `whatcounts_land_stop_replies` (a task
with `outlets=[STOP_REPLIES]`), or an asset event from outside Airflow
(`POST /api/v2/assets/events` on 3.x, `POST /api/v1/datasets/events` on 2.11). Set
`WHATCOUNTS_EXAMPLE_STORAGE` (a folder or an `s3://conn_id@bucket/prefix` URI) to move where the
files and receipts live. Uses the `whatcounts_default` connection.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator

try:
    from airflow.sdk import DAG, Asset, ObjectStoragePath, task
except ImportError:  # Airflow 2.11
    from airflow import DAG  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]
    from airflow.datasets import Dataset as Asset  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]
    from airflow.decorators import task  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]
    from airflow.io.path import ObjectStoragePath  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

# One fixed location per deployment (not derived from this file's path, which changes with every
# deployment): producers and asset events name the same URI.
STORAGE = os.environ.get("WHATCOUNTS_EXAMPLE_STORAGE", "file:///tmp/whatcounts_example").rstrip("/")
STOP_REPLIES = Asset(f"{STORAGE}/inbound/stop_replies.csv")
SAMPLE_REPLIES = Path(__file__).resolve().parent / "data" / "stop_replies.csv"

with DAG(
    dag_id="whatcounts_land_stop_replies",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["whatcounts", "example"],
    doc_md="Lands the sample inbound-replies file where the pipeline expects it: the asset's producer.",
):

    @task(outlets=[STOP_REPLIES])
    def land_replies() -> None:
        """Copy the sample replies file to the asset's location (in production: your webhook export)."""
        target = ObjectStoragePath(STOP_REPLIES.uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(SAMPLE_REPLIES.read_bytes())

    land_replies()

with DAG(
    dag_id="whatcounts_stop_sms_from_pipeline",
    schedule=[STOP_REPLIES],
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["whatcounts", "example"],
    doc_md=__doc__,
):
    BulkStopSmsSubscriberOperator(
        task_id="stop_sms",
        source=STOP_REPLIES.uri,
        # Naming the message column makes it required: a renamed column fails the task instead
        # of sending every row, replies that are not opt-outs included.
        columns={"message": "message", "requested_at": "received_at"},
        # "all" once the connection lists the account's sender_codes (revoke-all, 2027-01-31).
        scope="sender_code",
        receipts_path=f"{STORAGE}/receipts",
        retries=2,
    )
