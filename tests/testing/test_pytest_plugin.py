"""The pytest plugin: an emulator per test, and the default connection pointing at it for that test."""

from __future__ import annotations

import os

from tests.helpers import PHONE, SENDER


def test_whatcounts_conn_env_points_the_default_connection_at_a_fresh_emulator(whatcounts_conn_env):
    assert os.environ["AIRFLOW_CONN_WHATCOUNTS_DEFAULT"] == whatcounts_conn_env.conn_uri()
    assert whatcounts_conn_env.state.post_count(SENDER, PHONE) == 0
    assert not whatcounts_conn_env.state.is_subscribed(SENDER, PHONE)


def test_the_plugins_default_connection_reaches_the_emulator(whatcounts_conn_env):
    from whatcounts_provider.hooks.whatcounts import WhatCountsHook

    whatcounts_conn_env.subscribe(SENDER, [PHONE])
    assert WhatCountsHook().stop_sms_subscriber(PHONE, SENDER)["phone"] == PHONE
    assert whatcounts_conn_env.state.is_stopped(SENDER, PHONE)
