"""The emulator's HTTP handler: the stop endpoint's answers and the admin routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import requests

from tests.helpers import PHONE, SENDER, basic_token

if TYPE_CHECKING:
    from whatcounts_provider.testing.emulator import WhatCountsEmulator


def post_stop(emulator: WhatCountsEmulator, phone: str, code: str = SENDER) -> requests.Response:
    auth = basic_token(emulator.state.realm, emulator.state.password)
    return requests.post(
        f"{emulator.url}/rest/sms/stopSubscriberSend/{phone}/{code}",
        headers={"Authorization": f"Basic {auth}", "Accept": "application/vnd.whatcounts-v1+json"},
        timeout=30,
    )


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
