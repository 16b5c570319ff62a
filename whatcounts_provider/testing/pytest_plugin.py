"""Pytest fixtures that run the WhatCounts emulator, so your DAG tests need no real WhatCounts.

It is opt-in (installing the provider does not load it into every pytest run): add
``pytest_plugins = ["whatcounts_provider.testing.pytest_plugin"]`` to your ``conftest.py``, or
run ``pytest -p whatcounts_provider.testing.pytest_plugin``. Then, in your tests::

    def test_my_dag_stops_the_phone(whatcounts_conn_env):
        whatcounts_conn_env.subscribe("2065551212", ["2065959696"])
        run_my_task()  # uses the default connection, ``whatcounts_default``
        assert whatcounts_conn_env.state.is_stopped("2065551212", "2065959696")

It imports nothing from Airflow, so it never reads Airflow's configuration before your conftest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from whatcounts_provider.testing.emulator import WhatCountsEmulator

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def whatcounts_emulator() -> Iterator[WhatCountsEmulator]:
    """A running emulator on a free loopback port, fresh for each test and stopped after it.

    Subscribe phones with ``.subscribe(sender_code, phones)``, inject faults through ``.faults``
    (e.g. ``.faults.update(p_503=0.2)``) and check the outcome in ``.state``. Point a client at
    ``.url``, or an Airflow connection at ``.conn_uri()`` (or use ``whatcounts_conn_env``).
    """
    with WhatCountsEmulator() as emulator:
        yield emulator


@pytest.fixture
def whatcounts_conn_env(
    whatcounts_emulator: WhatCountsEmulator, monkeypatch: pytest.MonkeyPatch
) -> WhatCountsEmulator:
    """The ``whatcounts_emulator``, with Airflow's ``whatcounts_default`` connection pointing at it.

    The connection comes from the ``AIRFLOW_CONN_WHATCOUNTS_DEFAULT`` environment variable, set
    for this test only, so hooks and operators with the default connection id use the emulator.
    """
    monkeypatch.setenv("AIRFLOW_CONN_WHATCOUNTS_DEFAULT", whatcounts_emulator.conn_uri())
    return whatcounts_emulator
