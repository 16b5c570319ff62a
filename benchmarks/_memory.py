"""(d) Peak RSS growth of one bulk run over 100,000 phones, measured in a fresh process.

A fresh process, because the parent has already run (a)-(c): its heap, caches and freed-but-kept
arenas would hide or fake growth. The child reports two baselines: after generating the phone
list (what the bulk run itself adds) and before it (the list included).

Run by bench.py as ``python benchmarks/_memory.py --start S --count N --sender CODE --result PATH``.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _harness import WHATCOUNTS_CONN_ID, MeasurementError, Row, phones

if TYPE_CHECKING:
    from _harness import EmulatorProcess, PhoneAllocator

SENDER = "2065550105"
GROWTH_TARGET_MB = 60.0
SAMPLE_EVERY = 0.01
MB = 1024 * 1024
# Linux carries ru_maxrss across exec: a child exec'd straight from this 200+ MB process would
# report our peak as its own. A tiny interpreter in between (python -S, ~10 MB) forks the child.
_LAUNCHER = (sys.executable, "-S", "-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))")


class PeakSampler:
    """Samples this process's RSS every 10 ms in a thread; remembers the highest value."""

    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process()
        self._stop = threading.Event()
        self.peak = self.rss()
        self.samples = 0
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def rss(self) -> int:
        return int(self._process.memory_info().rss)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            self.peak = max(self.peak, self.rss())
            self.samples += 1

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.peak = max(self.peak, self.rss())


def _ru_maxrss() -> int:
    """Lifetime peak RSS in bytes (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _reset_kernel_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux 4.0+); False if refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _kernel_peak() -> int | None:
    """VmHWM: the kernel's exact peak RSS since the last reset, in bytes (no sampling gaps)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


def child(start: int, count: int, sender: str) -> dict[str, Any]:
    """The measured process: imports and hook first, then baselines, then the bulk run."""
    import psutil

    from whatcounts_provider.hooks.whatcounts import WhatCountsHook

    process = psutil.Process()
    hook = WhatCountsHook(WHATCOUNTS_CONN_ID)
    hook.get_conn()  # resolves the connection and builds the session: not part of the growth
    gc.collect()
    before_list = process.memory_info().rss
    numbers = phones(start, count)
    gc.collect()
    after_list = process.memory_info().rss
    ru_at_baseline = _ru_maxrss()
    kernel_peak_reset = _reset_kernel_peak()
    statuses: collections.Counter[str] = collections.Counter()
    attention: list[Any] = []  # what the bulk operator keeps: outcomes that are not "stopped"
    began = time.perf_counter()
    with PeakSampler() as sampler:
        for outcome in hook.stop_sms_subscribers(numbers, sender):
            statuses[outcome.status] += 1
            if outcome.status != "stopped":
                attention.append(outcome)
    return {
        "seconds": time.perf_counter() - began,
        "statuses": dict(statuses),
        "before_list": before_list,
        "after_list": after_list,
        "peak": sampler.peak,
        "samples": sampler.samples,
        "ru_maxrss_at_baseline": ru_at_baseline,
        "ru_maxrss_end": _ru_maxrss(),
        "vm_hwm": _kernel_peak() if kernel_peak_reset else None,
    }


def measure_memory(
    emulator: EmulatorProcess, allocator: PhoneAllocator, n: int, result_path: Path
) -> list[Row]:
    """Subscribe N phones, run the child, check its outcomes, turn its numbers into rows."""
    emulator.reset()
    start, count = allocator.take(n)
    emulator.subscribe(SENDER, phones(start, count))
    result_path.unlink(missing_ok=True)
    command = [sys.executable, __file__, "--start", str(start), "--count", str(count), "--sender", SENDER]
    command += ["--result", str(result_path)]
    done = subprocess.run([*_LAUNCHER, *command], timeout=60 + n * 0.01, check=False)
    if done.returncode or not result_path.exists():
        raise MeasurementError(f"memory child exited with {done.returncode} (its output is in the log)")
    result = json.loads(result_path.read_text())
    if result["statuses"] != {"stopped": n}:
        raise MeasurementError(f"memory run outcomes are not all 'stopped': {result['statuses']}")
    after, before = result["after_list"], result["before_list"]
    over_list, with_list = (result["peak"] - after) / MB, (result["peak"] - before) / MB
    ru_growth = (result["ru_maxrss_end"] - max(after, result["ru_maxrss_at_baseline"])) / MB
    hwm = f"{(result['vm_hwm'] - after) / MB:.1f} MB" if result["vm_hwm"] else "n/a"
    run = f"{result['seconds']:.0f} s, {result['samples']} samples"
    return [
        Row(
            f"(d) bulk {n} phones ({run}): peak RSS over baseline after the list",
            f"{over_list:.1f} MB",
            f"baseline {after / MB:.0f} MB",
            "",
            f"< {GROWTH_TARGET_MB:g} MB",
            over_list < GROWTH_TARGET_MB,
        ),
        Row(
            "(d) same run: peak RSS over baseline before the list",
            f"{with_list:.1f} MB",
            f"baseline {before / MB:.0f} MB, list {(after - before) / MB:.1f} MB",
            "",
            f"< {GROWTH_TARGET_MB:g} MB",
            with_list < GROWTH_TARGET_MB,
        ),
        Row(
            "(d) cross-check over baseline after the list: ru_maxrss | kernel VmHWM",
            f"{ru_growth:.1f} MB | {hwm}",
            f"ru_maxrss {result['ru_maxrss_end'] / MB:.0f} MB",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--start", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--sender", required=True)
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args()
    result = child(args.start, args.count, args.sender)
    args.result.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
