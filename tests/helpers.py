"""Plain helpers and constants shared by the tests (fixtures live in conftest.py).

Import them as ``from tests.helpers import ...``. Nothing here imports Airflow, so conftest.py can
use these names before Airflow reads its configuration.
"""

from __future__ import annotations

import base64
import importlib.metadata
import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from packaging.version import Version

from whatcounts_provider.testing.series import phone_series

if TYPE_CHECKING:
    from collections.abc import Mapping

    from whatcounts_provider.hooks._throttle import Throttle

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DAGS = ROOT / "example_dags"

# The Airflow version flags, read from the installed distribution (importing airflow here would
# read its configuration before conftest.py has pointed AIRFLOW_HOME at a throwaway home).
AIRFLOW_VERSION = Version(importlib.metadata.version("apache-airflow"))
AIRFLOW_3 = AIRFLOW_VERSION.major >= 3
# Airflow 3.0 shows the custom connection form only with the FAB provider (its lane installs it).
FAB_INSTALLED = importlib.util.find_spec("flask_appbuilder") is not None

# The default connection (see the ``use_connection`` fixture): a fake https site for requests-mock.
REALM = "test-realm"
PASSWORD = "t0p-s3cret-api-password"
SITE = "https://mail.example.com"
REST = f"{SITE}/rest"


def basic_token(realm: str, password: str) -> str:
    """The token of a Basic ``Authorization`` header for ``realm`` and ``password``."""
    return base64.b64encode(f"{realm}:{password}".encode()).decode()


BASIC_TOKEN = basic_token(REALM, PASSWORD)

SENDER = "2065551212"
PHONE = "12065959696"
MASKED = "*******9696"
STOP_URL = f"{REST}/sms/stopSubscriberSend/{PHONE}/{SENDER}"
LISTS_URL = f"{REST}/lists"
STOPPED = {"phone": PHONE, "senderCode": SENDER, "status": "STOPPED"}


def no_subscription(phone: str, realm_id: int = 10) -> dict[str, Any]:
    """WhatCounts' documented answer (HTTP 500) for a phone without a subscription on the sender code."""
    return {
        "error": f"An error occurred processing STOP sends for phone [{phone}] realmId [{realm_id}]",
        "status": "Internal Server Error",
        "statusCode": 500,
    }


NO_SUBSCRIPTION = no_subscription(PHONE)

# What requests raises when the site refuses the connection: its text names the path (the phone).
REAL_CONNECTION_ERROR = requests.exceptions.ConnectionError(
    "HTTPSConnectionPool(host='mail.example.com', port=443): Max retries exceeded with url: "
    f"/rest/sms/stopSubscriberSend/{PHONE}/{SENDER} (Caused by NewConnectionError: refused)"
)


def phones(count: int) -> list[str]:
    """Distinct valid US phones in WhatCounts' form (12062000000, 12062000001, ...): the one series
    the example DAGs, the demo and the benchmark use too."""
    return phone_series(count)


def answer(status: int, body: object = None, **headers: str) -> dict[str, object]:
    """One requests-mock response: JSON body unless ``body`` is a str."""
    if isinstance(body, str):
        return {"status_code": status, "text": body, "headers": headers}
    return {"status_code": status, "json": body if body is not None else {}, "headers": headers}


class StubTaskInstance:
    """Enough of a TaskInstance for template rendering and XComArg resolution without a DB.

    (Jinja's sandbox refuses a MagicMock, so a plain object it is.)
    """

    def __init__(
        self,
        xcoms: dict[str, Any],
        *,
        dag_id: str = "test_dag",
        run_id: str = "manual__2026-11-25T16:00:00+00:00",
        task_id: str = "bulk",
        map_index: int = -1,
        try_number: int = 1,
    ) -> None:
        self.xcoms = xcoms
        self.pushed: dict[str, Any] = {}
        # The task identity the receipts are filed under (read from ``context["ti"]``).
        self.dag_id = dag_id
        self.run_id = run_id
        self.task_id = task_id
        self.map_index = map_index
        self.try_number = try_number

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value", **_: Any) -> Any:
        return self.xcoms.get(task_ids) if key == "return_value" else None

    def xcom_push(self, key: str, value: Any, **_: Any) -> None:
        self.pushed[key] = value

    def get_relevant_upstream_map_indexes(self, *_: Any, **__: Any) -> None:
        return None


def make_context(
    *, params: dict[str, Any] | None = None, xcoms: dict[str, Any] | None = None, conf=None, **ti_fields: Any
):
    """A task context with a :class:`StubTaskInstance`; ``ti_fields`` set its identity
    (``dag_id``, ``run_id``, ``task_id``, ``map_index``, ``try_number``)."""
    ti = StubTaskInstance(xcoms or {}, **ti_fields)
    return {
        "params": params or {},
        "ti": ti,
        "task_instance": ti,
        "dag_run": SimpleNamespace(conf=conf or {}),
        "expanded_ti_count": None,
    }


class FakeClock:
    """Stands in for a clock and its sleep (throttle and retry waits): sleeping is instant, recorded."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def throttle(self) -> Throttle:
        """An uncapped throttle on this clock: a Retry-After pause must not cost a real second."""
        from whatcounts_provider.hooks._throttle import Throttle  # imports Airflow: not at the top

        return Throttle(clock=self.monotonic, sleep=self.sleep)


# --- connection extras ---------------------------------------------------------------------------

#: What ``fast_retries`` gives every connection: retries without backoff waits.
FAST_RETRY_EXTRAS: dict[str, Any] = {"retry_backoff_initial": 0, "retry_backoff_max": 0}


def _extras_of(value: str) -> dict[str, Any]:
    if value.lstrip().startswith("{"):
        extra = json.loads(value).get("extra") or {}
        return json.loads(extra) if isinstance(extra, str) else dict(extra)
    return dict(parse_qsl(urlsplit(value).query))


def has_extras(value: str, extras: Mapping[str, Any]) -> bool:
    """Whether the ``AIRFLOW_CONN_*`` value ``value`` (a URI or JSON) sets every key of ``extras``."""
    return set(extras) <= set(_extras_of(value))


def with_extras(value: str, extras: Mapping[str, Any]) -> str:
    """``value`` (a URI or JSON connection) with those of ``extras`` it does not set itself."""
    missing = {key: setting for key, setting in extras.items() if key not in _extras_of(value)}
    if not missing:
        return value
    if value.lstrip().startswith("{"):
        connection = json.loads(value)
        extra = connection.get("extra") or {}
        extra = json.loads(extra) if isinstance(extra, str) else dict(extra)
        connection["extra"] = {**extra, **missing}
        return json.dumps(connection)
    return value + ("&" if urlsplit(value).query else "?") + urlencode(missing)
