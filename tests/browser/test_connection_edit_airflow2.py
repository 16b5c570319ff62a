"""Airflow 2.11's connection form keeps what the user typed or saved, or refuses to save and says why.

Each test is a defect found by driving the form: an Edit that dropped the saved API client key,
a refused Save that dropped the typed API password without a word, Extra-box JSON dropped for
keys that have their own field.
"""

from __future__ import annotations

import pytest

from ._api import (
    SENSITIVE_PLACEHOLDER,
    click_test,
    fill,
    help_of,
    open_add_form,
    save,
    set_extra_box,
    stored,
)
from .conftest import API_CLIENT, requires_airflow

pytestmark = [pytest.mark.browser, requires_airflow(2)]


def open_edit_form(page, airflow, conn_id: str):
    page.goto(f"{airflow.url}/connection/edit/{stored(airflow, conn_id)['id']}")
    return page.locator("form#model_form")


def test_an_edit_that_does_not_touch_the_api_key_keeps_it(page, airflow, api_client_emulator):
    state = api_client_emulator.state
    form = open_add_form(page, airflow)
    fill(form, "wc_keyed", api_client_emulator.url, state.realm, state.password,
         api_key=API_CLIENT, sender_codes="2065550100, 55555")  # fmt: skip
    save(page)
    assert stored(airflow, "wc_keyed")["extra_dejson"]["api_key"] == API_CLIENT

    form = open_edit_form(page, airflow, "wc_keyed")
    key = form.locator("#extra__whatcounts__api_key")
    assert key.get_attribute("type") == "password"
    assert key.input_value() == SENSITIVE_PLACEHOLDER, "a saved key shows as saved, never as itself"
    assert API_CLIENT.partition(":")[2] not in page.content()
    assert form.locator("#extra__whatcounts__sender_codes").input_value() == "2065550100, 55555"
    form.locator("#extra__whatcounts__timeout").fill("45")
    save(page)

    extra = stored(airflow, "wc_keyed")["extra_dejson"]
    assert extra["api_key"] == API_CLIENT
    assert extra["sender_codes"] == "2065550100, 55555"
    assert extra["timeout"] == "45"
    output = airflow.cli("connections", "test", "wc_keyed")
    assert "Connection success!" in output, output


def test_a_wrong_api_key_is_named_when_the_test_gets_a_401(page, airflow, api_client_emulator):
    state = api_client_emulator.state
    form = open_add_form(page, airflow)
    name = API_CLIENT.partition(":")[0]
    fill(form, "wc_wrong_key", api_client_emulator.url, state.realm, state.password,
         api_key=f"{name}:wrong-auth-part")  # fmt: skip
    message = click_test(page)
    assert "WhatCounts rejected the credentials of connection 'wc_wrong_key'" in message
    assert "check Realm (Login), API password (Password) and API client key (optional)" in message
    assert "wrong-auth-part" not in message


def test_a_refused_save_says_to_type_the_password_again(page, airflow, stage_emulator):
    state = stage_emulator.state
    form = open_add_form(page, airflow)
    fill(form, "wc_refused", stage_emulator.url, state.realm, state.password,
         api_key="typed-client:typed-auth", default_region="AUT1")  # fmt: skip
    save(page, refused=True)
    assert form.locator("#password").input_value() == ""
    assert help_of(form, "password").startswith("Not kept: this Save was refused")
    assert "Type it again" in help_of(form, "password")
    key = form.locator("#extra__whatcounts__api_key")
    assert key.input_value() == "", "never saved: no placeholder that would stand for it"
    assert help_of(form, "extra__whatcounts__api_key").startswith("Not kept: this Save was refused")
    assert "typed-auth" not in page.content()
    assert help_of(form, "extra__whatcounts__default_region").startswith("Not saved: not a valid value.")

    form.locator("#extra__whatcounts__default_region").fill("AT")
    form.locator("#password").fill(state.password)
    save(page)
    saved = stored(airflow, "wc_refused")
    assert saved["password"] == state.password
    assert saved["extra_dejson"]["default_region"] == "AT"


def test_json_typed_in_the_extra_box_is_kept(page, airflow, stage_emulator):
    """``{"timeout": 60, "max_retries": 3}`` with 60 typed in the timeout field lost max_retries."""
    state = stage_emulator.state
    form = open_add_form(page, airflow)
    fill(form, "wc_box", stage_emulator.url, state.realm, state.password, timeout="60")
    set_extra_box(page, '{"timeout": 60, "max_retries": 3, "retry_after_max": 20}')
    save(page)
    extra = stored(airflow, "wc_box")["extra_dejson"]
    assert (extra["timeout"], extra["max_retries"], str(extra["retry_after_max"])) == ("60", "3", "20")

    # On Edit the box shows the saved extras: a field changed or emptied still decides.
    form = open_edit_form(page, airflow, "wc_box")
    form.locator("#extra__whatcounts__timeout").fill("")
    form.locator("#extra__whatcounts__max_retries").fill("4")
    save(page)
    extra = stored(airflow, "wc_box")["extra_dejson"]
    assert "timeout" not in extra
    assert extra["max_retries"] == "4"


def test_a_field_and_the_extra_box_that_disagree_refuse_the_save(page, airflow, stage_emulator):
    state = stage_emulator.state
    form = open_add_form(page, airflow)
    fill(form, "wc_twice", stage_emulator.url, state.realm, state.password, timeout="12")
    set_extra_box(page, '{"timeout": 60}')
    save(page, refused=True)
    assert help_of(form, "extra__whatcounts__timeout") == (
        "Not saved: Read timeout (seconds) is given twice, '12' in this field and '60' in the Extra box "
        "('timeout'). Keep one of them."
    )
    assert "wc_twice" not in airflow.cli("connections", "list", "-o", "plain")


def test_empty_realm_and_password_are_named_by_their_form_labels(page, airflow, stage_emulator):
    form = open_add_form(page, airflow)
    fill(form, "wc_empty", stage_emulator.url, "", "")
    message = click_test(page)
    assert "Realm (Login) is empty" in message
    assert "API password (Password) is empty" in message
