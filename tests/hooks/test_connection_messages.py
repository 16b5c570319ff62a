"""What the connection form's Test button tells a user, and the optional API client key.

The browser stage (tests/browser) shows these messages in the real UIs; here they are checked
without a web server, against the whatcounts_emulator on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import TYPE_CHECKING

import pytest
import requests

from whatcounts_provider.exceptions import WhatCountsConfigError
from whatcounts_provider.hooks import _form
from whatcounts_provider.hooks.whatcounts import WhatCountsHook
from whatcounts_provider.testing.emulator import WhatCountsEmulator

if TYPE_CHECKING:
    from collections.abc import Iterator

API_CLIENT = "reporting-client:Zm9vYmFyLWF1dGgtc2VjcmV0"
TRANSIENT = "Ab3dE6gH"  # the shape of the id Airflow gives the copy of a form it tests


def set_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: object) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "whatcounts", **fields}))


def emulator_fields(whatcounts_emulator: WhatCountsEmulator, **extra: object) -> dict[str, object]:
    realm, password = whatcounts_emulator.state.realm, whatcounts_emulator.state.password
    return {"host": whatcounts_emulator.url, "login": realm, "password": password, "extra": extra}


# --- every invalid setting at once, by its form label -------------------------------------------


def test_invalid_extras_are_reported_together_by_their_form_labels(monkeypatch):
    set_connection(
        monkeypatch,
        "wc_form",
        host="https://mail.example.com",
        login="realm",
        password="pw",
        extra={"timeout": "soon", "max_retries": "99", "default_region": "USA", "api_version": "1"},
    )
    with pytest.raises(WhatCountsConfigError) as excinfo:
        _ = WhatCountsHook("wc_form").settings
    message = str(excinfo.value)
    assert message.startswith("connection 'wc_form' has 4 invalid settings: (1) ")
    for label, key in [
        ("API version", "api_version"),
        ("Read timeout (seconds)", "timeout"),
        ("Max retries", "max_retries"),
        ("Default phone region", "default_region"),
    ]:
        assert f"{label} (extra '{key}')" in message
    assert message.count("connection 'wc_form'") == 1


def test_empty_fields_and_bad_extras_come_in_one_message(monkeypatch):
    set_connection(monkeypatch, "wc_form", host="", login="", password="", extra={"verify": "maybe"})
    with pytest.raises(WhatCountsConfigError) as excinfo:
        _ = WhatCountsHook("wc_form").settings
    message = str(excinfo.value)
    assert "has 4 invalid settings" in message
    assert "Realm (Login) is empty" in message
    assert "API password (Password) is empty" in message
    assert "Site URL (Host) is empty" in message
    assert "TLS verification (extra 'verify')" in message


# --- the Test button's messages -----------------------------------------------------------------


def test_a_form_test_names_the_typed_connection_not_airflows_random_id(monkeypatch, whatcounts_emulator):
    """Airflow 3.x keeps the typed id in the route's ``test_body``; the message uses it."""
    set_connection(monkeypatch, TRANSIENT, **emulator_fields(whatcounts_emulator))
    monkeypatch.setattr(whatcounts_emulator.state, "password", "rotated")  # the form's password is now wrong

    class Body:
        connection_id = "whatcounts_prod"

    def route(test_body: Body) -> tuple[bool, str]:  # the shape of Airflow's route function
        return WhatCountsHook(TRANSIENT).test_connection()

    ok, message = route(Body())
    assert not ok
    assert "connection 'whatcounts_prod'" in message
    assert TRANSIENT not in message
    assert message.count("connection 'whatcounts_prod'") == 1


def test_a_form_test_with_an_empty_password_says_to_type_it_again(monkeypatch, whatcounts_emulator):
    fields = emulator_fields(whatcounts_emulator)
    del fields["password"]
    set_connection(monkeypatch, TRANSIENT, **fields)
    test_body = type("Body", (), {"connection_id": "whatcounts_prod"})()
    ok, message = WhatCountsHook(TRANSIENT).test_connection()
    assert test_body.connection_id in message
    assert not ok
    assert message.endswith(f"({_form.NOT_SENT_HINT})")


def test_outside_a_form_the_connection_keeps_its_own_id(monkeypatch, whatcounts_emulator):
    set_connection(monkeypatch, "wc_cli", **emulator_fields(whatcounts_emulator, timeout="x"))
    ok, message = WhatCountsHook("wc_cli").test_connection()
    assert not ok
    assert message.count("connection 'wc_cli'") == 1
    assert message == (
        "connection 'wc_cli': Read timeout (seconds) (extra 'timeout') must be a number of seconds "
        "greater than 0, got 'x'"
    )


def test_transport_errors_name_the_connection_once(monkeypatch):
    set_connection(monkeypatch, "wc_down", host="http://127.0.0.1:9", login="r", password="p")
    ok, message = WhatCountsHook("wc_down").test_connection()
    assert not ok
    assert message.startswith("Could not use connection 'wc_down': GET /rest/lists: connection to ")
    assert message.count("connection 'wc_down'") == 1


def test_site_url_without_scheme_on_a_plain_http_server_is_diagnosed_as_such(
    monkeypatch, whatcounts_emulator
):
    fields = emulator_fields(whatcounts_emulator)
    fields["host"] = f"127.0.0.1:{whatcounts_emulator.port}"  # no scheme: https:// is assumed
    set_connection(monkeypatch, "wc_noscheme", **fields)
    ok, message = WhatCountsHook("wc_noscheme").test_connection()
    assert not ok
    assert f"https://127.0.0.1:{whatcounts_emulator.port} answered in plain HTTP, not TLS" in message
    assert f"write http://127.0.0.1:{whatcounts_emulator.port}" in message
    assert "CA bundle" not in message
    assert "certificate" not in message


def test_the_plain_http_hint_ends_with_its_advice_not_an_attempt_count(monkeypatch, whatcounts_emulator):
    """docs/connection-test-plain-http-airflow-2.png once ended in "... emulator) after 1 attempt(s)"."""
    fields = emulator_fields(whatcounts_emulator)
    fields["host"] = f"127.0.0.1:{whatcounts_emulator.port}"
    set_connection(monkeypatch, "wc_noscheme", **fields)
    ok, message = WhatCountsHook("wc_noscheme").test_connection()
    assert not ok
    assert "attempt" not in message
    assert message.endswith("(plain http:// is allowed only for loopback)")


def test_a_bad_sender_code_fails_the_test_button_naming_the_extra(monkeypatch, whatcounts_emulator):
    set_connection(
        monkeypatch, "wc_codes", **emulator_fields(whatcounts_emulator, sender_codes="12345, 6789-0")
    )
    ok, message = WhatCountsHook("wc_codes").test_connection()
    assert not ok
    assert message == (
        "connection 'wc_codes': Sender codes (revoke-all) (extra 'sender_codes') has 1 invalid sender "
        "code: '6789-0'; each must be 1 to 20 ASCII letters and digits, the codes separated by commas"
    )


def test_good_sender_codes_test_as_connected(monkeypatch, whatcounts_emulator):
    set_connection(
        monkeypatch, "wc_codes", **emulator_fields(whatcounts_emulator, sender_codes=["12345", "67890"])
    )
    hook = WhatCountsHook("wc_codes")
    ok, message = hook.test_connection()
    assert ok, message
    assert hook.settings.sender_codes == ("12345", "67890")


@pytest.mark.parametrize(
    ("extra", "label"),
    [
        ({"api_version": "version2"}, "API version (extra 'api_version')"),
        ({"verify": "maybe"}, "TLS verification (extra 'verify')"),
        ({"timeout": "soon"}, "Read timeout (seconds) (extra 'timeout')"),
        ({"timeout": None, "max_retries": "lots"}, "Max retries (extra 'max_retries')"),
    ],
    ids=["api-version-word", "verify-maybe", "timeout-word", "max-retries-word"],
)
def test_what_the_3_3_form_saves_unchecked_the_test_button_names(
    monkeypatch, whatcounts_emulator, extra, label
):
    """Airflow 3.3.2's form does not enforce patterns: the hook refuses these by the field's label."""
    set_connection(monkeypatch, "wc_form", **emulator_fields(whatcounts_emulator, **extra))
    ok, message = WhatCountsHook("wc_form").test_connection()
    assert not ok
    assert message.startswith(f"connection 'wc_form': {label}")


def test_a_401_on_the_test_button_names_the_api_client_key_when_one_is_set(monkeypatch, api_client_emulator):
    wrong = "reporting-client:not-the-auth"
    set_connection(monkeypatch, "wc_client", **emulator_fields(api_client_emulator, api_key=wrong))
    ok, message = WhatCountsHook("wc_client").test_connection()
    assert not ok
    assert "rejected the credentials of connection 'wc_client'" in message
    assert "API client key (optional) (extra 'api_key'), which is set" in message
    assert "not-the-auth" not in message


def test_plain_http_on_a_public_host_points_at_https_and_the_port():
    hint = _form.plain_http_hint("https://mail.example.com:8080/rest")
    assert hint.startswith("https://mail.example.com:8080 answered in plain HTTP, not TLS")
    assert "check the Site URL's host and port" in hint
    assert "write http://" not in hint


# --- the optional API client key (x-api-key) ----------------------------------------------------


@pytest.fixture
def api_client_emulator() -> Iterator[WhatCountsEmulator]:
    """An emulator that requires the API client ``API_CLIENT``'s key beside Basic auth."""
    with WhatCountsEmulator(api_key=API_CLIENT) as emulator:
        yield emulator


def test_api_client_key_is_sent_base64_encoded_beside_basic_auth(monkeypatch, api_client_emulator):
    set_connection(monkeypatch, "wc_client", **emulator_fields(api_client_emulator, api_key=API_CLIENT))
    hook = WhatCountsHook("wc_client")
    ok, message = hook.test_connection()
    assert ok, message
    sent = hook.get_conn().headers["x-api-key"]
    assert base64.b64decode(sent).decode() == API_CLIENT
    assert hook.get_conn().auth == (api_client_emulator.state.realm, api_client_emulator.state.password)


def test_api_client_key_may_be_given_already_encoded(monkeypatch, api_client_emulator):
    encoded = base64.b64encode(API_CLIENT.encode()).decode()
    set_connection(monkeypatch, "wc_client", **emulator_fields(api_client_emulator, api_key=encoded))
    ok, message = WhatCountsHook("wc_client").test_connection()
    assert ok, message


def test_an_emulator_requiring_an_api_client_refuses_requests_without_its_key(
    monkeypatch, api_client_emulator
):
    set_connection(monkeypatch, "wc_client", **emulator_fields(api_client_emulator))
    ok, message = WhatCountsHook("wc_client").test_connection()
    assert not ok
    assert "rejected the credentials of connection 'wc_client'" in message
    answer = requests.get(
        f"{api_client_emulator.url}/rest/lists",
        auth=(api_client_emulator.state.realm, api_client_emulator.state.password),
        headers={"Accept": "application/vnd.whatcounts-v1+json", "x-api-key": "d3Jvbmc6a2V5"},
        timeout=10,
    )
    assert answer.status_code == 401


@pytest.mark.parametrize("value", ["no-colon-and-not-base64!", ":auth-only", "name-only:", "bm9jb2xvbg=="])
def test_a_malformed_api_client_key_is_refused_without_showing_it(monkeypatch, value):
    set_connection(monkeypatch, "wc_client", host="https://mail.example.com", login="r", password="p",
                   extra={"api_key": value})  # fmt: skip
    with pytest.raises(WhatCountsConfigError) as excinfo:
        _ = WhatCountsHook("wc_client").settings
    message = str(excinfo.value)
    assert "API client key (optional) (extra 'api_key') must be apiClientName:apiClientAuth" in message
    assert value not in message


def test_airflows_placeholder_for_a_saved_key_is_named_for_what_it_is(monkeypatch):
    set_connection(monkeypatch, "wc_client", host="https://mail.example.com", login="r", password="p",
                   extra={"api_key": "RATHER_LONG_SENSITIVE_FIELD_PLACEHOLDER"})  # fmt: skip
    with pytest.raises(WhatCountsConfigError, match="placeholder for a saved secret"):
        _ = WhatCountsHook("wc_client").settings


def test_api_client_key_never_reaches_a_log_line(monkeypatch, caplog, api_client_emulator):
    """mask_secret registers the key, its pair and its auth part, as for the password."""
    set_connection(monkeypatch, "wc_client", **emulator_fields(api_client_emulator, api_key=API_CLIENT))
    hook = WhatCountsHook("wc_client")
    registered: list[str] = []
    monkeypatch.setattr("whatcounts_provider.hooks.whatcounts.mask_secret", registered.append)
    _ = hook.settings
    auth = API_CLIENT.partition(":")[2]
    assert API_CLIENT in registered
    assert auth in registered
    assert base64.b64encode(API_CLIENT.encode()).decode() in registered
    with caplog.at_level(logging.DEBUG):
        assert "api_key" not in repr(hook.settings)
        assert auth not in repr(hook.settings)
