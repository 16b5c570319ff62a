"""Importing the operators stays cheap: a DAG file that only builds tasks loads no HTTP stack.

The scheduler and the DAG processor import every DAG file over and over; the hook (and with it
requests and phonenumbers) is imported only when a task runs. Each check runs in a fresh
interpreter, because this test process has long imported all of them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import AIRFLOW_3, AIRFLOW_VERSION

HEAVY = ("requests", "phonenumbers", "whatcounts_provider.hooks.whatcounts")


def import_chain(importtime: str, module: str) -> list[str]:
    """Who imported ``module``, read from ``python -X importtime`` (children come before parents)."""
    rows = [line.split("|")[-1] for line in importtime.splitlines() if line.startswith("import time:")]
    for i, row in enumerate(rows):
        if row.strip() == module:
            chain, depth = [module], len(row) - len(row.lstrip())
            for parent in rows[i + 1 :]:
                if len(parent) - len(parent.lstrip()) < depth:
                    chain.append(parent.strip())
                    depth = len(parent) - len(parent.lstrip())
            return chain
    return []


def modules_after_import(statement: str) -> dict[str, list[str]]:
    """The ``HEAVY`` modules a fresh interpreter loaded for ``statement``, each with its import chain."""
    code = f"import json, sys\n{statement}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    return {module: import_chain(done.stderr, module) for module in loaded}


@pytest.fixture(scope="module")
def loaded_by_airflow() -> dict[str, list[str]]:
    """What importing the Airflow base classes the operators need loads already (``_compat``)."""
    return modules_after_import("import whatcounts_provider._compat")


def test_airflow_itself_loads_none_of_them_on_3x_and_requests_on_2_11(loaded_by_airflow):
    """On 3.2+ nothing heavy may load. Airflow itself imports the rest elsewhere (not our doing):
    2.11 imports requests; 3.0 and 3.1 import phonenumbers (through sqlalchemy_utils)."""
    if not AIRFLOW_3:
        expected = {"requests"}
    elif AIRFLOW_VERSION.release < (3, 2):
        expected = {"phonenumbers"}
    else:
        expected = set()
    assert set(loaded_by_airflow) == expected, loaded_by_airflow


@pytest.mark.parametrize(
    "statement",
    [
        "import whatcounts_provider.operators.sms",
        "from whatcounts_provider.operators.sms import (\n"
        "    BulkStopSmsSubscriberOperator, StopSmsSubscriberOperator\n)",
    ],
)
def test_importing_the_operators_loads_neither_requests_phonenumbers_nor_the_hook(
    statement, loaded_by_airflow
):
    loaded = modules_after_import(statement)
    assert set(loaded) == set(loaded_by_airflow), loaded


def test_the_check_sees_the_modules_once_the_hook_is_imported():
    """The same probe reports all three after importing the hook, with who imported them: it can fail."""
    loaded = modules_after_import("import whatcounts_provider.hooks.whatcounts")
    assert set(loaded) == set(HEAVY)
    assert loaded["whatcounts_provider.hooks.whatcounts"] == ["whatcounts_provider.hooks.whatcounts"]
    assert loaded["phonenumbers"][-1] == "whatcounts_provider.hooks.whatcounts"
