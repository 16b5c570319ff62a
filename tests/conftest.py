"""Shared test set-up: an isolated Airflow home, connections from env vars, a migrated DB on demand."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from whatcounts_provider.testing.series import phone_series

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DAGS = ROOT / "example_dags"

# Airflow reads these at import time; `make test` sets them per Airflow version, plain
# `pytest` falls back to a throwaway home inside the project.
os.environ.setdefault("AIRFLOW_HOME", str(ROOT / ".build" / "airflow-home-pytest"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(EXAMPLE_DAGS))

REALM = "test-realm"
PASSWORD = "t0p-s3cret-api-password"
SITE = "https://mail.example.com"
REST = f"{SITE}/rest"
SENDER = "2065551212"


def phones(count: int) -> list[str]:
    """Distinct valid US phones in WhatCounts' form (12062000000, 12062000001, ...).

    The series the example DAG whatcounts_bulk_opt_out generates (one generator for both).
    """
    return phone_series(count)


@pytest.fixture
def whatcounts_conn(monkeypatch: pytest.MonkeyPatch) -> str:
    """``whatcounts_default`` pointing at a fake https site (for requests-mock tests)."""
    uri = f"whatcounts://{REALM}:{PASSWORD}@mail.example.com"
    monkeypatch.setenv("AIRFLOW_CONN_WHATCOUNTS_DEFAULT", uri)
    return uri


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Migrate the SQLite metadata DB once per session (only e2e tests need it)."""
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return home


@pytest.fixture
def provider_logs(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]):
    """Return a function giving everything logged so far, whichever logging stack Airflow uses.

    Airflow 2.11 logs through the standard library (caplog); 3.x task-SDK loggers render
    through structlog to stdout/stderr (capsys). Tests about log content must see both.
    """
    caplog.set_level("DEBUG")
    seen: list[str] = []

    def text() -> str:
        out, err = capsys.readouterr()
        seen.extend([out, err])
        return caplog.text + "".join(seen)

    return text


class StubTaskInstance:
    """Enough of a TaskInstance for template rendering and XComArg resolution without a DB.

    (Jinja's sandbox refuses a MagicMock, so a plain object it is.)
    """

    def __init__(self, xcoms: dict[str, Any]) -> None:
        self.xcoms = xcoms
        self.pushed: dict[str, Any] = {}

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value", **_: Any) -> Any:
        return self.xcoms.get(task_ids) if key == "return_value" else None

    def xcom_push(self, key: str, value: Any, **_: Any) -> None:
        self.pushed[key] = value

    def get_relevant_upstream_map_indexes(self, *_: Any, **__: Any) -> None:
        return None


def make_context(*, params: dict[str, Any] | None = None, xcoms: dict[str, Any] | None = None, conf=None):
    ti = StubTaskInstance(xcoms or {})
    return {
        "params": params or {},
        "ti": ti,
        "task_instance": ti,
        "dag_run": SimpleNamespace(conf=conf or {}),
        "expanded_ti_count": None,
    }


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the figures soak tests attach with ``record_property`` (they belong in reports)."""
    lines = [
        f"{report.nodeid.split('::')[-1]}: " + ", ".join(f"{k}={v}" for k, v in report.user_properties)
        for report in terminalreporter.getreports("passed") + terminalreporter.getreports("failed")
        if report.user_properties and report.when == "call"
    ]
    if lines:
        terminalreporter.write_sep("-", "soak figures")
        for line in lines:
            terminalreporter.write_line(line)
