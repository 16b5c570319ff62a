"""Talking to the emulator the way the hook does, and the answers WhatCounts documents.

The phone and sender code are those of ``tests/helpers.py`` (``PHONE``, ``SENDER``); ``PHONE10``
is that phone as a client may send it, in 10 digits.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.helpers import PHONE, SENDER, basic_token
from whatcounts_provider.testing.emulator import API_MEDIA_TYPE, DEMO_CREDENTIALS, WhatCountsEmulator

PHONE10 = PHONE.removeprefix("1")
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
    return "Basic " + basic_token(*DEMO_CREDENTIALS)


def wait_until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
