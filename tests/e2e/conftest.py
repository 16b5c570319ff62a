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
def task_logs(log_text: LogText) -> Iterator[Callable[[], str]]:
    """Everything a task log of this test's DAG runs could hold: captured output and log files.

    ``log_text`` turns DEBUG on for everything. The provider's loggers and Airflow's task loggers
    (``airflow.task.*``, which also hold the operators' and hooks' lines) stay at DEBUG; the rest
    of Airflow and urllib3 are at Airflow's default level, INFO. At DEBUG, two third-party lines
    name a phone on their own: urllib3's request line (the URL path, tests/security) and Airflow
    2.11's ``Updating task params ... with DagRun.conf`` (the manual DAG's trigger form); and, on
    the queue path, botocore's request and response dumps (message bodies, docs/events.md).
    """
    quieted = {name: logging.getLogger(name) for name in ("airflow", "urllib3", "botocore")}
    levels = {name: logger.level for name, logger in quieted.items()}
    for logger in quieted.values():
        logger.setLevel(logging.INFO)  # the logger only: the capture handler stays at DEBUG
    logs = Path(os.environ["AIRFLOW_HOME"]) / "logs"

    def read() -> str:
        files = [path.read_text(errors="replace") for path in logs.rglob("*") if path.is_file()]
        return "\n".join([log_text(), *files])

    yield read
    for name, logger in quieted.items():
        logger.setLevel(levels[name])
