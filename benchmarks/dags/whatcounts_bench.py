"""DAGs of the benchmark's "dags" section: one bulk task versus one mapped task per phone.

``benchmarks/dag_runs.py`` names a JSON file of phones, sender codes and connection id in
``WHATCOUNTS_BENCH_DAGS_CONFIG``; without it the DAGs load with one placeholder phone each.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from airflow.sdk import DAG

from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator, StopSmsSubscriberOperator

_PLACEHOLDER = {"sender_code": "2065550199", "phones": ["12062999999"]}
_path = os.environ.get("WHATCOUNTS_BENCH_DAGS_CONFIG")
CONFIG: dict[str, Any] = (
    json.loads(Path(_path).read_text())
    if _path
    else {
        "conn_id": "whatcounts_default",
        "warmup": _PLACEHOLDER,
        "bulk": _PLACEHOLDER,
        "mapped": _PLACEHOLDER,
    }
)
START = dt.datetime(2026, 1, 1)


def bulk(part: dict[str, Any], task_id: str) -> BulkStopSmsSubscriberOperator:
    return BulkStopSmsSubscriberOperator(
        task_id=task_id,
        phones=part["phones"],
        sender_code=part["sender_code"],
        whatcounts_conn_id=CONFIG["conn_id"],
    )


def mapped(part: dict[str, Any], task_id: str) -> Any:
    return StopSmsSubscriberOperator.partial(
        task_id=task_id, sender_code=part["sender_code"], whatcounts_conn_id=CONFIG["conn_id"]
    ).expand(phone=part["phones"])


with DAG(dag_id="whatcounts_bench_warmup", schedule=None, start_date=START, catchup=False):
    half = len(CONFIG["warmup"]["phones"]) // 2
    bulk({**CONFIG["warmup"], "phones": CONFIG["warmup"]["phones"][:half]}, "bulk")
    mapped({**CONFIG["warmup"], "phones": CONFIG["warmup"]["phones"][half:]}, "mapped")

with DAG(dag_id="whatcounts_bench_bulk", schedule=None, start_date=START, catchup=False):
    bulk(CONFIG["bulk"], "stop_all")

with DAG(dag_id="whatcounts_bench_mapped", schedule=None, start_date=START, catchup=False):
    mapped(CONFIG["mapped"], "stop_one")
