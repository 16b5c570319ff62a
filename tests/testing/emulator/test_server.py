"""The emulator as a server: concurrent clients, hanging and stalled answers, shutdown, connections, TLS."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import urllib3

from tests.helpers import PHONE, SENDER
from tests.testing.emulator_client import (
    API_HEADERS,
    SHORT_READ,
    basic_auth,
    get_lists,
    post_stop,
    wait_until,
)
from whatcounts_provider.testing.emulator import Faults, WhatCountsEmulator


def test_64_concurrent_clients_are_all_served(whatcounts_emulator):
    phones = [str(2065550200 + n) for n in range(64)]
    whatcounts_emulator.subscribe(SENDER, phones)
    with ThreadPoolExecutor(max_workers=64) as pool:
        statuses = list(pool.map(lambda phone: post_stop(whatcounts_emulator, phone).status_code, phones))
    assert statuses == [200] * 64
    assert all(whatcounts_emulator.state.post_count(SENDER, phone) == 1 for phone in phones)


def test_hang_times_the_client_out_and_stop_still_returns_promptly():
    emulator = WhatCountsEmulator(faults=Faults(hang=True)).start()
    try:
        with pytest.raises(requests.Timeout):
            get_lists(emulator, timeout=SHORT_READ)
        with socket.create_connection((emulator.host, emulator.port), timeout=5) as raw:
            raw.sendall(b"GET /rest/lists HTTP/1.1\r\nHost: emulator\r\n\r\n")
            wait_until(lambda: emulator.state.requests_total == 2)
            started = time.perf_counter()
            emulator.stop()
            # "Promptly" against a hang that never ends; 10 s leaves room for a loaded machine.
            assert time.perf_counter() - started < 10.0
            assert raw.recv(1024) == b"", "the hanging connection is closed without an answer"
    finally:
        emulator.stop()


def test_stall_body_sends_headers_then_times_the_client_out_after_acting(subscribed_emulator):
    subscribed_emulator.faults.update(stall_body=True)
    # requests reports a read timeout within the body as a ConnectionError wrapping urllib3's.
    with pytest.raises(requests.ConnectionError) as excinfo:
        post_stop(subscribed_emulator, PHONE, timeout=SHORT_READ)
    assert isinstance(excinfo.value.args[0], urllib3.exceptions.ReadTimeoutError)
    assert subscribed_emulator.state.is_stopped(SENDER, PHONE)
    assert subscribed_emulator.state.by_status[200] == 1

    connection = http.client.HTTPConnection(
        subscribed_emulator.host, subscribed_emulator.port, timeout=SHORT_READ[1]
    )
    try:
        connection.request("GET", "/rest/lists", headers={**API_HEADERS, "Authorization": basic_auth()})
        response = connection.getresponse()
        assert response.status == 200
        assert int(response.headers["Content-Length"]) > 0
        with pytest.raises(TimeoutError):
            response.read()
    finally:
        connection.close()


def test_stop_closes_idle_keep_alive_connections_and_is_idempotent():
    emulator = WhatCountsEmulator().start()
    connection = http.client.HTTPConnection(emulator.host, emulator.port, timeout=5)
    try:
        connection.request("GET", "/_admin/state")
        assert connection.getresponse().read()
        assert connection.sock is not None, "kept alive"
        emulator.stop()
        emulator.stop()
        assert connection.sock.recv(1024) == b"", "the server closed the idle connection"
    finally:
        connection.close()
        emulator.stop()


def test_conn_uri_and_conn_json_point_airflow_at_the_emulator():
    with WhatCountsEmulator(realm="r@lm:1", password="p/w d%") as emulator:
        port = emulator.port
        assert emulator.conn_uri() == f"whatcounts://r%40lm%3A1:p%2Fw%20d%25@http%3A%2F%2F127.0.0.1:{port}"
        assert json.loads(emulator.conn_json()) == {
            "conn_type": "whatcounts",
            "host": f"http://127.0.0.1:{port}",
            "login": "r@lm:1",
            "password": "p/w d%",
        }


def test_https_with_an_ssl_context(tmp_path):
    import trustme  # a dev dependency: a missing one must fail, not skip

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with WhatCountsEmulator(ssl_context=context) as emulator:
        assert emulator.url.startswith("https://127.0.0.1:")
        assert "https%3A%2F%2F127.0.0.1" in emulator.conn_uri()
        assert get_lists(emulator, verify=str(ca_file)).status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            get_lists(emulator)  # not trusted without the CA


def test_the_emulator_is_stdlib_only_and_independent_of_the_provider():
    """It must not share the provider's code (phone normaliser, hook) or it could not catch its bugs."""
    code = (
        "import json, sys, whatcounts_provider.testing.emulator\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('requests', 'phonenumbers', 'airflow', 'urllib3') or m in "
        "('whatcounts_provider.phone', 'whatcounts_provider.hooks'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
