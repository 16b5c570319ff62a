"""Fixtures of the deployment stage: one real deployment per session, a clean emulator per test."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .services import ProcessTable
from .stage import REPO, Stage

if TYPE_CHECKING:
    from collections.abc import Iterator

    from whatcounts_provider.testing.emulator import WhatCountsEmulator

#: Left in place after the session (logs, AIRFLOW_HOME, task logs) and wiped when the next one starts.
STAGE_ROOT = Path(os.environ.get("WHATCOUNTS_DEPLOYMENT_DIR", REPO / ".build" / "deployment"))
FIGURES: dict[str, float] = {}
#: Lines for the end of the session's output (the event path's figures, in words).
REPORT: list[str] = []


@pytest.fixture(scope="session")
def stage() -> Iterator[Stage]:
    """PostgreSQL, Redis, the emulator and Airflow 3.3 (api-server, scheduler, dag-processor,
    triggerer, one Celery worker), ready; everything is stopped at the end, even after a failure."""
    begin = time.monotonic()
    ProcessTable.reap_leftovers(STAGE_ROOT)
    shutil.rmtree(STAGE_ROOT, ignore_errors=True)
    STAGE_ROOT.mkdir(parents=True)
    deployment = Stage(STAGE_ROOT)
    try:
        deployment.start()
        yield deployment
    finally:
        stopping = time.monotonic()
        deployment.stop()
        FIGURES.update(deployment.timings)
        FIGURES["teardown_s"] = time.monotonic() - stopping
        FIGURES["stage_total_s"] = time.monotonic() - begin
        FIGURES["cores"], FIGURES["load_average_1m"] = os.cpu_count() or 0, os.getloadavg()[0]
        # Also on disk (the scenario figures arrive before this), for CI and the README.
        (STAGE_ROOT / "timings.json").write_text(json.dumps(FIGURES, indent=1, sort_keys=True))


@pytest.fixture
def emulator(stage: Stage) -> Iterator[WhatCountsEmulator]:
    """The stage's emulator with no subscriptions, no faults and the configured password."""
    emulator = stage.emulator
    emulator.state.reset()
    emulator.faults.clear()
    emulator.state.password = stage.password
    yield emulator
    emulator.faults.clear()
    emulator.state.password = stage.password
    stage.fail_unfinished_runs()


#: The test that greps every log the stage wrote: it runs after every other deployment test,
#: whichever module they are in.
LAST = "test_no_password_token_or_full_phone_in_any_log"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.name == LAST)  # stable: the others keep their order


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    labels = {
        "services_ready_s": "PostgreSQL + Redis + emulator up",
        "db_migrate_s": "airflow db migrate (PostgreSQL)",
        "nothing_to_ready_s": "nothing -> scheduler, worker, api-server ready, DAGs parsed",
        "bulk_50000_wall_s": "50,000-phone run (trigger -> run finished)",
        "dead_worker_noticed_s": "SIGKILLed worker -> its tasks no longer running (scheduler)",
        "teardown_s": "teardown",
        "stage_total_s": "deployment stage, total",
    }
    terminalreporter.write_sep("-", "deployment stage timings")
    if "cores" in FIGURES:
        terminalreporter.write_line(
            f"machine: {FIGURES['cores']:.0f} cores, "
            f"1-minute load average {FIGURES['load_average_1m']:.1f} at the end"
        )
    for key, label in labels.items():
        if key in FIGURES:
            terminalreporter.write_line(f"{label}: {FIGURES[key]:.1f} s")
    if "oom_kill_recovered" in FIGURES:
        outcome = "recovered (retried to green)" if FIGURES["oom_kill_recovered"] else "failed"
        terminalreporter.write_line(f"chunk process SIGKILLed: the run {outcome}")
    if "worker_kill_reposted_pairs" in FIGURES:
        terminalreporter.write_line(
            "pairs sent again after the worker kill (no receipt yet): "
            f"{FIGURES['worker_kill_reposted_pairs']:.0f}"
        )
    if REPORT:
        terminalreporter.write_sep("-", "event path (tests/deployment/test_events.py; also events.json)")
        for line in REPORT:
            terminalreporter.write_line(line)
    if "reused_run_id_resent_pairs" in FIGURES:
        terminalreporter.write_line(
            "pairs sent again: by a clear of the same finished run "
            f"{FIGURES['cleared_run_resent_pairs']:.0f}, by a new run under a deleted run's id "
            f"{FIGURES['reused_run_id_resent_pairs']:.0f} (of 1,000)"
        )
