"""Small REST helpers for the browser tests (stdlib only, 127.0.0.1 only)."""

from __future__ import annotations

import json
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
