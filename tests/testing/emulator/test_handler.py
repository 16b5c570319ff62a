"""The emulator's HTTP handler: how a request is taken (auth, method, body, keep-alive), admin routes."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest
import requests

from tests.helpers import PHONE, SENDER
from tests.testing.emulator_client import API_HEADERS, basic_auth, body, post_stop
from whatcounts_provider.testing.emulator import DEMO_CREDENTIALS


def test_a_stop_answers_the_record_then_the_documented_500(whatcounts_emulator):
    whatcounts_emulator.subscribe(SENDER, [PHONE])
    first = post_stop(whatcounts_emulator, PHONE)
    assert (first.status_code, first.json()["phone"]) == (200, PHONE)
    again = post_stop(whatcounts_emulator, PHONE)
    assert again.status_code == 500
    assert f"phone [{PHONE}]" in again.json()["error"]
    assert whatcounts_emulator.state.post_count(SENDER, PHONE) == 2


def test_a_phone_that_is_not_digits_is_a_400(whatcounts_emulator):
    assert post_stop(whatcounts_emulator, "abc").status_code == 400


def test_the_admin_routes_subscribe_and_report_state(whatcounts_emulator):
    base = f"{whatcounts_emulator.url}/_admin"
    assert requests.post(f"{base}/subscribe", json={"sender_code": SENDER, "phones": [PHONE]}, timeout=30).ok
    assert whatcounts_emulator.state.is_subscribed(SENDER, PHONE)
    state = requests.get(f"{base}/state", timeout=30)
    assert state.status_code == 200
    assert requests.get(f"{base}/subscribe", timeout=30).status_code == 405
    assert requests.post(f"{base}/nothing", json={}, timeout=30).status_code == 404
    assert requests.post(f"{base}/subscribe", data=b"[1]", timeout=30).status_code == 400


@pytest.mark.parametrize(
    "auth",
    [(DEMO_CREDENTIALS[0], "wrong"), ("other-realm", DEMO_CREDENTIALS[1]), None],
    ids=["password", "realm", "none"],
)
def test_bad_or_missing_basic_auth_is_a_401_and_stops_nothing(subscribed_emulator, auth):
    response = post_stop(subscribed_emulator, PHONE, auth=auth)
    assert response.status_code == 401
    assert body(response) == {"error": "Unauthorized", "status": "Unauthorized", "statusCode": 401}
    assert response.headers["WWW-Authenticate"] == 'Basic realm="WhatCounts"'
    assert subscribed_emulator.state.is_subscribed(SENDER, PHONE)


def test_the_admin_api_needs_no_auth_and_counts_no_api_request(whatcounts_emulator):
    response = requests.get(f"{whatcounts_emulator.url}/_admin/state", timeout=5)
    assert body(response)["counters"]["requests"] == 0
    assert whatcounts_emulator.state.requests_total == 0


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", f"/rest/sms/stopSubscriberSend/{PHONE}/{SENDER}", "POST"),
        ("POST", "/rest/lists", "GET"),
        ("DELETE", "/_admin/state", "GET"),
        ("GET", "/_admin/reset", "POST"),
        ("PUT", "/rest/lists", "GET"),
        ("PATCH", f"/rest/sms/stopSubscriberSend/{PHONE}/{SENDER}", "POST"),
    ],
)
def test_a_wrong_method_is_a_405(subscribed_emulator, method, path, allow):
    response = requests.request(
        method, f"{subscribed_emulator.url}{path}", auth=DEMO_CREDENTIALS, headers=API_HEADERS, timeout=5
    )
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert body(response)["statusCode"] == 405
    assert subscribed_emulator.state.is_subscribed(SENDER, PHONE)


def test_keep_alive_serves_many_requests_on_one_connection_without_delay(whatcounts_emulator):
    phones = [str(2065550100 + n) for n in range(50)]
    whatcounts_emulator.subscribe(SENDER, phones)
    statuses, took = [], []
    with requests.Session() as session:
        for phone in phones:
            started = time.perf_counter()
            statuses.append(post_stop(whatcounts_emulator, phone, session=session).status_code)
            took.append(time.perf_counter() - started)
    assert statuses == [200] * 50
    assert whatcounts_emulator.state.connections == 1
    # With Nagle's algorithm on, EVERY answer waits ~40 ms for a delayed ACK. The median is what
    # is checked: a loaded machine delays some requests by a CPU time slice or more, not most of
    # them by 30 ms (a total-time bound failed under load).
    assert sorted(took)[len(took) // 2] < 0.03


def test_a_request_body_is_read_whole_so_the_next_request_on_the_connection_is_served(subscribed_emulator):
    """A stop sent with a JSON body (as the hook's Content-Type suggests) leaves nothing unread."""
    connection = http.client.HTTPConnection(subscribed_emulator.host, subscribed_emulator.port, timeout=5)
    try:
        headers = {**API_HEADERS, "Authorization": basic_auth()}
        payload = json.dumps({"ignored": "x" * 10_000})
        connection.request("POST", f"/rest/sms/stopSubscriberSend/{PHONE}/{SENDER}", payload, headers)
        first = connection.getresponse()
        assert (first.status, json.loads(first.read())["phone"]) == (200, PHONE)
        connection.request("GET", "/rest/lists", headers=headers)
        second = connection.getresponse()
        assert second.status == 200
        assert json.loads(second.read())
    finally:
        connection.close()
    assert subscribed_emulator.state.connections == 1


@pytest.mark.parametrize(
    "framing",
    ["Content-Length: many", "Content-Length: -5", "Transfer-Encoding: chunked"],
    ids=["not-a-number", "negative", "chunked"],
)
def test_a_body_without_a_valid_content_length_is_a_400_and_closes_the_connection(
    subscribed_emulator, framing
):
    request = (
        f"POST /rest/sms/stopSubscriberSend/{PHONE}/{SENDER} HTTP/1.1\r\nHost: emulator\r\n"
        f"Authorization: {basic_auth()}\r\nAccept: {API_HEADERS['Accept']}\r\n{framing}\r\n\r\n"
    )
    with socket.create_connection((subscribed_emulator.host, subscribed_emulator.port), timeout=5) as raw:
        raw.sendall(request.encode())
        answer = b""
        while chunk := raw.recv(4096):  # ends when the emulator closes the connection
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert json.loads(payload)["statusCode"] == 400
    assert subscribed_emulator.state.is_subscribed(SENDER, PHONE)
    assert subscribed_emulator.state.requests_total == 0
