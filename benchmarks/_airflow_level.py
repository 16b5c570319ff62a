"""(c) The same N phones as ONE bulk task versus N mapped tasks, both through dag.test().

dag.test() needs a migrated metadata DB, and on Airflow 3.1+ a DAG parsed from the dags folder
(an inline DAG is "not serialized"): bench.py points ``AIRFLOW__CORE__DAGS_FOLDER`` at
``benchmarks/dags`` and ``AIRFLOW_HOME`` at a fresh directory before Airflow is imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

from _harness import WHATCOUNTS_CONN_ID, MeasurementError, Row

if TYPE_CHECKING:
    from pathlib import Path

    from _harness import EmulatorProcess, PhoneAllocator

SENDERS = {"warmup": "2065550102", "bulk": "2065550103", "mapped": "2065550104"}
SPEEDUP_TARGET = 30.0
MIGRATE_TIMEOUT = 600.0


def migrate_db() -> float:
    """``airflow db migrate`` in a subprocess (as a user would); return its seconds."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        capture_output=True,
        text=True,
        timeout=MIGRATE_TIMEOUT,
        check=False,
    )
    if done.returncode:
        raise MeasurementError(f"airflow db migrate failed: {(done.stdout + done.stderr)[-1500:]}")
    return time.perf_counter() - start


def _write_config(path: Path, parts: dict[str, list[str]]) -> None:
    config: dict[str, Any] = {"conn_id": WHATCOUNTS_CONN_ID}
    for name, numbers in parts.items():
        config[name] = {"sender_code": SENDERS[name], "phones": numbers}
    path.write_text(json.dumps(config))
    os.environ["WHATCOUNTS_BENCH_DAGS_CONFIG"] = str(path)


def _load_dags(dags_folder: Path) -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dags_folder))
    if bag.import_errors:
        raise MeasurementError(f"benchmark DAGs failed to load: {bag.import_errors}")
    return {dag_id: bag.get_dag(dag_id) for dag_id in bag.dag_ids}


def _run(dag: Any) -> float:
    """Seconds of one dag.test(); the run must succeed."""
    start = time.perf_counter()
    run = dag.test()
    elapsed = time.perf_counter() - start
    if str(run.state) != "success":
        raise MeasurementError(f"{dag.dag_id}: dag run ended {run.state}")
    return elapsed


def _check_stopped(state: dict[str, Any], parts: dict[str, list[str]]) -> None:
    """Every phone of every part stopped on its sender code, each with exactly one POST."""
    for name, numbers in parts.items():
        code = SENDERS[name]
        stopped = set(state["stopped"].get(code, []))
        posts = state["counters"]["posts"].get(code, {})
        missing = [p for p in numbers if p not in stopped]
        repeated = [p for p in numbers if posts.get(p) != 1]
        if missing or repeated or len(stopped) != len(numbers):
            raise MeasurementError(
                f"{name}: {len(missing)} phone(s) not stopped, {len(repeated)} without exactly one POST, "
                f"{len(stopped)} stopped for {len(numbers)} expected"
            )


def measure_airflow(
    emulator: EmulatorProcess, allocator: PhoneAllocator, n: int, dags_folder: Path, config_path: Path
) -> list[Row]:
    """Time one BulkStopSmsSubscriberOperator and N mapped StopSmsSubscriberOperators on N phones each."""
    migrate_seconds = migrate_db()
    emulator.reset()
    parts = {
        "warmup": allocator.take_list(4),
        "bulk": allocator.take_list(n),
        "mapped": allocator.take_list(n),
    }
    for name, numbers in parts.items():
        emulator.subscribe(SENDERS[name], numbers)
    _write_config(config_path, parts)
    dags = _load_dags(dags_folder)
    _run(dags["whatcounts_bench_warmup"])
    bulk = _run(dags["whatcounts_bench_bulk"])
    mapped = _run(dags["whatcounts_bench_mapped"])
    _check_stopped(emulator.state(), parts)
    speedup = mapped / bulk
    return [
        Row(
            f"(c) {n} mapped StopSmsSubscriberOperator, dag.test()",
            f"{mapped:.2f} s",
            f"{mapped / n * 1e3:.0f} ms/task",
        ),
        Row(
            f"(c) 1 BulkStopSmsSubscriberOperator x {n} phones, dag.test()",
            f"{bulk:.2f} s",
            f"mapped {mapped:.2f} s",
            f"{speedup:.1f}x faster",
            f">= {SPEEDUP_TARGET:g}x",
            speedup >= SPEEDUP_TARGET,
        ),
        Row("(c) setup: airflow db migrate (not in the figures)", f"{migrate_seconds:.1f} s"),
    ]
