"""
Opt a large list of phones out of a WhatCounts sender code, spread over the executor's workers.

An upstream task produces the opt-out list (here: generated phones; in production a CRM export,
a compliance file or a warehouse query) and splits it into chunks. Each chunk becomes one mapped
``BulkStopSmsSubscriberOperator`` task, so a Celery or Kubernetes executor runs the chunks on
different workers, each with its own small pool of concurrent requests. A final task merges the
chunk summaries into one report and fails the run if any phone still needs attention.

Sizing: total request rate = mapped tasks running at once x ``max_workers`` x requests per worker
per second; keep it under the account's API limit with ``max_requests_per_second`` (a per-task
cap: divide the account limit by the number of chunks that run at the same time).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator
from whatcounts_provider.phone import mask_phone
from whatcounts_provider.testing.series import phone_series

try:
    from airflow.sdk import DAG, Param, task
except ImportError:  # Airflow 2.11
    from airflow import DAG  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]
    from airflow.decorators import task  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]
    from airflow.models.param import Param  # type: ignore[no-redef,assignment,attr-defined,unused-ignore]

log = logging.getLogger("airflow.task")

# Chunks are mapped task instances: stay well below Airflow's max_map_length (1024 by default).
MAX_CHUNKS = 500


with DAG(
    dag_id="whatcounts_bulk_opt_out",
    description="Opt a large list of phones out of a WhatCounts SMS sender code, in parallel chunks",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1),
    catchup=False,
    max_active_tasks=4,
    tags=["whatcounts", "example"],
    params={
        "count": Param(50_000, type="integer", minimum=1, title="How many phones to opt out"),
        "chunk_size": Param(10_000, type="integer", minimum=1, title="Phones per mapped task"),
        "sender_code": Param("2065551212", type="string", pattern="^[A-Za-z0-9]{1,20}$", title="Sender code"),
    },
    doc_md=__doc__,
) as dag:

    @task
    def extract_opt_outs(params: dict[str, Any]) -> list[list[str]]:
        """Produce the opt-out list and cut it into chunks, one per mapped task."""
        phones = phone_series(params["count"])  # stands in for a real opt-out extract
        size = max(params["chunk_size"], -(-len(phones) // MAX_CHUNKS))
        return [phones[i : i + size] for i in range(0, len(phones), size)]

    stop_chunks = BulkStopSmsSubscriberOperator.partial(
        task_id="stop_sms_chunk",
        sender_code="{{ params.sender_code }}",
        max_workers=8,
        max_requests_per_second=None,
    ).expand(phones=extract_opt_outs())

    @task(trigger_rule="all_done")
    def merge_reports(summaries: list[dict[str, Any] | None]) -> dict[str, Any]:
        """One report for the whole run; runs even when a chunk failed (its summary is in XCom)."""
        report: dict[str, Any] = {
            "chunks": 0,
            "total": 0,
            "stopped": 0,
            "duplicates": 0,
            "not_subscribed": [],
            "invalid": [],
            "failed": [],
        }
        missing = 0
        for summary in summaries:
            if summary is None:  # a chunk that died before it could report
                missing += 1
                continue
            report["chunks"] += 1
            for key in ("total", "stopped", "duplicates"):
                report[key] += summary[key]
            for key in ("not_subscribed", "invalid", "failed"):
                report[key].extend(summary[key])
        log.info(
            "%d chunks: %d phones, %d stopped, %d not subscribed, %d invalid, %d failed; first failures: %s",
            report["chunks"],
            report["total"],
            report["stopped"],
            len(report["not_subscribed"]),
            len(report["invalid"]),
            len(report["failed"]),
            [mask_phone(item["phone"]) for item in report["failed"][:10]],
        )
        if missing or report["failed"] or report["invalid"]:
            raise RuntimeError(
                f"{len(report['failed'])} phones failed, {len(report['invalid'])} inputs were invalid, "
                f"{missing} chunks did not report: see the chunk summaries in XCom and re-run"
            )
        return report

    merge_reports(stop_chunks.output)
