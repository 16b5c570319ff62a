"""(e) What importing our operators adds to a process that already imported ``airflow.sdk``.

Each sample is a fresh interpreter (imports are cached per process). ``PYTHONDONTWRITEBYTECODE=1``
stays as the machine sets it. The editable install leaves our own sources without bytecode,
so they are compiled on every import; a second series imports a compiled copy of the package,
as a wheel install would have, to show how much of the figure that is.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from _harness import ROOT, MeasurementError, Row, median

OUR_MODULE = "whatcounts_provider.operators.sms"
IMPORT_TARGET_MS = 30.0
SUBPROCESS_TIMEOUT = 120.0
_MARK = "--- airflow.sdk imported ---"

_TIMING_CODE = f"""
import json, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
import {OUR_MODULE} as ours
t2 = time.perf_counter()
print(json.dumps({{"sdk": t1 - t0, "ours": t2 - t1, "file": ours.__file__,
                  "cached": __import__("os").path.exists(ours.__cached__)}}))
"""
_IMPORTTIME_CODE = f"import airflow.sdk, sys; sys.stderr.write({_MARK!r} + '\\n'); import {OUR_MODULE}"


def _python(code: str, cwd: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, *flags, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        env={**os.environ, "PYTHONPATH": str(cwd)},
        check=False,
    )
    if done.returncode:
        raise MeasurementError(f"import subprocess failed: {done.stderr[-1500:]}")
    return done


def _samples(cwd: Path, repeats: int) -> list[dict[str, Any]]:
    """``repeats`` fresh interpreters; the package comes from ``cwd`` if it holds a copy."""
    return [json.loads(_python(_TIMING_CODE, cwd).stdout.strip().splitlines()[-1]) for _ in range(repeats)]


def compiled_copy(work_dir: Path) -> Path:
    """A copy of the package with its bytecode, in ``work_dir``; return the directory to import from."""
    target = work_dir / "compiled-package"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(ROOT / "whatcounts_provider", target / "whatcounts_provider")
    if not compileall.compile_dir(target / "whatcounts_provider", quiet=1):
        raise MeasurementError("could not compile the package copy")
    return target


def import_times(cwd: Path, repeats: int) -> dict[str, tuple[float, float]]:
    """Modules our import loads that airflow.sdk alone did not: ``{name: (self ms, cumulative ms)}``.

    ``-X importtime`` reports a module once, when first imported; everything after the marker
    written between the two imports is ours. Medians over ``repeats`` runs.
    """
    times: dict[str, list[tuple[float, float]]] = {}
    for _ in range(repeats):
        stderr = _python(_IMPORTTIME_CODE, cwd, "-X", "importtime").stderr
        for line in stderr.split(_MARK, 1)[1].splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, cumulative_us, name = (part.strip() for part in line[len("import time:") :].split("|"))
            times.setdefault(name, []).append((float(self_us) / 1e3, float(cumulative_us) / 1e3))
    return {name: (median([s for s, _ in v]), median([c for _, c in v])) for name, v in times.items()}


def import_report(times: dict[str, tuple[float, float]], variant: str, top: int = 5) -> list[str]:
    """The slowest modules by self time, and the packages (top-level names) that cost the most."""
    slowest = sorted(times.items(), key=lambda item: item[1][0], reverse=True)[:top]
    roots = [(name, cum) for name, (_, cum) in times.items() if "." not in name]
    packages = sorted((r for r in roots if r[0] != "whatcounts_provider"), key=lambda r: r[1], reverse=True)
    lines = [f"(e) slowest modules our import adds ({variant}; median of 3 runs), self / cumulative:"]
    lines.extend(f"      {name:<45} {own:6.2f} ms  {cum:6.2f} ms" for name, (own, cum) in slowest)
    heaviest = ", ".join(f"{name} {cum:.1f} ms" for name, cum in packages[:top])
    lines.append(f"    packages first imported by ours, cumulative: {heaviest}")
    return lines


def measure_imports(work_dir: Path, repeats: int) -> tuple[list[Row], list[str]]:
    """Median over fresh interpreters of ``import airflow.sdk`` and of our import on top of it."""
    installed = _samples(work_dir, repeats)
    if not all(Path(s["file"]).is_relative_to(ROOT / "whatcounts_provider") for s in installed):
        raise MeasurementError(f"expected the editable install, imported {installed[0]['file']}")
    copy_dir = compiled_copy(work_dir)
    compiled = _samples(copy_dir, repeats)
    if not all(s["cached"] and Path(s["file"]).is_relative_to(copy_dir) for s in compiled):
        raise MeasurementError(f"the compiled copy was not the one imported: {compiled[0]}")
    sdk = median([s["sdk"] * 1e3 for s in installed])
    ours = median([s["ours"] * 1e3 for s in installed])
    ours_compiled = median([s["ours"] * 1e3 for s in compiled])
    rows = [
        Row(f"(e) import airflow.sdk, fresh process (median of {repeats})", f"{sdk:.0f} ms"),
        Row(
            f"(e) + import {OUR_MODULE} (editable install, as run)",
            f"{ours:.1f} ms",
            f"airflow.sdk {sdk:.0f} ms",
            f"+{ours / sdk:.1%}",
            f"<= {IMPORT_TARGET_MS:g} ms",
            ours <= IMPORT_TARGET_MS,
        ),
        Row(
            "(e) + the same, package with bytecode (as a wheel install)",
            f"{ours_compiled:.1f} ms",
            f"airflow.sdk {sdk:.0f} ms",
            f"+{ours_compiled / sdk:.1%}",
            f"<= {IMPORT_TARGET_MS:g} ms",
            ours_compiled <= IMPORT_TARGET_MS,
        ),
    ]
    report = [
        *import_report(import_times(work_dir, repeats=3), "editable install, as run"),
        *import_report(import_times(copy_dir, repeats=3), "package with bytecode"),
    ]
    return rows, report
