"""Helpers shared by the browser tests: REST calls (stdlib only, 127.0.0.1 only) and the steps of
Airflow 2.11's connection form."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

from ._servers import ADMIN_PASSWORD, ADMIN_USER, AirflowServer


def _call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (the URL is the test's own server on 127.0.0.1)
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
            text = answer.read().decode()
            status = answer.status
    except urllib.error.HTTPError as error:
        text, status = error.read().decode(), error.code
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def token(airflow: AirflowServer) -> str:
    """A JWT for the admin user (Airflow 3.x simple auth manager)."""
    status, body = _call(
        "POST", f"{airflow.url}/auth/token", {"username": ADMIN_USER, "password": ADMIN_PASSWORD}
    )
    assert status in (200, 201), body
    return str(body["access_token"])


def api(airflow: AirflowServer, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """Call Airflow 3.x's REST API as the admin user."""
    return _call(method, f"{airflow.url}{path}", body, {"Authorization": f"Bearer {token(airflow)}"})


def delete_connections(airflow: AirflowServer, *conn_ids: str) -> None:
    """Remove connections a test saved (Airflow 3.x), so that later pages and screenshots do not
    show them."""
    for conn_id in conn_ids:
        status, body = api(airflow, "DELETE", f"/api/v2/connections/{conn_id}")
        assert status in (204, 404), body


# --- Airflow 2.11's connection form -----------------------------------------------------------

#: What Airflow 2.11's Edit page shows in a saved sensitive extra's place.
SENSITIVE_PLACEHOLDER = "RATHER_LONG_SENSITIVE_FIELD_PLACEHOLDER"


def open_add_form(page: Any, airflow: AirflowServer) -> Any:
    page.goto(f"{airflow.url}/connection/add")
    offered = page.locator("#conn_type option").all_inner_texts()
    assert "WhatCounts" in offered
    page.select_option("#conn_type", label="WhatCounts")
    return page.locator("form#model_form")


def label_of(form: Any, field_id: str) -> str:
    return str(form.locator(f"label[for='{field_id}']").inner_text()).strip()


def help_of(form: Any, field_id: str) -> str:
    """The help text under a field (where a refused Save says why)."""
    return str(form.locator(f"#{field_id} ~ .help-block").inner_text()).strip()


def fill(form: Any, conn_id: str, host: str, login: str, password: str, **extras: str) -> None:
    form.locator("#conn_id").fill(conn_id)
    form.locator("#host").fill(host)
    form.locator("#login").fill(login)
    form.locator("#password").fill(password)
    for name, value in extras.items():
        form.locator(f"#extra__whatcounts__{name}").fill(value)


def set_extra_box(page: Any, text: str) -> None:
    """Type into the Extra (JSON) box, a CodeMirror editor over the ``extra`` textarea."""
    page.locator(".CodeMirror").click()
    page.evaluate("(text) => document.querySelector('.CodeMirror').CodeMirror.setValue(text)", text)


def click_test(page: Any) -> str:
    """Press Test and return the alert the page shows (success or error)."""
    with page.expect_response(lambda r: r.url.endswith("/api/v1/connections/test")) as answer:
        page.locator("#test-connection").click()
    assert answer.value.status == 200, answer.value.text()
    alert = page.locator(".container .row .alert").first
    alert.wait_for()
    page.wait_for_function(
        "([el, text]) => el.textContent.includes(text)",
        arg=[alert.element_handle(), answer.value.json()["message"]],
    )
    return str(alert.inner_text())


def save(page: Any, *, refused: bool = False) -> None:
    """Press Save; wait for the list page's confirmation, or for the form to come back refused."""
    page.get_by_role("button", name="Save").click()
    if refused:
        page.locator("form#model_form .alert-danger").first.wait_for()
    else:
        page.get_by_text(re.compile("Added Row|Changed Row")).wait_for()


def stored(airflow: AirflowServer, conn_id: str) -> dict[str, Any]:
    """The connection as Airflow stored it (``airflow connections get``)."""
    return dict(json.loads(airflow.cli("connections", "get", conn_id, "-o", "json"))[0])
