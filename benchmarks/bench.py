"""Benchmarks of airflow-provider-whatcounts: one run prints one table, every ratio from this run.

    make bench                        # or: .build/venv-bench/bin/python benchmarks/bench.py
    make bench BENCH_ARGS="--quick"   # small sizes, a smoke run of every measurement
    make bench BENCH_ARGS="--only a,e"

(a) per-call cost of WhatCountsHook.stop_sms_subscriber against a raw keep-alive requests loop
    (the floor) and HttpHook.run, sequential, zero latency, interleaved rounds;
(b) bulk throughput of stop_sms_subscribers against the bound N x latency / workers, next to a
    bare thread pool on the same load (what this machine allows at all);
(c) N phones as one BulkStopSmsSubscriberOperator versus N mapped tasks, through dag.test();
(d) peak RSS growth of a bulk run over 100,000 phones, in a fresh process;
(e) import cost of our operators on top of airflow.sdk, in fresh processes.

The emulator runs as a subprocess: in-process it would share the GIL with the client and slow
every figure. Airflow's log lines (dag.test()'s task logs) go to
``.build/bench/bench.log`` (still rendered and written, as in a real task); the report goes to
the terminal. Airflow's home is this script's own ``.build/bench/airflow-home``, wiped and
migrated each run (whatever AIRFLOW_HOME says), and its dags folder is ``benchmarks/dags``.
The exit status is non-zero only if a measurement failed (errors, wrong outcomes,
timeouts): a missed target is a finding, reported in the table.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, TextIO

from _harness import (
    BENCH_DIR,
    HTTP_CONN_ID,
    WHATCOUNTS_CONN_ID,
    WORK_DIR,
    EmulatorProcess,
    PhoneAllocator,
    Row,
    deadline,
    failed_row,
    output_to_file,
    render_table,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

MEASUREMENTS = "abcde"


@dataclass(frozen=True)
class Sizes:
    """How much each measurement does; the defaults are the sizes the targets were set for."""

    n_calls: int = 2000
    rounds: int = 5
    bulk_n: int = 10_000
    latency: float = 0.02
    workers: int = 16
    airflow_n: int = 500
    memory_n: int = 100_000
    import_repeats: int = 7


QUICK = Sizes(n_calls=200, bulk_n=800, airflow_n=20, memory_n=5_000, import_repeats=3)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n-calls", type=int, help="(a) sequential calls per client (default 2000)")
    parser.add_argument("--rounds", type=int, help="(a) interleaved rounds; the median counts (default 5)")
    parser.add_argument("--bulk-n", type=int, help="(b) phones in the bulk run (default 10000)")
    parser.add_argument("--latency", type=float, help="(b) emulator latency per request, seconds (0.02)")
    parser.add_argument("--workers", type=int, help="(b) max_workers of the bulk run (default 16)")
    parser.add_argument("--airflow-n", type=int, help="(c) phones per DAG (default 500)")
    parser.add_argument("--memory-n", type=int, help="(d) phones in the memory run (default 100000)")
    parser.add_argument("--import-repeats", type=int, help="(e) fresh interpreters per series (default 7)")
    parser.add_argument("--only", default=",".join(MEASUREMENTS), help="subset of measurements, e.g. a,b,e")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of everything")
    args = parser.parse_args(argv)
    args.only = {part.strip() for part in args.only.split(",") if part.strip()}
    if not args.only <= set(MEASUREMENTS):
        parser.error(f"--only takes letters from {','.join(MEASUREMENTS)}")
    return args


def sizes_from(args: argparse.Namespace) -> Sizes:
    base = QUICK if args.quick else Sizes()
    given = {
        name: getattr(args, name) for name in Sizes.__dataclass_fields__ if getattr(args, name) is not None
    }
    return Sizes(**{**base.__dict__, **given})


def prepare_airflow_environment() -> None:
    """A fresh Airflow home and our dags folder, set before anything imports Airflow.

    The home is this script's own directory (wiped each run), never a home given from outside.
    """
    home = WORK_DIR / "airflow-home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(BENCH_DIR / "dags")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"


def point_connections_at(emulator: EmulatorProcess) -> None:
    os.environ[f"AIRFLOW_CONN_{WHATCOUNTS_CONN_ID.upper()}"] = emulator.whatcounts_conn_uri()
    os.environ[f"AIRFLOW_CONN_{HTTP_CONN_ID.upper()}"] = emulator.http_conn_uri()


def header_lines(sizes: Sizes, url: str, load_at_start: tuple[float, ...]) -> list[str]:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    load = " ".join(f"{x:.2f}" for x in load_at_start)
    return [
        f"cores: {os.cpu_count()}   load average at start: {load}   {platform.platform()}",
        f"Python {platform.python_version()}   apache-airflow {version('apache-airflow')}   "
        f"apache-airflow-providers-http {version('apache-airflow-providers-http')}   "
        f"requests {version('requests')}   airflow-provider-whatcounts "
        f"{version('airflow-provider-whatcounts')}",
        f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')}   emulator {url} "
        "(subprocess, --no-record-requests)   Airflow logs: .build/bench/bench.log",
        f"sizes: {sizes}",
    ]


@dataclass
class Step:
    letter: str
    label: str
    run: Callable[[], list[Row]]
    timeout: float


def steps(
    sizes: Sizes, emulator: EmulatorProcess, allocator: PhoneAllocator, extras: list[str]
) -> list[Step]:
    """The measurements in run order, each with a generous time bound."""
    from _airflow_level import measure_airflow
    from _hook_level import measure_bulk, measure_per_call
    from _imports import measure_imports
    from _memory import measure_memory

    def imports() -> list[Row]:
        rows, report = measure_imports(WORK_DIR, sizes.import_repeats)
        extras.extend(report)
        return rows

    bulk_ideal = sizes.bulk_n * sizes.latency / sizes.workers
    return [
        Step(
            "a",
            "per-call cost",
            lambda: measure_per_call(emulator, allocator, sizes.n_calls, sizes.rounds),
            120 + sizes.n_calls * 0.2,
        ),
        Step(
            "b",
            "bulk throughput",
            lambda: measure_bulk(emulator, allocator, sizes.bulk_n, sizes.latency, sizes.workers),
            120 + bulk_ideal * 10,
        ),
        Step(
            "c",
            "Airflow level",
            lambda: measure_airflow(
                emulator, allocator, sizes.airflow_n, BENCH_DIR / "dags", WORK_DIR / "dags-config.json"
            ),
            900 + sizes.airflow_n * 2,
        ),
        Step(
            "d",
            "memory",
            lambda: measure_memory(emulator, allocator, sizes.memory_n, WORK_DIR / "memory-result.json"),
            120 + sizes.memory_n * 0.01,
        ),
        Step("e", "import cost", imports, 60 + sizes.import_repeats * 3 * 30),
    ]


def run_steps(selected: list[Step], err: TextIO) -> tuple[list[Row], bool]:
    """Run each step under its deadline; a failed step becomes a FAILED row, the others still run."""
    rows: list[Row] = []
    ok = True
    for step in selected:
        print(f"[{step.letter}] {step.label} ...", file=err)
        began = time.perf_counter()
        try:
            with deadline(step.timeout, f"({step.letter}) {step.label}"):
                rows.extend(step.run())
        except Exception as error:
            ok = False
            rows.append(failed_row(f"({step.letter}) {step.label}", error))
            print(f"!!!!! MEASUREMENT FAILED ({step.letter}) {step.label}: {error!r}", file=err)
        print(f"[{step.letter}] done in {time.perf_counter() - began:.1f} s", file=err)
    return rows, ok


def run_all(
    args: argparse.Namespace, sizes: Sizes, emulator: EmulatorProcess, err: TextIO
) -> tuple[list[Row], bool, list[str]]:
    """Start the emulator, then the selected measurements."""
    emulator.start()
    point_connections_at(emulator)
    allocator = PhoneAllocator()
    extras: list[str] = []
    selected = [s for s in steps(sizes, emulator, allocator, extras) if s.letter in args.only]
    rows, ok = run_steps(selected, err)
    return rows, ok, extras


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = sizes_from(args)
    began, load_at_start = time.perf_counter(), os.getloadavg()
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    log_path = WORK_DIR / "bench.log"
    log_path.unlink(missing_ok=True)
    prepare_airflow_environment()
    emulator = EmulatorProcess(WORK_DIR, WORK_DIR / "emulator.log")
    with output_to_file(log_path) as (console, err):
        try:
            rows, ok, extras = run_all(args, sizes, emulator, err)
        finally:
            emulator.stop()
        report = ["", *header_lines(sizes, emulator.url, load_at_start), "", render_table(rows), "", *extras]
        print("\n".join(report), file=console)
        status = "" if ok else "   SOME MEASUREMENTS FAILED (see the FAILED rows and .build/bench/bench.log)"
        print(f"\ntotal runtime {time.perf_counter() - began:.0f} s{status}", file=console)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
