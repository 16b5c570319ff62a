"""What the emulator copies of WhatCounts' API: records, documented errors, media type, paths, phones.

How one request is taken (auth, methods, keep-alive) is tested in test_handler.py, what the
emulator remembers of it (counters, request log) in test_state.py.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import requests

from tests.helpers import NO_SUBSCRIPTION, PHONE, SENDER
from tests.testing.emulator_client import API_HEADERS, PHONE10, RECORD_KEYS, body, get_lists, post_stop
from whatcounts_provider.testing.emulator import DEMO_CREDENTIALS
from whatcounts_provider.testing.emulator.api import naive_whatcounts_phone


def test_stop_returns_the_record_with_a_10_digit_phone_in_11_digit_form(subscribed_emulator):
    response = post_stop(subscribed_emulator, PHONE10)
    assert response.status_code == 200
    record = body(response)
    assert set(record) == RECORD_KEYS
    assert record["phone"] == PHONE
    assert (record["id"], record["realmId"], record["campaignId"]) == (1, 10, 0)
    created = datetime.strptime(record["createdDate"], "%b %d, %Y %I:%M:%S %p")
    assert abs((datetime.now() - created).total_seconds()) < 60
    assert record["updatedDate"] == record["createdDate"]
    assert subscribed_emulator.state.is_stopped(SENDER, PHONE)
    assert not subscribed_emulator.state.is_subscribed(SENDER, PHONE10)


def test_ids_increment_per_stop_and_stay_stable_per_sender_and_subscription(subscribed_emulator):
    subscribed_emulator.subscribe(SENDER, ["12065959697"])
    subscribed_emulator.subscribe("OTHER", [PHONE])
    first, second = (body(post_stop(subscribed_emulator, phone)) for phone in (PHONE, "12065959697"))
    other = body(post_stop(subscribed_emulator, PHONE, "OTHER"))
    assert [first["id"], second["id"], other["id"]] == [1, 2, 3]
    assert first["smsSenderId"] == second["smsSenderId"] != other["smsSenderId"]
    assert len({first["smsSubscriberId"], second["smsSubscriberId"], other["smsSubscriberId"]}) == 3


def test_stopping_a_stopped_phone_gives_the_documented_500(subscribed_emulator):
    assert post_stop(subscribed_emulator, PHONE).status_code == 200
    again = post_stop(subscribed_emulator, PHONE10)
    assert again.status_code == 500
    assert body(again) == NO_SUBSCRIPTION
    assert again.text == json.dumps(NO_SUBSCRIPTION)


def test_a_phone_never_subscribed_gives_the_documented_500(whatcounts_emulator):
    response = post_stop(whatcounts_emulator, PHONE10)
    assert response.status_code == 500
    assert body(response) == NO_SUBSCRIPTION


@pytest.mark.parametrize("phone", ["206-595-9696", "%2B12065959696", "abc", "1206595969\uff16"])
def test_a_phone_segment_that_is_not_digits_is_a_400(subscribed_emulator, phone):
    response = post_stop(subscribed_emulator, phone)
    assert response.status_code == 400
    assert body(response)["statusCode"] == 400
    assert subscribed_emulator.state.is_subscribed(SENDER, PHONE)


@pytest.mark.parametrize("accept", ["application/json", "application/vnd.whatcounts-v2+json", "*/*"])
def test_an_accept_header_other_than_v1_is_a_406(subscribed_emulator, accept):
    response = post_stop(subscribed_emulator, PHONE, headers={"Accept": accept})
    assert response.status_code == 406
    assert body(response)["statusCode"] == 406
    assert subscribed_emulator.state.is_subscribed(SENDER, PHONE)


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
    ("sent", "read"),
    [
        ("2065959696", PHONE),
        (2065959696, PHONE),
        (PHONE, PHONE),
        ("442071838750", "442071838750"),
        ("+12065959696", None),
        ("206-595-9696", None),
        ("1206595969\uff16", None),
        ("1" * 16, None),
        ("", None),
    ],
)
def test_the_emulator_reads_phones_naively_as_whatcounts_does(sent, read):
    """Digits only, 10 digits gain a 1: no parsing that could agree with a bug of the provider's."""
    assert naive_whatcounts_phone(sent) == read
