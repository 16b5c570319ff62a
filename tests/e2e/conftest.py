"""Fixtures of the DAG-run tests: example storage in a tmp folder, the parsed example DAGs, task logs."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.dag_runs import DagBag, load_example_dags

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.conftest import LogText


@pytest.fixture(scope="module")
def example_storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``WHATCOUNTS_EXAMPLE_STORAGE`` for this module: a ``file://`` URI of a tmp folder.

    The pipeline DAG reads it at parse time, so it is set before ``example_dags`` parses the
    folder (and while ``dag.test()`` re-parses it), and removed after the module.
    """
    uri = tmp_path_factory.mktemp("example-storage").as_uri()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WHATCOUNTS_EXAMPLE_STORAGE", uri)
        yield uri


@pytest.fixture(scope="module")
def example_dags(example_storage: str) -> DagBag:
    bag = load_example_dags()
    assert bag.import_errors == {}
    return bag


@pytest.fixture
def task_logs(log_text: LogText, caplog: pytest.LogCaptureFixture) -> Callable[[], str]:
    """Everything a task log of this test's DAG runs could hold: captured output and log files.

    ``log_text`` turns DEBUG on for the root logger; urllib3's own DEBUG access line names the
    request path (the phone, a documented third-party fact, tests/security) and is not in a task
    log at Airflow's default INFO level, so urllib3 stays at INFO here. The provider and
    Airflow's task loggers stay at DEBUG.
    """
    caplog.set_level(logging.INFO, logger="urllib3")
    logs = Path(os.environ["AIRFLOW_HOME"]) / "logs"

    def read() -> str:
        files = [path.read_text(errors="replace") for path in logs.rglob("*") if path.is_file()]
        return "\n".join([log_text(), *files])

    return read
