"""Benchmarks of airflow-provider-whatcounts: one run prints one table, every ratio from this run.

With ``--json PATH`` the run is also written as data (every row, the sizes, the machine, the date,
whether it was --quick); ``scripts/render_performance.py`` turns that into docs/performance.md.

    make bench                                  # .build/bench/results.json -> docs/performance.md
    make bench BENCH_ARGS="--quick"             # small sizes: a smoke run of every section
    make bench BENCH_ARGS="--only bulk,memory --set bulk_n=2000"

Sections (to add one, write a module with a ``Section`` and list it in SECTIONS below):
  per-call  WhatCountsHook.stop_sms_subscriber vs a raw keep-alive requests loop (floor) vs HttpHook.run
  bulk      stop_sms_subscribers vs the ideal N x latency / workers and vs a bare thread pool
  dags      N phones as one BulkStopSmsSubscriberOperator vs N mapped tasks, through dag.test()
  memory    peak RSS growth of a bulk run over 100,000 phones, in a fresh process
  source    a 1,000,000-row CSV through the bulk operator's source= (time, peak RSS growth)
  codes     10,000 rows= over 50 sender codes vs the same phones under one code
  messages  the 1,000,000-row source with a message column vs the same file without one
  replies   classify_reply's throughput on one core (a realistic mix, distinct texts, user phrases)
  receipts  the bulk operator with receipts off vs to a local folder vs to S3 (moto on loopback)
  resume    a run SIGKILLed halfway, then its next try: requests vs the ideal, time vs a full run;
            then the answers lost at a kill and the CPU of a full run per flush setting of the writer
  evidence  1,000,000 receipts written with the writer: one phone's lookup (vs a scan), the index's
            size, the period report (time, peak RSS growth) and verify

The emulator runs as a subprocess (in-process it would share the GIL with the client). Airflow's
logs go to ``.build/bench/bench.log``; its home is a fresh ``.build/bench/airflow-home``. The exit
status is non-zero only if a section failed (errors, wrong outcomes, timeouts): a missed target
is a finding, reported in the table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import bulk_inputs
import dag_runs
import evidence
import hook_calls
import memory
import message_column
import receipts_resume
import replies
from _harness import (
    QUICK,
    ROOT,
    WORK_DIR,
    Bench,
    Row,
    Sizes,
    deadline,
    log_to_file,
    render_table,
)

SECTIONS = [
    hook_calls.PER_CALL,
    hook_calls.BULK,
    dag_runs.SECTION,
    memory.SECTION,
    bulk_inputs.SOURCE,
    bulk_inputs.CODES_SECTION,
    message_column.SECTION,
    replies.CLASSIFIER,
    receipts_resume.RECEIPTS,
    receipts_resume.RESUME,
    evidence.SECTION,
]


def parse_args() -> tuple[Sizes, list[str], bool, Path | None]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    names = [section.name for section in SECTIONS]
    sizes = {f.name: f.type for f in dataclasses.fields(Sizes)}
    parser.add_argument("--only", default=",".join(names), help=f"sections to run, from {','.join(names)}")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of everything")
    parser.add_argument("--set", action="append", default=[], metavar="SIZE=VALUE", help=", ".join(sizes))
    parser.add_argument(
        "--json", type=Path, help="also write the results here (scripts/render_performance.py)"
    )
    args = parser.parse_args()
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    changes = dict(item.partition("=")[::2] for item in args.set)
    if not set(only) <= set(names) or not set(changes) <= set(sizes):
        parser.error(f"--only takes {','.join(names)}; --set takes {', '.join(sizes)}")
    typed = {name: float(value) if sizes[name] == "float" else int(value) for name, value in changes.items()}
    return dataclasses.replace(QUICK if args.quick else Sizes(), **typed), only, args.quick, args.json


def fresh_airflow_home() -> None:
    """Set before anything imports Airflow; never the home given from outside (it is wiped)."""
    home = WORK_DIR / "airflow-home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    os.environ.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "benchmarks" / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
    )


# The distributions whose versions move the figures; printed and written with every run.
DISTS = ("apache-airflow", "apache-airflow-providers-http", "requests", "airflow-provider-whatcounts")


def header(sizes: Sizes, load: tuple[float, ...]) -> str:
    return (
        f"cores: {os.cpu_count()}   load average at start: {' '.join(f'{x:.2f}' for x in load)}   "
        f"Python {platform.python_version()}   {platform.platform()}\n"
        + "   ".join(f"{dist} {metadata.version(dist)}" for dist in DISTS)
        + f"\nsizes: {sizes}"
    )


def main() -> int:
    sizes, only, quick, json_path = parse_args()
    began, load = time.perf_counter(), os.getloadavg()
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    fresh_airflow_home()
    console = log_to_file(WORK_DIR / "bench.log")
    rows: list[Row] = []
    bench = Bench(sizes)
    try:
        bench.start_emulator()
        for section in (s for s in SECTIONS if s.name in only):
            print(f"[{section.name}] ...", file=console)
            started = time.perf_counter()
            try:
                with deadline(section.timeout(sizes), section.name):
                    rows.extend(section.run(bench))
            except Exception as error:
                rows.append(
                    Row(f"{section.name}: FAILED", f"{type(error).__name__}: {error}"[:120], met=False)
                )
            print(f"[{section.name}] done in {time.perf_counter() - started:.1f} s", file=console)
    finally:
        bench.stop_emulator()
    failed = any(row.measurement.endswith(": FAILED") for row in rows)
    print(f"\n{header(sizes, load)}\n\n{render_table(rows)}", file=console)
    status = "   SOME SECTIONS FAILED (see the FAILED rows and .build/bench/bench.log)" if failed else ""
    runtime = time.perf_counter() - began
    print(f"\ntotal runtime {runtime:.0f} s{status}", file=console)
    if json_path is not None:
        write_json(json_path, rows, sizes=sizes, quick=quick, load=load, runtime=runtime)
        print(f"results written to {json_path}", file=console)
    return 1 if failed else 0


def write_json(
    path: Path, rows: list[Row], *, sizes: Sizes, quick: bool, load: tuple[float, ...], runtime: float
) -> None:
    """The run as data: every row, and what it ran on (rendered by scripts/render_performance.py)."""
    document = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "quick": quick,
        "runtime_seconds": round(runtime, 1),
        "machine": {
            "cores": os.cpu_count(),
            "load_at_start": [round(x, 2) for x in load],
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "versions": {dist: metadata.version(dist) for dist in DISTS},
        "sizes": dataclasses.asdict(sizes),
        "rows": [dataclasses.asdict(row) for row in rows],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
