"""Memory: peak RSS growth of one bulk run over 100,000 phones, in a fresh process.

A fresh process, because the parent has already run the other sections: its heap and kept
arenas would hide or fake growth. The child resets the kernel's peak-RSS mark (VmHWM) once the
hook is ready and the phone list is built, so the peak is exact, with no sampling gaps.
Run by bench.py; the child is ``python benchmarks/memory.py COUNT START RESULT_PATH``.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _harness import WHATCOUNTS_CONN_ID, WORK_DIR, MeasurementError, Row, Section

from whatcounts_provider.testing.series import phone_series

if TYPE_CHECKING:
    from _harness import Bench

SENDER = "2065550105"
TARGET_MB = 60.0
MB = 1024 * 1024


def rss_kb(field: str) -> int:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, in kB."""
    line = next(ln for ln in Path("/proc/self/status").read_text().splitlines() if ln.startswith(field))
    return int(line.split()[1])


def child(count: int, start: int) -> dict[str, Any]:
    from whatcounts_provider.hooks.whatcounts import WhatCountsHook

    hook = WhatCountsHook(WHATCOUNTS_CONN_ID)
    hook.get_conn()  # resolving the connection and building the session is not part of the growth
    gc.collect()
    before_list = rss_kb("VmRSS:")
    phones = phone_series(count, start)
    gc.collect()
    baseline = rss_kb("VmRSS:")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux 4.0+)
    statuses = Counter(outcome.status for outcome in hook.stop_sms_subscribers(phones, SENDER))
    return {"statuses": statuses, "before_list": before_list, "baseline": baseline, "peak": rss_kb("VmHWM:")}


def run(bench: Bench) -> list[Row]:
    n = bench.sizes.memory_n
    bench.reset()
    start = bench.reserve(n)
    bench.subscribe(SENDER, phone_series(n, start))
    result_path = WORK_DIR / "memory-result.json"
    result_path.unlink(missing_ok=True)
    command = [sys.executable, __file__, str(n), str(start), str(result_path)]
    done = subprocess.run(command, timeout=60 + n * 0.01, check=False)
    if done.returncode or not result_path.exists():
        raise MeasurementError(f"the memory child exited with {done.returncode} (see .build/bench/bench.log)")
    result = json.loads(result_path.read_text())
    if result["statuses"] != {"stopped": n}:
        raise MeasurementError(f"memory run outcomes are not all 'stopped': {result['statuses']}")
    growth = (result["peak"] - result["baseline"]) * 1024 / MB
    list_mb = (result["baseline"] - result["before_list"]) * 1024 / MB
    return [
        Row(
            f"memory: bulk run over {n} phones, peak RSS growth (kernel VmHWM)",
            f"{growth:.1f} MB",
            f"baseline {result['baseline'] * 1024 / MB:.0f} MB",
            f"list itself {list_mb:.1f} MB",
            f"< {TARGET_MB:g} MB",
            growth < TARGET_MB,
        )
    ]


SECTION = Section("memory", run, lambda sizes: 120 + sizes.memory_n * 0.01)

if __name__ == "__main__":
    count, first, result = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    result.write_text(json.dumps(child(count, first)))
