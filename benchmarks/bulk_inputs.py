"""The bulk operator's ``source`` and ``rows`` inputs (issue 8).

source: a 1,000,000-row CSV through ``BulkStopSmsSubscriberOperator(source=...)`` in a fresh
process (peak RSS growth from the kernel's VmHWM, as in the memory section). A million real stops
take far longer than a benchmark run on a shared 2-core machine, so the million rows go through
the operator's whole path with a hook that reports every pair ``already_done`` (read, parse,
validate, de-duplicate, count: everything but the request), and a smaller CSV is really sent to
the emulator at zero latency. Both rows are labelled; the million-row send time is extrapolated.
codes: 10,000 ``rows`` over 50 sender codes vs the same phones under one code, in alternating
blocks so drift on a loaded machine hits both alike.
Run by bench.py; the child is ``python benchmarks/bulk_inputs.py CSV MODE WORKERS RESULT``.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from _harness import WHATCOUNTS_CONN_ID, WORK_DIR, MeasurementError, Row, Section
from memory import MB, rss_kb

from whatcounts_provider.testing.series import phone_series

if TYPE_CHECKING:
    from _harness import Bench

SOURCE_SENDER, ONE_CODE = "2065550110", "2065550199"
CODES = [f"20655502{i:02d}" for i in range(50)]
SOURCE_TARGET_MB, CODES_TARGET = 150.0, 1.10


def bench_context(run_id: str = "bench", try_number: int = 1) -> dict[str, Any]:
    """What the bulk operator reads from its context: ``ti`` (identity, xcom_push on failure)."""
    ti = SimpleNamespace(
        dag_id="bench", run_id=run_id, task_id="stop", map_index=-1, try_number=try_number,
        xcom_push=lambda **_: None,
    )  # fmt: skip
    return {"ti": ti}


def child(csv_path: str, mode: str, workers: int) -> dict[str, Any]:
    from whatcounts_provider.hooks.whatcounts import WhatCountsHook
    from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator

    class EveryPair:
        def __contains__(self, pair: object) -> bool:
            return True

    class NothingSentHook(WhatCountsHook):
        """Every pair counts as honoured by an earlier try: validated and de-duplicated, not sent."""

        def stop_sms_rows(self, rows: Any, **kwargs: Any) -> Any:
            return super().stop_sms_rows(rows, **{**kwargs, "already_done": EveryPair()})

    hook = (NothingSentHook if mode == "validate" else WhatCountsHook)(WHATCOUNTS_CONN_ID)
    hook.get_conn()  # the connection and session are not part of the growth
    op = BulkStopSmsSubscriberOperator(
        task_id="stop", source=csv_path, whatcounts_conn_id=WHATCOUNTS_CONN_ID, max_workers=workers
    )
    op.__dict__["hook"] = hook  # the operator's cached hook
    context = bench_context()
    gc.collect()
    baseline = rss_kb("VmRSS:")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    start = time.perf_counter()
    record = op.execute(context)
    elapsed = time.perf_counter() - start
    keys = (
        "total",
        "stopped",
        "already_done",
        "duplicates",
        "invalid",
        "failed",
        "not_subscribed",
        "not_opt_out",
    )
    counts = {key: record[key] if isinstance(record[key], int) else len(record[key]) for key in keys}
    return {"elapsed": elapsed, "baseline": baseline, "peak": rss_kb("VmHWM:"), "counts": counts}


def write_csv(path: Path, phones: list[str], code: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("phone,sender_code\n" + "".join(f"{phone},{code}\n" for phone in phones))
    return path


def in_child(csv: Path, mode: str, workers: int, expect: dict[str, int], timeout: float) -> dict[str, Any]:
    result_path = csv.with_suffix(f".{mode}.json")
    result_path.unlink(missing_ok=True)
    command = [sys.executable, __file__, str(csv), mode, str(workers), str(result_path)]
    done = subprocess.run(command, timeout=timeout, check=False)
    if done.returncode or not result_path.exists():
        raise MeasurementError(f"the source child ({mode}) exited with {done.returncode}; see bench.log")
    result = json.loads(result_path.read_text())
    wrong = {key: result["counts"][key] for key in expect if result["counts"][key] != expect[key]}
    if wrong:
        raise MeasurementError(f"source {mode}: expected {expect}, got {result['counts']}")
    return result


def run_source(bench: Bench) -> list[Row]:
    n, sent_n, workers = bench.sizes.source_n, bench.sizes.source_sent_n, bench.sizes.workers
    folder = WORK_DIR / "source"
    # Never sent: the series' first million phones under a code no other section uses.
    big = write_csv(folder / f"rows-{n}.csv", phone_series(n, 0), SOURCE_SENDER)
    checked = in_child(big, "validate", workers, {"total": n, "already_done": n}, 120 + n * 0.002)
    bench.reset()
    phones = bench.fresh_phones(sent_n)
    bench.subscribe(SOURCE_SENDER, phones)
    small = write_csv(folder / f"sent-{sent_n}.csv", phones, SOURCE_SENDER)
    sent = in_child(small, "send", workers, {"total": sent_n, "stopped": sent_n}, 120 + sent_n * 0.02)
    big.unlink()

    def growth(result: dict[str, Any]) -> float:
        return (result["peak"] - result["baseline"]) * 1024 / MB

    rate = sent_n / sent["elapsed"]
    return [
        Row(
            f"source: {n}-row CSV read, validated, de-duplicated; nothing sent (all already_done)",
            f"{checked['elapsed']:.1f} s ({n / checked['elapsed']:.0f} rows/s)",
            f"baseline RSS {checked['baseline'] * 1024 / MB:.0f} MB",
        ),
        Row(
            f"source: {n}-row CSV, peak RSS growth (kernel VmHWM)",
            f"{growth(checked):.1f} MB",
            target=f"< {SOURCE_TARGET_MB:g} MB",
            met=growth(checked) < SOURCE_TARGET_MB,
        ),
        Row(
            f"source: {sent_n}-row CSV really sent, 0 ms latency, {workers} workers",
            f"{sent['elapsed']:.1f} s ({rate:.0f} rows/s)",
            f"{n} rows at this rate: ~{n / rate / 60:.0f} min",
            f"RSS growth {growth(sent):.1f} MB",
        ),
    ]


def run_codes(bench: Bench) -> list[Row]:
    from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator

    n, latency, workers = bench.sizes.codes_n, bench.sizes.latency, bench.sizes.workers
    bench.reset(latency=latency)
    phones = bench.fresh_phones(n)
    many = [{"phone": phone, "sender_code": CODES[i % len(CODES)]} for i, phone in enumerate(phones)]
    for code in CODES:
        bench.subscribe(code, phones[CODES.index(code) :: len(CODES)])
    one = [{"phone": phone, "sender_code": ONE_CODE} for phone in phones]
    bench.subscribe(ONE_CODE, phones)
    half = n // 2
    times = {"many": 0.0, "one": 0.0}
    # one, many, many, one: a trend in the machine's load hits both alike.
    for name, rows in (
        ("one", one[:half]),
        ("many", many[:half]),
        ("many", many[half:]),
        ("one", one[half:]),
    ):
        op = BulkStopSmsSubscriberOperator(
            task_id="stop", rows=rows, whatcounts_conn_id=WHATCOUNTS_CONN_ID, max_workers=workers
        )
        start = time.perf_counter()
        record = op.execute(bench_context())
        times[name] += time.perf_counter() - start
        if record["stopped"] != len(rows) or len(record["by_sender_code"]) != (50 if name == "many" else 1):
            raise MeasurementError(f"codes ({name}): {record['stopped']} of {len(rows)} stopped")
    bench.reset()
    ratio = times["many"] / times["one"]
    return [
        Row(
            f"codes: {n} rows over {len(CODES)} sender codes, {latency * 1e3:g} ms latency, "
            f"{workers} workers",
            f"{times['many']:.2f} s ({n / times['many']:.0f}/s)",
            f"one code {times['one']:.2f} s ({n / times['one']:.0f}/s)",
            f"{ratio:.2f}x",
            f"<= {CODES_TARGET:.2f}x",
            ratio <= CODES_TARGET,
        )
    ]


SOURCE = Section(
    "source", run_source, lambda sizes: 300 + sizes.source_n * 0.002 + sizes.source_sent_n * 0.02
)
CODES_SECTION = Section(
    "codes", run_codes, lambda sizes: 120 + sizes.codes_n * sizes.latency / sizes.workers * 10
)

if __name__ == "__main__":
    csv_file, run_mode, max_workers, result_file = sys.argv[1:5]
    Path(result_file).write_text(json.dumps(child(csv_file, run_mode, int(max_workers))))
