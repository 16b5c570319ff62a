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

HEAVY = ("requests", "phonenumbers", "whatcounts_provider.hooks.whatcounts")


def modules_after_import(statement: str) -> set[str]:
    """The modules of ``HEAVY`` loaded in a fresh interpreter after running ``statement``."""
    code = f"import json, sys\n{statement}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "statement",
    [
        "import whatcounts_provider.operators.sms",
        "from whatcounts_provider.operators.sms import (\n"
        "    BulkStopSmsSubscriberOperator, StopSmsSubscriberOperator\n)",
    ],
)
def test_importing_the_operators_loads_neither_requests_phonenumbers_nor_the_hook(statement):
    assert modules_after_import(statement) == set()


def test_the_check_sees_the_modules_once_the_hook_is_imported():
    """The same probe reports all three after importing the hook: it can fail."""
    assert modules_after_import("import whatcounts_provider.hooks.whatcounts") == set(HEAVY)
