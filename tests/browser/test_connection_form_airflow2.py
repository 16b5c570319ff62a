"""The WhatCounts connection form in Airflow 2.11's UI (webserver), as a user sees it."""

from __future__ import annotations

import json
import re

import pytest

from ._api import click_test, fill, help_of, label_of, open_add_form, save
from .conftest import requires_airflow, screenshot

pytestmark = [pytest.mark.browser, requires_airflow(2)]

EXTRAS = {  # label, help text (start), placeholder
    "api_version": ("API version", "WhatCounts REST API version", "v1"),
    "timeout": ("Read timeout (seconds)", "Seconds to wait for each answer", "30"),
    "max_retries": ("Max retries", "Retries of transient failures", "5"),
    "default_region": ("Default phone region", "Two-letter region", "US"),
    "verify": ("TLS verification", "true (the default), false", "true"),
    "api_key": (
        "API client key (optional)",
        "Only for a WhatCounts API Client",
        "apiClientName:apiClientAuth",
    ),
    "sender_codes": ("Sender codes (revoke-all)", "Every SMS sender code of this account", "12345, 67890"),
}


def test_whatcounts_form_shows_labels_placeholders_help_and_hides_schema_port(page, airflow):
    form = open_add_form(page, airflow)
    assert label_of(form, "host") == "Site URL"
    assert label_of(form, "login") == "Realm"
    assert label_of(form, "password") == "API password"
    assert form.locator("#host").get_attribute("placeholder") == "https://mail.example.com"
    assert form.locator("#login").get_attribute("placeholder") == "your WhatCounts realm"
    assert not form.locator("#schema").is_visible()
    assert not form.locator("#port").is_visible()
    for name, (label, help_text, placeholder) in EXTRAS.items():
        field_id = f"extra__whatcounts__{name}"
        assert label_of(form, field_id) == label
        assert form.locator(f"#{field_id}").get_attribute("placeholder") == placeholder, name
        help_block = form.locator(f"#{field_id} ~ .help-block")
        assert help_block.inner_text().startswith(help_text), name
    assert form.locator("#extra__whatcounts__api_key").get_attribute("type") == "password"
    # Extra stays visible: 2.11's Test button needs its editor (see hooks/_form.py).
    assert label_of(form, "extra").startswith("Extra (JSON")
    assert form.locator(".CodeMirror").is_visible()
    fill(form, "whatcounts_default", "https://mail.example.com", "your-realm", "secret")
    screenshot(page.locator("form#model_form"), "connection-form-airflow-2.png")


def test_test_before_saving_names_the_typed_connection(page, airflow, stage_emulator):
    realm, password = stage_emulator.state.realm, stage_emulator.state.password
    form = open_add_form(page, airflow)
    fill(form, "whatcounts_typed", stage_emulator.url, realm, password)
    assert click_test(page).endswith(f"Connected to {stage_emulator.url}/rest as realm {realm!r} (2 lists).")

    form.locator("#password").fill("wrong")
    message = click_test(page)
    assert "WhatCounts rejected the credentials of connection 'whatcounts_typed'" in message
    assert message.count("connection 'whatcounts_typed'") == 1
    assert not re.search(r"connection '[A-Za-z0-9]{8}'", message), "Airflow's random id leaked"


def test_scheme_less_site_url_on_plain_http_is_diagnosed(page, airflow, stage_emulator):
    form = open_add_form(page, airflow)
    fill(
        form,
        "whatcounts_typed",
        f"127.0.0.1:{stage_emulator.port}",
        stage_emulator.state.realm,
        stage_emulator.state.password,
    )
    message = click_test(page)
    assert f"https://127.0.0.1:{stage_emulator.port} answered in plain HTTP, not TLS" in message
    assert f"write http://127.0.0.1:{stage_emulator.port}" in message
    assert "CA bundle" not in message
    assert message.endswith("(plain http:// is allowed only for loopback)"), "no attempt count dangles"
    page.evaluate("window.scrollTo(0, 0)")  # the alert is at the top of the page
    screenshot(page, "connection-test-plain-http-airflow-2.png")


def test_invalid_extras_are_reported_together_by_label(page, airflow, stage_emulator):
    form = open_add_form(page, airflow)
    state = stage_emulator.state
    fill(form, "whatcounts_typed", stage_emulator.url, state.realm, state.password,
         timeout="soon", max_retries="99", default_region="USA")  # fmt: skip
    message = click_test(page)
    assert "connection 'whatcounts_typed' has 3 invalid settings" in message
    for label in ("Read timeout (seconds) (extra 'timeout')", "Max retries (extra 'max_retries')",
                  "Default phone region (extra 'default_region')"):  # fmt: skip
        assert label in message


def test_save_edit_and_test_on_the_edit_page(page, airflow, stage_emulator):
    realm, password = stage_emulator.state.realm, stage_emulator.state.password
    form = open_add_form(page, airflow)
    fill(form, "whatcounts_ui", stage_emulator.url, realm, password, timeout="12")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Added Row").wait_for()
    saved = json.loads(airflow.cli("connections", "get", "whatcounts_ui", "-o", "json"))[0]
    assert saved["host"] == stage_emulator.url
    assert saved["extra_dejson"]["timeout"] == "12"

    # Edit: the saved values are back in their fields, and the Test button works there too.
    page.goto(f"{airflow.url}/connection/list/")
    page.get_by_text("whatcounts_ui", exact=True).wait_for()
    page.goto(f"{airflow.url}/connection/edit/{saved['id']}")
    form = page.locator("form#model_form")
    assert form.locator("#host").input_value() == stage_emulator.url
    assert form.locator("#extra__whatcounts__timeout").input_value() == "12"
    # 2.11 never sends a saved password back to the page: the message says what to do.
    message = click_test(page)
    assert "connection 'whatcounts_ui'" in message
    assert "type it again to test" in message
    form.locator("#password").fill(password)
    assert click_test(page).endswith(f"Connected to {stage_emulator.url}/rest as realm {realm!r} (2 lists).")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "connection-edit-test-airflow-2.png")
    form.locator("#extra__whatcounts__max_retries").fill("2")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Changed Row").wait_for()
    saved = json.loads(airflow.cli("connections", "get", "whatcounts_ui", "-o", "json"))[0]
    assert saved["password"] == password, "saving the Edit page keeps the password"


def test_save_refuses_extras_outside_their_schema_and_says_why_in_the_help_text(
    page, airflow, stage_emulator
):
    """Save is refused, the bad fields get a red box, and their help text says why.

    Airflow 2.11's connection_form.js overwrites the text of every alert on the page with its
    generic "Fields that are currently populated..." warning, the red boxes included: so the
    reason is the field's help text, which the script leaves alone.
    """
    form = open_add_form(page, airflow)
    state = stage_emulator.state
    fill(form, "whatcounts_bad", stage_emulator.url, state.realm, state.password,
         max_retries="99", default_region="USA", api_version="version2", verify="maybe",
         sender_codes="12345, 678-90")  # fmt: skip
    save(page, refused=True)

    def errors_in_row_of(name: str) -> int:
        row = page.locator("tr", has=page.locator(f"#extra__whatcounts__{name}"))
        return int(row.locator(".alert-danger").count())

    for name in ("max_retries", "default_region", "api_version", "verify", "sender_codes"):
        assert errors_in_row_of(name) == 1, name
        assert help_of(form, f"extra__whatcounts__{name}").startswith("Not saved: not a valid value. "), name
    assert errors_in_row_of("timeout") == 0
    assert help_of(form, "extra__whatcounts__timeout").startswith("Seconds to wait for each answer")
    assert "whatcounts_bad" not in airflow.cli("connections", "list", "-o", "plain")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "connection-save-refused-airflow-2.png", full_page=True)
    # The typed password is not sent back to the page, and its help text says so.
    assert form.locator("#password").input_value() == ""
    assert "Type it again" in help_of(form, "password")
    form.locator("#password").fill(state.password)
    message = click_test(page)
    assert "has 5 invalid settings" in message
    assert "Max retries (extra 'max_retries')" in message
    assert "Sender codes (revoke-all) (extra 'sender_codes') has 1 invalid sender code: '678-90'" in message
