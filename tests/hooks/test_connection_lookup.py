"""Inside a task the hook resolves its connection through the API the running Airflow supports.

Airflow 3.0 has no ``airflow.sdk.BaseHook``: its ``airflow.hooks.base.BaseHook.get_connection``
goes through ``airflow.models.connection``, which warns (DeprecationWarning) in every task. The
3.x lanes turn that warning into an error, so a task would fail on it.
"""

from __future__ import annotations

import warnings
from unittest import mock

import airflow
import pytest
from packaging.version import Version

from whatcounts_provider.hooks.whatcounts import WhatCountsHook

AIRFLOW_VERSION = Version(airflow.__version__)
REALM = "realm-1"
PASSWORD = "lookup-pw-123"
SITE = "mail.example.com"

pytestmark = pytest.mark.skipif(AIRFLOW_VERSION.major < 3, reason="2.11 tasks run without the task SDK")


@pytest.fixture
def in_a_task(monkeypatch: pytest.MonkeyPatch) -> mock.MagicMock:
    """What Airflow 3 sets in a running task: the task runner's channel to its supervisor."""
    from airflow.sdk.execution_time import task_runner

    comms = mock.MagicMock(name="SUPERVISOR_COMMS")
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", comms, raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_WHATCOUNTS_DEFAULT", f"whatcounts://{REALM}:{PASSWORD}@{SITE}")
    return comms


def test_a_task_resolves_the_connection_without_deprecation_warnings(in_a_task):
    hook = WhatCountsHook()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        settings = hook.settings
    assert settings.base_url == f"https://{SITE}/rest"
    assert (settings.realm, settings.password) == (REALM, PASSWORD)


@pytest.mark.skipif(AIRFLOW_VERSION.release[:2] != (3, 0), reason="the models path warns in tasks on 3.0")
def test_airflow_3_0s_own_base_hook_warns_in_the_same_task(in_a_task):
    """The situation above is the one that warns: 3.0's base class alone would fail the task."""
    from airflow.hooks.base import BaseHook

    with pytest.warns(DeprecationWarning, match=r"Connection\.get_connection_from_secrets"):
        BaseHook.get_connection("whatcounts_default")
