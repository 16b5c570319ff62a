"""
### Stop SMS for every STOP reply in an inbound-replies file

Runs whenever the inbound SMS replies file (the asset `STOP_REPLIES`) is updated:

1. `select_opt_outs` keeps the replies that are opt-out keywords (STOP, UNSUBSCRIBE, ...), skips
   the rest ("thanks", HELP, questions) and writes them to a file; only its location goes
   through XCom.
2. `stop_sms` opts every one of them out of the sender code it replied to, in one bulk task
   (`source=`), with the reply's time as `requested_at`: each phone gets a receipt with the
   business days it took, and the task warns when one is past the 10-business-day deadline.

Something must say the file was updated: the producer DAG `whatcounts_land_stop_replies` (a task
with `outlets=[STOP_REPLIES]`), or an asset event from outside Airflow
(`POST /api/v2/assets/events` on 3.x, `POST /api/v1/datasets/events` on 2.11). Set
`WHATCOUNTS_EXAMPLE_STORAGE` (a folder or an `s3://conn_id@bucket/prefix` URI) to move where the
files and receipts live. Uses the `whatcounts_default` connection.
"""

from __future__ import annotations

import csv
import io
import os
import re
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

# The CTIA standard opt-out keywords: US carriers require an SMS program to honour any of
# them, in any letter case, as a request to stop. (HELP is a CTIA keyword too, but not an opt-out.)
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})

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

    @task(show_return_value_in_logs=False)
    def select_opt_outs(run_id: str) -> str:
        """Write the replies that are opt-out keywords to a CSV file; return its location."""
        kept = io.StringIO()
        writer = csv.writer(kept)
        writer.writerow(["phone", "sender_code", "received_at"])
        replies = ObjectStoragePath(STOP_REPLIES.uri)
        with replies.open("r", newline="", encoding="utf-8") as handle:
            # Line by line: Airflow 2.11's file wrapper cannot be iterated directly.
            for row in csv.DictReader(iter(handle.readline, "")):
                if row["message"].strip().upper() in OPT_OUT_KEYWORDS:
                    writer.writerow([row["phone"], row["sender_code"], row["received_at"]])
        name = re.sub(r"[^\w.-]", "_", run_id)
        target = ObjectStoragePath(f"{STORAGE}/opt_outs/{name}.csv")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(kept.getvalue(), encoding="utf-8")
        return str(target)

    BulkStopSmsSubscriberOperator(
        task_id="stop_sms",
        source=select_opt_outs(),
        columns={"requested_at": "received_at"},
        receipts_path=f"{STORAGE}/receipts",
        retries=2,
    )
