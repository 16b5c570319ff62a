"""The WhatCounts emulator: its API contract, admin API, fault injection, shutdown and CLI."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3

from whatcounts_provider.testing.emulator import (
    API_MEDIA_TYPE,
    DEMO_CREDENTIALS,
    Faults,
    WhatCountsEmulator,
)

ROOT = Path(__file__).resolve().parents[2]
SENDER = "2065551212"
PHONE10 = "2065959696"
PHONE = "12065959696"
API_HEADERS = {"Accept": API_MEDIA_TYPE, "Content-Type": "application/json"}
RECORD_KEYS = {
    "id",
    "smsSubscriberId",
    "smsSenderId",
    "realmId",
    "campaignId",
    "phone",
    "createdDate",
    "updatedDate",
}
NOT_SUBSCRIBED = {
    "error": f"An error occurred processing STOP sends for phone [{PHONE}] realmId [10]",
    "status": "Internal Server Error",
    "statusCode": 500,
}
SHORT_READ = (2.0, 0.3)  # (connect, read) timeouts


def post_stop(
    emulator: WhatCountsEmulator, phone: str, sender: str = SENDER, **kwargs: Any
) -> requests.Response:
    """POST a stop the way the hook does; kwargs override auth, headers and timeout."""
    kwargs = {"auth": DEMO_CREDENTIALS, "headers": API_HEADERS, "timeout": 5, **kwargs}
    session = kwargs.pop("session", requests)
    return session.post(f"{emulator.url}/rest/sms/stopSubscriberSend/{phone}/{sender}", **kwargs)


def get_lists(emulator: WhatCountsEmulator, **kwargs: Any) -> requests.Response:
    kwargs = {"auth": DEMO_CREDENTIALS, "headers": API_HEADERS, "timeout": 5, **kwargs}
    return requests.get(f"{emulator.url}/rest/lists", **kwargs)


def body(response: requests.Response) -> Any:
    """The JSON body, after checking the headers every emulator answer must carry."""
    assert response.headers["Content-Type"] == "application/json"
    assert int(response.headers["Content-Length"]) == len(response.content)
    return response.json()


def basic_auth() -> str:
    return "Basic " + base64.b64encode(":".join(DEMO_CREDENTIALS).encode()).decode()


def wait_until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.fixture
def emulator(whatcounts_emulator: WhatCountsEmulator) -> WhatCountsEmulator:
    """The plugin's emulator with PHONE subscribed to SENDER."""
    whatcounts_emulator.subscribe(SENDER, [PHONE10])
    return whatcounts_emulator


def test_stop_returns_the_record_with_a_10_digit_phone_in_11_digit_form(emulator):
    response = post_stop(emulator, PHONE10)
    assert response.status_code == 200
    record = body(response)
    assert set(record) == RECORD_KEYS
    assert record["phone"] == PHONE
    assert (record["id"], record["realmId"], record["campaignId"]) == (1, 10, 0)
    created = datetime.strptime(record["createdDate"], "%b %d, %Y %I:%M:%S %p")
    assert abs((datetime.now() - created).total_seconds()) < 60
    assert record["updatedDate"] == record["createdDate"]
    assert emulator.state.is_stopped(SENDER, PHONE)
    assert not emulator.state.is_subscribed(SENDER, PHONE10)


def test_ids_increment_per_stop_and_stay_stable_per_sender_and_subscription(emulator):
    emulator.subscribe(SENDER, ["12065959697"])
    emulator.subscribe("OTHER", [PHONE])
    first, second = (body(post_stop(emulator, phone)) for phone in (PHONE, "12065959697"))
    other = body(post_stop(emulator, PHONE, "OTHER"))
    assert [first["id"], second["id"], other["id"]] == [1, 2, 3]
    assert first["smsSenderId"] == second["smsSenderId"] != other["smsSenderId"]
    assert len({first["smsSubscriberId"], second["smsSubscriberId"], other["smsSubscriberId"]}) == 3


def test_stopping_a_stopped_phone_gives_the_documented_500(emulator):
    assert post_stop(emulator, PHONE).status_code == 200
    again = post_stop(emulator, PHONE10)
    assert again.status_code == 500
    assert body(again) == NOT_SUBSCRIBED
    assert again.text == json.dumps(NOT_SUBSCRIBED)


def test_a_phone_never_subscribed_gives_the_documented_500(whatcounts_emulator):
    response = post_stop(whatcounts_emulator, PHONE10)
    assert response.status_code == 500
    assert body(response) == NOT_SUBSCRIBED


@pytest.mark.parametrize("phone", ["206-595-9696", "%2B12065959696", "abc", "1206595969\uff16"])
def test_a_phone_segment_that_is_not_digits_is_a_400(emulator, phone):
    response = post_stop(emulator, phone)
    assert response.status_code == 400
    assert body(response)["statusCode"] == 400
    assert emulator.state.is_subscribed(SENDER, PHONE)


@pytest.mark.parametrize(
    "auth",
    [("demo-realm", "wrong"), ("other-realm", "demo-password"), None],
    ids=["password", "realm", "none"],
)
def test_bad_or_missing_basic_auth_is_a_401_and_stops_nothing(emulator, auth):
    response = post_stop(emulator, PHONE, auth=auth)
    assert response.status_code == 401
    assert body(response) == {"error": "Unauthorized", "status": "Unauthorized", "statusCode": 401}
    assert response.headers["WWW-Authenticate"] == 'Basic realm="WhatCounts"'
    assert emulator.state.is_subscribed(SENDER, PHONE)


@pytest.mark.parametrize("accept", ["application/json", "application/vnd.whatcounts-v2+json", "*/*"])
def test_an_accept_header_other_than_v1_is_a_406(emulator, accept):
    response = post_stop(emulator, PHONE, headers={"Accept": accept})
    assert response.status_code == 406
    assert body(response)["statusCode"] == 406
    assert emulator.state.is_subscribed(SENDER, PHONE)


def test_get_lists(whatcounts_emulator):
    response = get_lists(whatcounts_emulator)
    assert response.status_code == 200
    lists = body(response)
    assert len(lists) >= 2
    assert all(set(item) == {"listId", "listName"} for item in lists)


@pytest.mark.parametrize(
    "path", ["/", "/rest/nope", "/rest/sms/stopSubscriberSend/12065959696", "/_admin/nope"]
)
def test_unknown_paths_are_a_404(whatcounts_emulator, path):
    response = requests.post(
        f"{whatcounts_emulator.url}{path}", auth=DEMO_CREDENTIALS, headers=API_HEADERS, timeout=5
    )
    assert response.status_code == 404
    assert body(response)["statusCode"] == 404


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", f"/rest/sms/stopSubscriberSend/{PHONE}/{SENDER}", "POST"),
        ("POST", "/rest/lists", "GET"),
        ("DELETE", "/_admin/state", "GET"),
        ("GET", "/_admin/reset", "POST"),
    ],
)
def test_a_wrong_method_is_a_405(emulator, method, path, allow):
    response = requests.request(
        method, f"{emulator.url}{path}", auth=DEMO_CREDENTIALS, headers=API_HEADERS, timeout=5
    )
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert body(response)["statusCode"] == 405
    assert emulator.state.is_subscribed(SENDER, PHONE)


def test_keep_alive_serves_many_requests_on_one_connection_without_delay(whatcounts_emulator):
    phones = [str(2065550100 + n) for n in range(50)]
    whatcounts_emulator.subscribe(SENDER, phones)
    with requests.Session() as session:
        started = time.perf_counter()
        statuses = [post_stop(whatcounts_emulator, phone, session=session).status_code for phone in phones]
        elapsed = time.perf_counter() - started
    assert statuses == [200] * 50
    assert whatcounts_emulator.state.connections == 1
    # With Nagle's algorithm on, each answer would wait ~40 ms for a delayed ACK: 2 s or more.
    assert elapsed < 1.5


def test_64_concurrent_clients_are_all_served(whatcounts_emulator):
    phones = [str(2065550200 + n) for n in range(64)]
    whatcounts_emulator.subscribe(SENDER, phones)
    with ThreadPoolExecutor(max_workers=64) as pool:
        statuses = list(pool.map(lambda phone: post_stop(whatcounts_emulator, phone).status_code, phones))
    assert statuses == [200] * 64
    assert all(whatcounts_emulator.state.post_count(SENDER, phone) == 1 for phone in phones)


def test_post_count_counts_every_post_per_phone_whatever_its_outcome(emulator):
    emulator.subscribe(SENDER, ["12065959697"])
    for _ in range(3):
        post_stop(emulator, PHONE)
    post_stop(emulator, "12065959697")
    post_stop(emulator, PHONE, auth=None)
    get_lists(emulator)
    assert emulator.state.post_count(SENDER, PHONE) == 4
    assert emulator.state.post_count(SENDER, PHONE10) == 4
    assert emulator.state.post_count(SENDER, "12065959697") == 1
    assert emulator.state.post_count("OTHER", PHONE) == 0
    counters = emulator.state.snapshot()["counters"]
    assert counters["by_status"] == {"200": 3, "401": 1, "500": 2}
    assert counters["by_endpoint"] == {"lists": 1, "stop": 5}


def test_request_log_records_each_api_request_in_order(emulator):
    post_stop(emulator, PHONE)
    get_lists(emulator)
    log = emulator.state.requests
    assert [(r.method, r.endpoint, r.sender, r.phone, r.status) for r in log] == [
        ("POST", "stop", SENDER, PHONE, 200),
        ("GET", "lists", None, None, 200),
    ]
    assert log[0].timestamp <= log[1].timestamp <= time.monotonic()


def test_request_log_can_be_turned_off():
    with WhatCountsEmulator(record_requests=False) as emulator:
        get_lists(emulator)
        assert emulator.state.requests == []
        assert emulator.state.requests_total == 1


def test_admin_api_subscribe_state_faults_and_reset(whatcounts_emulator):
    admin = f"{whatcounts_emulator.url}/_admin"
    subscribed = requests.post(
        f"{admin}/subscribe", json={"sender_code": SENDER, "phones": [PHONE10]}, timeout=5
    )
    assert body(subscribed) == {"sender_code": SENDER, "phones": [PHONE]}
    assert post_stop(whatcounts_emulator, PHONE).status_code == 200
    state = body(requests.get(f"{admin}/state", timeout=5))
    assert state["subscribed"] == {SENDER: []}
    assert state["stopped"] == {SENDER: [PHONE]}
    assert state["counters"]["posts"] == {SENDER: {PHONE: 1}}

    faults = body(requests.post(f"{admin}/faults", json={"outage": True}, timeout=5))
    assert faults["outage"] is True
    assert faults["p_503"] == 0.0
    assert get_lists(whatcounts_emulator).status_code == 503

    reset = body(requests.post(f"{admin}/reset", timeout=5))
    assert reset["subscribed"] == reset["stopped"] == {}
    assert reset["counters"]["requests"] == 0
    assert whatcounts_emulator.faults.outage is False
    assert get_lists(whatcounts_emulator).status_code == 200


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("subscribe", {"sender_code": SENDER, "phones": ["not-a-phone"]}),
        ("subscribe", {"phones": [PHONE]}),
        ("faults", {"p_503": 2}),
        ("faults", {"no_such_fault": True}),
        ("faults", [1, 2]),
    ],
)
def test_admin_api_rejects_bad_input_and_changes_nothing(whatcounts_emulator, path, payload):
    before = whatcounts_emulator.faults.as_dict()
    response = requests.post(f"{whatcounts_emulator.url}/_admin/{path}", json=payload, timeout=5)
    assert response.status_code == 400
    assert body(response)["statusCode"] == 400
    assert whatcounts_emulator.faults.as_dict() == before
    assert whatcounts_emulator.state.subscriptions == {}


def status_sequence(emulator: WhatCountsEmulator, n: int = 40) -> list[int]:
    return [get_lists(emulator).status_code for _ in range(n)]


def test_faults_with_a_seed_give_the_same_sequence_of_statuses():
    def faults() -> Faults:
        return Faults(seed=42, p_503=0.3, p_429=0.3)

    with WhatCountsEmulator(faults=faults()) as first, WhatCountsEmulator(faults=faults()) as second:
        sequence = status_sequence(first)
        assert status_sequence(second) == sequence
        second.faults.update(seed=42)  # reseeding restarts the sequence
        assert status_sequence(second) == sequence
        second.faults.update(seed=7)
        assert status_sequence(second) != sequence
    assert set(sequence) == {200, 429, 503}


def test_retry_after_is_whole_seconds_within_range_and_can_be_overridden(whatcounts_emulator):
    whatcounts_emulator.faults.update(p_429=1.0, retry_after=(2, 5))
    values = {int(get_lists(whatcounts_emulator).headers["Retry-After"]) for _ in range(20)}
    assert values <= {2, 3, 4, 5}
    whatcounts_emulator.faults.update(p_429=0.0, p_503=1.0)
    assert "Retry-After" not in get_lists(whatcounts_emulator).headers
    whatcounts_emulator.faults.update(retry_after_503=True, retry_after_override="3600")
    response = get_lists(whatcounts_emulator)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "3600")


def test_failing_senders_get_503_while_others_work(emulator):
    emulator.subscribe("BROKEN", [PHONE])
    emulator.faults.update(failing_senders={"BROKEN"})
    assert post_stop(emulator, PHONE, "BROKEN").status_code == 503
    assert post_stop(emulator, PHONE).status_code == 200
    assert emulator.state.is_subscribed("BROKEN", PHONE)


def test_failing_phones_get_503_on_every_sender_until_cleared(emulator):
    emulator.faults.update(failing_phones={PHONE10})
    assert emulator.faults.as_dict()["failing_phones"] == [PHONE]
    assert [post_stop(emulator, PHONE).status_code for _ in range(3)] == [503] * 3
    assert emulator.state.post_count(SENDER, PHONE) == 3
    emulator.faults.update(failing_phones=set())
    assert post_stop(emulator, PHONE).status_code == 200


def test_auth_is_checked_before_an_outage(emulator):
    emulator.faults.update(outage=True)
    assert post_stop(emulator, PHONE, auth=("demo-realm", "wrong")).status_code == 401
    assert post_stop(emulator, PHONE).status_code == 503


def test_p_drop_closes_the_connection_before_acting(emulator):
    emulator.faults.update(p_drop=1.0)
    with pytest.raises(requests.ConnectionError):
        post_stop(emulator, PHONE)
    assert emulator.state.is_subscribed(SENDER, PHONE)
    assert not emulator.state.is_stopped(SENDER, PHONE)
    assert (emulator.state.dropped, emulator.state.post_count(SENDER, PHONE)) == (1, 1)
    emulator.faults.update(p_drop=0.0)
    assert post_stop(emulator, PHONE).status_code == 200


def test_p_drop_after_act_stops_the_phone_but_loses_the_answer(emulator):
    emulator.faults.update(p_drop_after_act=1.0)
    with pytest.raises(requests.ConnectionError):
        post_stop(emulator, PHONE)
    assert emulator.state.is_stopped(SENDER, PHONE)
    assert emulator.state.dropped_after_act == 1
    emulator.faults.update(p_drop_after_act=0.0)
    retry = post_stop(emulator, PHONE)
    assert (retry.status_code, body(retry)) == (500, NOT_SUBSCRIBED)


def test_latency_delays_api_answers_but_not_the_admin_api(whatcounts_emulator):
    whatcounts_emulator.faults.update(latency=0.4, latency_jitter=0.05, seed=3)
    started = time.perf_counter()
    assert get_lists(whatcounts_emulator).status_code == 200
    assert time.perf_counter() - started >= 0.35
    started = time.perf_counter()
    requests.get(f"{whatcounts_emulator.url}/_admin/state", timeout=5)
    assert time.perf_counter() - started < 0.3


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
            assert time.perf_counter() - started < 2.0
            assert raw.recv(1024) == b"", "the hanging connection is closed without an answer"
    finally:
        emulator.stop()


def test_stall_body_sends_headers_then_times_the_client_out_after_acting(emulator):
    emulator.faults.update(stall_body=True)
    # requests reports a read timeout within the body as a ConnectionError wrapping urllib3's.
    with pytest.raises(requests.ConnectionError) as excinfo:
        post_stop(emulator, PHONE, timeout=SHORT_READ)
    assert isinstance(excinfo.value.args[0], urllib3.exceptions.ReadTimeoutError)
    assert emulator.state.is_stopped(SENDER, PHONE)
    assert emulator.state.by_status[200] == 1

    connection = http.client.HTTPConnection(emulator.host, emulator.port, timeout=SHORT_READ[1])
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


def test_whatcounts_conn_env_sets_the_default_connection(whatcounts_conn_env):
    assert os.environ["AIRFLOW_CONN_WHATCOUNTS_DEFAULT"] == whatcounts_conn_env.conn_uri()
    assert get_lists(whatcounts_conn_env).status_code == 200


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


def test_cli_serves_until_sigterm_and_exits_0(tmp_path):
    ready = tmp_path / "ready"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", "whatcounts_provider.testing.emulator", "--port", "0"]
    command += ["--realm", "R", "--password", "P", "--subscribe", f"{SENDER}:{PHONE10},12065959697"]
    command += ["--seed", "1", "--no-record-requests", "--ready-file", str(ready)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: ready.exists() or process.poll() is not None, timeout=10)
        url = ready.read_text().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        response = requests.post(
            f"{url}/rest/sms/stopSubscriberSend/{PHONE}/{SENDER}",
            auth=("R", "P"),
            headers=API_HEADERS,
            timeout=5,
        )
        assert body(response)["phone"] == PHONE
        state = body(requests.get(f"{url}/_admin/state", timeout=5))
        assert state["subscribed"] == {SENDER: ["12065959697"]}
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert stdout == f"WhatCounts emulator listening on {url}\n"
