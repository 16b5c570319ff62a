"""The pytest plugin: an emulator per test, and the default connection pointing at it for that test."""

from __future__ import annotations

import os

from tests.helpers import PHONE, SENDER
from tests.testing.emulator_client import get_lists

pytest_plugins = ["pytester"]

CONN_ENV = "AIRFLOW_CONN_WHATCOUNTS_DEFAULT"
# A user's own test module, run by pytest in a subprocess: the plugin as its docstring tells them
# to use it. Its tests run in file order: the second one sees the environment after the first.
USERS_TESTS = """
import os

import requests


def test_a_dag_test_gets_the_emulator_as_its_default_connection(whatcounts_conn_env):
    uri = os.environ["AIRFLOW_CONN_WHATCOUNTS_DEFAULT"]
    assert uri == whatcounts_conn_env.conn_uri()
    assert "127.0.0.1" in uri
    assert requests.get(whatcounts_conn_env.url + "/_admin/state", timeout=30).status_code == 200


def test_the_next_test_has_the_connection_it_had_before():
    assert os.environ.get("AIRFLOW_CONN_WHATCOUNTS_DEFAULT") == os.environ["CONNECTION_BEFORE"]


def test_each_test_gets_a_fresh_emulator(whatcounts_emulator):
    assert whatcounts_emulator.state.snapshot()["counters"]["connections"] == 0
    assert whatcounts_emulator.state.subscriptions == {}
"""


def test_whatcounts_conn_env_points_the_default_connection_at_a_fresh_emulator(whatcounts_conn_env):
    assert os.environ[CONN_ENV] == whatcounts_conn_env.conn_uri()
    assert whatcounts_conn_env.state.post_count(SENDER, PHONE) == 0
    assert not whatcounts_conn_env.state.is_subscribed(SENDER, PHONE)


def test_whatcounts_conn_env_sets_the_default_connection(whatcounts_conn_env):
    assert os.environ["AIRFLOW_CONN_WHATCOUNTS_DEFAULT"] == whatcounts_conn_env.conn_uri()
    assert get_lists(whatcounts_conn_env).status_code == 200


def test_the_plugins_default_connection_reaches_the_emulator(whatcounts_conn_env):
    from whatcounts_provider.hooks.whatcounts import WhatCountsHook

    whatcounts_conn_env.subscribe(SENDER, [PHONE])
    assert WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)["phone"] == PHONE
    assert whatcounts_conn_env.state.is_stopped(SENDER, PHONE)


def test_a_users_conftest_gets_the_fixtures_and_the_connection_for_each_test_only(pytester, monkeypatch):
    """The documented opt-in: ``pytest_plugins`` in the user's conftest.py."""
    before = "whatcounts://someone:else@mail.example.com"
    monkeypatch.setenv(CONN_ENV, before)
    monkeypatch.setenv("CONNECTION_BEFORE", before)
    pytester.makeconftest('pytest_plugins = ["whatcounts_provider.testing.pytest_plugin"]')
    pytester.makepyfile(test_users_dag=USERS_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_the_plugin_is_not_loaded_unless_a_user_opts_in(pytester):
    """Installing the provider adds no fixtures to every pytest run."""
    pytester.makepyfile(test_users_dag="def test_a_dag_test(whatcounts_conn_env):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'whatcounts_conn_env' not found*"])
