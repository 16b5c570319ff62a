"""DAGs of the Airflow-level benchmark (c): one bulk task versus one mapped task per phone.

``benchmarks/bench.py`` writes the phones, sender codes and connection id to a JSON file and
names it in ``WHATCOUNTS_BENCH_DAGS_CONFIG`` before parsing this folder. Without it (any other
parse) the DAGs still load, with one placeholder phone, so this file never breaks a DagBag.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from airflow.sdk import DAG

from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator, StopSmsSubscriberOperator

_PLACEHOLDER: dict[str, Any] = {
    "conn_id": "whatcounts_default",
    "warmup": {"sender_code": "2065550199", "phones": ["12062999999"]},
    "bulk": {"sender_code": "2065550199", "phones": ["12062999999"]},
    "mapped": {"sender_code": "2065550199", "phones": ["12062999999"]},
}


def _config() -> dict[str, Any]:
    path = os.environ.get("WHATCOUNTS_BENCH_DAGS_CONFIG")
    return json.loads(Path(path).read_text()) if path else _PLACEHOLDER


CONFIG = _config()
START = dt.datetime(2026, 1, 1)


def _bulk_task(part: dict[str, Any], task_id: str) -> BulkStopSmsSubscriberOperator:
    return BulkStopSmsSubscriberOperator(
        task_id=task_id,
        phones=part["phones"],
        sender_code=part["sender_code"],
        whatcounts_conn_id=CONFIG["conn_id"],
    )


def _mapped_tasks(part: dict[str, Any], task_id: str) -> Any:
    return StopSmsSubscriberOperator.partial(
        task_id=task_id,
        sender_code=part["sender_code"],
        whatcounts_conn_id=CONFIG["conn_id"],
    ).expand(phone=part["phones"])


# Run first and not timed: the first dag.test() of a process pays one-off set-up costs.
with DAG(dag_id="whatcounts_bench_warmup", schedule=None, start_date=START, catchup=False):
    half = len(CONFIG["warmup"]["phones"]) // 2
    _bulk_task({**CONFIG["warmup"], "phones": CONFIG["warmup"]["phones"][:half]}, "bulk")
    _mapped_tasks({**CONFIG["warmup"], "phones": CONFIG["warmup"]["phones"][half:]}, "mapped")

with DAG(dag_id="whatcounts_bench_bulk", schedule=None, start_date=START, catchup=False):
    _bulk_task(CONFIG["bulk"], "stop_all")

with DAG(dag_id="whatcounts_bench_mapped", schedule=None, start_date=START, catchup=False):
    _mapped_tasks(CONFIG["mapped"], "stop_one")
