"""Bulk task vs mapped tasks: the same N phones as ONE BulkStopSmsSubscriberOperator and as N
mapped StopSmsSubscriberOperator tasks, each DAG through dag.test().

dag.test() needs a migrated metadata DB and, on Airflow 3.1+, a DAG parsed from the dags folder:
bench.py points AIRFLOW_HOME at a fresh directory and the dags folder at ``benchmarks/dags``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

from _harness import ROOT, WHATCOUNTS_CONN_ID, WORK_DIR, MeasurementError, Row, Section

if TYPE_CHECKING:
    from _harness import Bench

SENDERS = {"warmup": "2065550102", "bulk": "2065550103", "mapped": "2065550104"}
TARGET = 30.0  # mapped / bulk


def timed_run(dag: Any) -> float:
    start = time.perf_counter()
    state = str(dag.test().state)
    if state != "success":
        raise MeasurementError(f"{dag.dag_id}: the run ended {state}")
    return time.perf_counter() - start


def run(bench: Bench) -> list[Row]:
    n = bench.sizes.airflow_n
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, check=True)
    bench.reset()
    parts = {name: bench.fresh_phones(4 if name == "warmup" else n) for name in SENDERS}
    config: dict[str, Any] = {"conn_id": WHATCOUNTS_CONN_ID}
    for name, phones in parts.items():
        bench.subscribe(SENDERS[name], phones)
        config[name] = {"sender_code": SENDERS[name], "phones": phones}
    (WORK_DIR / "dags-config.json").write_text(json.dumps(config))
    os.environ["WHATCOUNTS_BENCH_DAGS_CONFIG"] = str(WORK_DIR / "dags-config.json")

    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "benchmarks" / "dags"))
    if bag.import_errors:
        raise MeasurementError(f"benchmark DAGs failed to load: {bag.import_errors}")
    timed_run(bag.get_dag("whatcounts_bench_warmup"))  # the first dag.test() pays one-off costs
    bulk = timed_run(bag.get_dag("whatcounts_bench_bulk"))
    mapped = timed_run(bag.get_dag("whatcounts_bench_mapped"))
    state = bench.admin("GET", "state")
    for name, phones in parts.items():  # every phone stopped, with exactly one POST each
        posts = state["counters"]["posts"].get(SENDERS[name], {})
        if state["stopped"].get(SENDERS[name]) != sorted(phones) or set(posts.values()) != {1}:
            raise MeasurementError(f"{name}: not every phone was stopped with exactly one POST")
    return [
        Row(
            f"dags: {n} mapped StopSmsSubscriberOperator",
            f"{mapped:.2f} s",
            f"{mapped / n * 1e3:.0f} ms/task",
        ),
        Row(
            f"dags: 1 BulkStopSmsSubscriberOperator x {n} phones",
            f"{bulk:.2f} s",
            f"mapped {mapped:.2f} s",
            f"{mapped / bulk:.1f}x faster",
            f">= {TARGET:g}x",
            mapped / bulk >= TARGET,
        ),
    ]


SECTION = Section("dags", run, lambda sizes: 900 + sizes.airflow_n * 2)
