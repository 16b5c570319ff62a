"""
### Opt a large list out of WhatCounts, spread over the workers, and prove it

1. `write_chunks` writes the opt-out list as chunk files under `<storage>/chunks/<run>/` (here:
   generated phones; in production a CRM export or a warehouse query) and returns the files'
   locations. Only locations pass through XCom, never phones.
2. `stop_sms_chunk` is one mapped `BulkStopSmsSubscriberOperator` per chunk file (`source=`), so a
   Celery or Kubernetes executor runs the chunks on different workers. Each writes per-phone
   receipts under `<storage>/receipts/`; a retried chunk resumes from its receipts.
3. `merge_reports` merges the chunk records with `merge_stop_reports`: it fails the run when a
   chunk did not report (a killed worker, an OOM kill, a task marked failed), aborted (rejected
   credentials, a missing file), or left a phone failed or invalid. A green run means every phone
   was honoured.

`storage` is a folder path or an object-storage URI (`s3://aws_default@bucket/whatcounts`) that
every worker can read and write. Sizing: total request rate = chunks running at once x
`max_workers` x requests per worker per second; cap it per chunk with `max_requests_per_second`.
Each chunk retries twice (STOP is idempotent, receipts make a retry resume where it stopped).
"""

from __future__ import annotations

import datetime as dt
import gzip
import re
from typing import Any

from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator
from whatcounts_provider.reports import merge_stop_reports

try:
    from airflow.sdk import DAG, ObjectStoragePath, Param, task
except ImportError:  # Airflow 2.11
    from airflow import DAG  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]
    from airflow.decorators import task  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]
    from airflow.io.path import ObjectStoragePath  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]
    from airflow.models.param import Param  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

# Chunks are mapped task instances: stay well below Airflow's max_map_length (1024 by default).
MAX_CHUNKS = 500

with DAG(
    dag_id="whatcounts_bulk_opt_out",
    description="Opt a large list of phones out of a WhatCounts SMS sender code, in parallel chunks",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_tasks=4,
    tags=["whatcounts", "example"],
    params={
        "count": Param(50_000, type="integer", minimum=1, maximum=1_000_000, title="Phones to opt out"),
        "chunk_size": Param(10_000, type="integer", minimum=1, title="Phones per mapped task"),
        "sender_code": Param("2065551212", type="string", pattern="^[A-Za-z0-9]{1,20}$", title="Sender code"),
        "storage": Param(
            "file:///tmp/whatcounts_example",
            type="string",
            minLength=1,
            title="Storage",
            description="Folder or object-storage URI for chunk files and receipts, shared by all workers.",
        ),
    },
    doc_md=__doc__,
) as dag:

    @task(show_return_value_in_logs=False)
    def write_chunks(params: dict[str, Any], run_id: str) -> list[str]:
        """Write the opt-out list as gzipped CSV chunk files; return their locations."""
        # Demo data; in production this reads the real opt-out extract.
        from whatcounts_provider.testing.series import phone_series

        phones = phone_series(params["count"])
        size = max(params["chunk_size"], -(-len(phones) // MAX_CHUNKS))
        folder = ObjectStoragePath(params["storage"]) / "chunks" / re.sub(r"[^\w.-]", "_", run_id)
        folder.mkdir(parents=True, exist_ok=True)
        locations = []
        for number, start in enumerate(range(0, len(phones), size)):
            chunk = folder / f"chunk-{number:04d}.csv.gz"
            lines = "".join(f"{phone}\n" for phone in phones[start : start + size])
            chunk.write_bytes(gzip.compress(f"phone\n{lines}".encode()))
            locations.append(str(chunk))
        return locations

    chunks = write_chunks()

    stop_chunks = BulkStopSmsSubscriberOperator.partial(
        task_id="stop_sms_chunk",
        sender_code="{{ params.sender_code }}",
        receipts_path="{{ params.storage }}/receipts",
        max_workers=8,
        max_requests_per_second=None,
        retries=2,
        retry_delay=dt.timedelta(seconds=10),
    ).expand(source=chunks)

    @task(trigger_rule="all_done", show_return_value_in_logs=False, multiple_outputs=False)
    def merge_reports(reports: Any, chunk_locations: list[str]) -> dict[str, Any]:
        """One report for the run; fails it unless every chunk reported and every phone was honoured."""
        return merge_stop_reports(reports, expected=chunk_locations)

    merge_reports(stop_chunks.output, chunks)
