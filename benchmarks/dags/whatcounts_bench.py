"""DAGs of the benchmark's "dags" section: one bulk task versus one mapped task per phone.

``benchmarks/dag_runs.py`` names a JSON file of ``{dag: {"sender_code", "phones"}}`` and the
connection id in ``WHATCOUNTS_BENCH_DAGS_CONFIG``; without it each DAG gets placeholder phones.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from airflow.sdk import DAG

from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator, StopSmsSubscriberOperator

_path = os.environ.get("WHATCOUNTS_BENCH_DAGS_CONFIG")
_one = {"sender_code": "2065550199", "phones": ["12062999998", "12062999999"]}
CONFIG = json.loads(Path(_path).read_text()) if _path else dict.fromkeys(("warmup", "bulk", "mapped"), _one)
CONN_ID = CONFIG.pop("conn_id", "whatcounts_default")

for name, part in CONFIG.items():
    with DAG(dag_id=f"whatcounts_bench_{name}", schedule=None, start_date=dt.datetime(2026, 1, 1)):
        phones, code = part["phones"], part["sender_code"]
        # The warm-up DAG (the first dag.test() of a process pays one-off costs) runs both kinds.
        if name != "mapped":
            bulk_phones = phones if name == "bulk" else phones[: len(phones) // 2]
            BulkStopSmsSubscriberOperator(
                task_id="bulk", phones=bulk_phones, sender_code=code, whatcounts_conn_id=CONN_ID
            )
        if name != "bulk":
            StopSmsSubscriberOperator.partial(
                task_id="mapped", sender_code=code, whatcounts_conn_id=CONN_ID
            ).expand(phone=phones if name == "mapped" else phones[len(phones) // 2 :])
