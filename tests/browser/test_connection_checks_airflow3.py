"""What Airflow 3.3's connection form refuses, what it saves unchecked, and what the hook says then.

Driven in Chromium: 3.3.2's form enforces number bounds and required values (a type without
"null"), but passes no ``pattern`` to its inputs. The number fields are therefore declared
required (a non-number typed leaves them empty); text that breaks a pattern is saved, and the
hook names it by the field's label (the list's Test icon is broken on 3.3.2, so these tests use
the REST API's test endpoint, as docs/connection.md does).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from ._api import api, delete_connections
from .conftest import API_CLIENT, requires_airflow, screenshot
from .test_connection_form_airflow3 import open_add_form, open_extra_fields

if TYPE_CHECKING:
    from collections.abc import Iterator

    from whatcounts_provider.testing.emulator import WhatCountsEmulator

    from ._servers import AirflowServer

pytestmark = [pytest.mark.browser, requires_airflow(3)]

SAVED_HERE = ("wc_soon", "wc_unchecked", "wc_codes")


@pytest.fixture(autouse=True)
def _forget_saved_connections(airflow: AirflowServer) -> Iterator[None]:
    """The list page (and its screenshot) of the other modules shows only their connections."""
    yield
    delete_connections(airflow, *SAVED_HERE)


def start_connection(page: Any, airflow: AirflowServer, conn_id: str, emulator: WhatCountsEmulator) -> Any:
    dialog = open_add_form(page, airflow)
    dialog.locator("input[name=connection_id]").fill(conn_id)
    dialog.locator("input[name=host]").fill(emulator.url)
    dialog.locator("input[name=login]").fill(emulator.state.realm)
    dialog.locator("input[name=password]").fill(emulator.state.password)
    open_extra_fields(dialog)
    return dialog


def type_into(dialog: Any, name: str, text: str) -> Any:
    field = dialog.locator(f"[name=element_{name}]")
    field.fill("")
    field.press_sequentially(text)
    field.blur()
    return field


def connection_test_result(airflow: AirflowServer, conn_id: str) -> dict[str, Any]:
    """POST /api/v2/connections/test for a saved connection (without port: see docs)."""
    status, result = api(
        airflow, "POST", "/api/v2/connections/test", {"connection_id": conn_id, "conn_type": "whatcounts"}
    )
    assert status == 200, result
    return dict(result)


def test_a_non_number_timeout_is_refused_not_saved_as_null(page, airflow, stage_emulator):
    dialog = start_connection(page, airflow, "wc_soon", stage_emulator)
    timeout = type_into(dialog, "timeout", "soon")
    assert timeout.input_value() == "", "the number input drops letters"
    # The title carries a "*" (required) beside it: not an exact text match.
    row = dialog.locator("[role=group]", has=page.get_by_text("Read timeout (seconds)")).last
    row.get_by_text("This field is required").wait_for()
    assert "Seconds to wait for each answer, more than 0" in row.inner_text(), "the help text is shown"
    save = dialog.get_by_role("button", name="Save")
    assert save.is_disabled()
    page.set_viewport_size({"width": 1280, "height": 1500})
    screenshot(dialog, "connection-form-required-airflow-3.png")
    type_into(dialog, "timeout", "45")
    assert save.is_enabled()
    save.click()
    dialog.wait_for(state="hidden")
    _, saved = api(airflow, "GET", "/api/v2/connections/wc_soon")
    assert json.loads(saved["extra"])["timeout"] == 45


def test_text_the_form_does_not_check_is_saved_and_named_by_the_hook(page, airflow, stage_emulator):
    dialog = start_connection(page, airflow, "wc_unchecked", stage_emulator)
    typed = {
        "api_version": "version2",
        "verify": "maybe",
        "default_region": "AUT",
        "sender_codes": "12345, 6-7",
    }
    for name, text in typed.items():
        field = type_into(dialog, name, text)
        assert field.get_attribute("pattern") is None, "3.3.2 does not enforce patterns (pinned)"
        assert field.input_value() == text
    dialog.get_by_role("button", name="Save").click()
    dialog.wait_for(state="hidden")
    _, saved = api(airflow, "GET", "/api/v2/connections/wc_unchecked")
    extra = json.loads(saved["extra"])
    assert {name: extra[name] for name in typed} == typed, "saved as typed, not cut"

    message = connection_test_result(airflow, "wc_unchecked")["message"]
    assert message.startswith("connection 'wc_unchecked' has 4 invalid settings")
    for label in (
        "API version (extra 'api_version') must look like 'v1', got 'version2'",
        "Default phone region (extra 'default_region')",
        "TLS verification (extra 'verify')",
        "Sender codes (revoke-all) (extra 'sender_codes') has 1 invalid sender code: '6-7'",
    ):
        assert label in message


def test_sender_codes_typed_in_the_form_are_read_by_the_hook(page, airflow, stage_emulator):
    dialog = start_connection(page, airflow, "wc_codes", stage_emulator)
    type_into(dialog, "sender_codes", "2065550100, 55555")
    dialog.get_by_role("button", name="Save").click()
    dialog.wait_for(state="hidden")
    _, saved = api(airflow, "GET", "/api/v2/connections/wc_codes")
    assert json.loads(saved["extra"])["sender_codes"] == "2065550100, 55555"
    realm = stage_emulator.state.realm
    assert connection_test_result(airflow, "wc_codes") == {
        "status": True,
        "message": f"Connected to {stage_emulator.url}/rest as realm {realm!r} (2 lists).",
    }


def test_a_rejected_api_client_key_is_named_by_the_test(airflow, api_client_emulator):
    name = API_CLIENT.partition(":")[0]
    body = {
        "connection_id": "wc_key",
        "conn_type": "whatcounts",
        "host": api_client_emulator.url,
        "login": api_client_emulator.state.realm,
        "password": api_client_emulator.state.password,
        "extra": json.dumps({"api_key": f"{name}:wrong-auth-part"}),
    }
    status, result = api(airflow, "POST", "/api/v2/connections/test", body)
    assert status == 200, result
    assert result["status"] is False
    assert "rejected the credentials of connection 'wc_key'" in result["message"]
    assert "API client key (optional) (extra 'api_key'), which is set" in result["message"]
    assert "wrong-auth-part" not in result["message"]
    body["extra"] = json.dumps({"api_key": API_CLIENT})
    status, result = api(airflow, "POST", "/api/v2/connections/test", body)
    assert result["status"] is True, result
