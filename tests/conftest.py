"""Shared fixtures: an isolated Airflow home, connections from env vars, log capture, a migrated DB.

Plain helpers and constants are in ``tests/helpers.py``; the emulator fixtures
(``whatcounts_emulator``, ``whatcounts_conn_env``) come from the provider's own pytest plugin.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest

from tests.helpers import (
    EXAMPLE_DAGS,
    FAST_RETRY_EXTRAS,
    PASSWORD,
    REALM,
    ROOT,
    SITE,
    has_extras,
    with_extras,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

# Airflow reads these at import time; `make test` sets them per Airflow version, plain
# `pytest` falls back to a throwaway home inside the project.
os.environ.setdefault("AIRFLOW_HOME", str(ROOT / ".build" / "airflow-home-pytest"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(EXAMPLE_DAGS))

# The standard fields of an Airflow connection; every other keyword is an extra.
CONNECTION_FIELDS = frozenset({"conn_type", "host", "login", "password", "port", "schema", "description"})


class ConnectionSetter:
    """Sets an Airflow connection for one test, through its ``AIRFLOW_CONN_*`` variable.

    ``use_connection(**fields_and_extras)`` writes Airflow's JSON form: the standard fields
    (``host``, ``login``, ``password``, ``port``, ...) default to the fake https site
    (``SITE``, ``REALM``, ``PASSWORD``; pass ``None`` to leave one out), every other keyword is
    an extra, with its type kept. ``use_connection(uri=..., **extras)`` writes a URI instead, the
    extras appended as its query (strings, as Airflow hands URI extras to the hook).
    ``conn_id`` (default ``whatcounts_default``) picks the connection. ``defaults`` are extras
    every connection gets unless it names them (``fast_retries`` sets them).
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch
        self.defaults: dict[str, Any] = {}

    def __call__(
        self, *, conn_id: str = "whatcounts_default", uri: str | None = None, **fields_and_extras: Any
    ) -> None:
        if uri is not None:
            fields = CONNECTION_FIELDS.intersection(fields_and_extras)
            assert not fields, f"a URI carries its own {sorted(fields)}"
            value = uri + (f"?{urlencode(fields_and_extras)}" if fields_and_extras else "")
        else:
            connection: dict[str, Any] = {
                "conn_type": "whatcounts",
                "host": SITE,
                "login": REALM,
                "password": PASSWORD,
            }
            extra = {}
            for name, setting in fields_and_extras.items():
                (connection if name in CONNECTION_FIELDS else extra)[name] = setting
            if extra:
                connection["extra"] = extra
            value = json.dumps(connection)
        self._monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", with_extras(value, self.defaults))

    def apply_defaults(self) -> None:
        """Give the connections already set the ``defaults`` they lack."""
        for name, value in whatcounts_connections():
            self._monkeypatch.setenv(name, with_extras(value, self.defaults))


@pytest.fixture
def use_connection(monkeypatch: pytest.MonkeyPatch) -> ConnectionSetter:
    """Set an Airflow connection for this test only (see :class:`ConnectionSetter`)."""
    return ConnectionSetter(monkeypatch)


@pytest.fixture(autouse=True)
def whatcounts_default_connection(use_connection: ConnectionSetter) -> None:
    """``whatcounts_default`` points at the fake https site for every test (requests-mock answers it).

    A test that needs another connection calls ``use_connection`` or uses ``whatcounts_conn_env``.
    """
    use_connection()


class LogText:
    """Everything logged so far, whichever logging stack Airflow uses.

    Airflow 2.11 logs through the standard library (caplog); 3.x task-SDK loggers render through
    structlog to the file descriptors 1 and 2 (capfd). Calling the object returns all of it:
    formatted records, each record's message and arguments, and the captured streams.
    """

    def __init__(self, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
        self._caplog = caplog
        self._capfd = capfd
        self._streams: list[str] = []

    def __call__(self) -> str:
        records = "\n".join(f"[{r.name}] {r.getMessage()} {r.args!r}" for r in self._caplog.records)
        return "\n".join([self._caplog.text, records, self.streams()])

    def streams(self) -> str:
        out, err = self._capfd.readouterr()
        self._streams.extend([out, err])
        return "".join(self._streams)

    def records(self) -> list[logging.LogRecord]:
        return list(self._caplog.records)

    def provider_lines(self) -> list[str]:
        """Log lines of the provider's own loggers (names contain ``whatcounts_provider``).

        On 2.11 they are stdlib records (their stdout copies carry no logger name); on 3.x the
        structlog line names its logger in brackets.
        """
        lines = [
            f"[{r.name}] {r.getMessage()}" for r in self._caplog.records if "whatcounts_provider" in r.name
        ]
        lines += [line for line in self.streams().splitlines() if "whatcounts_provider" in line]
        return lines


@pytest.fixture
def log_text(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> LogText:
    """DEBUG on for root, requests, urllib3, the provider and Airflow's task logger; capture it all.

    requests-mock's own DEBUG line echoes the mocked URL (the phone): it is the test double, not
    the code under test, so it stays at INFO.
    """
    # First: set_level also sets the capture handler's level, which must end at DEBUG.
    caplog.set_level(logging.INFO, logger="requests_mock")
    for name in (None, "requests", "urllib3", "whatcounts_provider", "airflow.task"):
        caplog.set_level(logging.DEBUG, logger=name)
    return LogText(caplog, capfd)


@pytest.fixture
def no_ca_bundle_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests lets these variables override a session's ``verify``: tests of ``verify`` clear them."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.fixture
def fast_retries(use_connection: ConnectionSetter, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Retries wait 0 s instead of 0.5 s, 1 s, 2 s...: through the connection, as a user would.

    Every WhatCounts connection of the test gets the extras ``FAST_RETRY_EXTRAS`` unless it sets
    them itself (a connection extra or hook argument still wins): those written before the test
    body (by fixtures such as ``whatcounts_conn_env``) just before it runs, those written through
    ``use_connection`` as they are written. A connection the test writes some other way would make
    it slow instead of red: the teardown fails it. ``Retry-After`` waits are untouched; the
    backoff itself is tested with a fake clock in tests/hooks.
    """
    use_connection.defaults = dict(FAST_RETRY_EXTRAS)
    yield
    slow = [name for name, value in whatcounts_connections() if not has_extras(value, FAST_RETRY_EXTRAS)]
    assert not slow, f"{slow} were set without the fast_retries extras: use use_connection"


def _is_whatcounts(value: str) -> bool:
    return value.split("://", 1)[0] == "whatcounts" or '"conn_type": "whatcounts"' in value


def whatcounts_connections() -> list[tuple[str, str]]:
    """The ``AIRFLOW_CONN_*`` variables that hold a WhatCounts connection."""
    return [
        (name, value)
        for name, value in os.environ.items()
        if name.startswith("AIRFLOW_CONN_")
        and ("whatcounts" in value.split("://", 1)[0] or '"whatcounts"' in value)
    ]


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Migrate the SQLite metadata DB once per session (only e2e tests need it)."""
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return home


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 (a free port), with the bucket and connection set up.

    For the receipts tests and the operators' ``s3://`` sources and receipts.
    """
    # Part of the pinned test environment (dependency group "objectstore"): never skipped.
    from moto.server import ThreadedMotoServer

    from tests.receipts.support import AWS_ENV, BUCKET, S3_CONN_ID, aws_connection

    # One line per request otherwise; the tests assert on content, not on the server's log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    assert host == "127.0.0.1"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in AWS_ENV.items():
            mp.setenv(key, value)
        # Any boto client without its own endpoint also lands on the loopback server.
        mp.setenv("AWS_ENDPOINT_URL", endpoint)
        mp.setenv(f"AIRFLOW_CONN_{S3_CONN_ID.upper()}", aws_connection(endpoint))
        import boto3

        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield endpoint
    server.stop()


@pytest.fixture
def s3_location(s3_endpoint: str) -> str:
    """A fresh ``s3://conn_id@bucket/prefix`` on the loopback server."""
    from tests.receipts.support import BUCKET, S3_CONN_ID

    return f"s3://{S3_CONN_ID}@{BUCKET}/t-{uuid.uuid4().hex[:12]}"


#: Sends bodies to the test's queue; returns the queue's message ids (the ``publish`` fixture).
Publish = Callable[..., list[str]]


@pytest.fixture
def queue(s3_endpoint: str) -> Any:
    """A fresh, empty SQS queue, reached through the ``receipts_s3`` AWS connection."""
    from tests.receipts.support import S3_CONN_ID
    from whatcounts_provider.queues import SqsQueue, sqs_client

    client = sqs_client(S3_CONN_ID)
    url = client.create_queue(QueueName=f"stop-replies-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    assert url.startswith(s3_endpoint)
    return SqsQueue(client, url)


@pytest.fixture
def publish(queue: Any) -> Publish:
    """Send each body (a mapping as JSON, text as it is) to the queue; return the queue's ids."""

    def send(*bodies: Any) -> list[str]:
        ids = []
        for body in bodies:
            text = body if isinstance(body, str) else json.dumps(body)
            ids.append(queue.client.send_message(QueueUrl=queue.url, MessageBody=text)["MessageId"])
        return ids

    return send


# A bulk run that aborts (a 401) or is cancelled returns without waiting for requests in flight
# (see hooks/_bulk.py). Those worker threads must not outlive their test: a late request would land
# in the next test's requests-mock or emulator. Longest wait: a request against a stalled server
# ends within the tests' read timeouts, all well below this.
_WORKER_JOIN_SECONDS = 30.0


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Just before each test body, give the connections the fixtures set the ``fast_retries``
    extras (when the test asks for them); after it, before its fixtures' teardown (requests-mock
    still answers), wait for the provider's bulk worker threads that are still sending."""
    if "fast_retries" in getattr(item, "fixturenames", ()):
        item.funcargs["use_connection"].apply_defaults()  # type: ignore[attr-defined]
    try:
        return (yield)
    finally:
        _join_bulk_workers()


def _join_bulk_workers() -> None:
    deadline = time.monotonic() + _WORKER_JOIN_SECONDS
    for thread in threading.enumerate():
        if thread.name.startswith("whatcounts-") and thread.name != "whatcounts-receipts":
            thread.join(max(0.0, deadline - time.monotonic()))


# The stages start whole deployments and browsers: their tests run only when a -m expression asks
# for their mark (make test-deployment: -m deployment; make test-browser: -m browser). This is the
# one place that keeps them out of plain `pytest` and the lanes.
STAGE_MARKS = ("deployment", "browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    asked = str(config.getoption("markexpr") or "")
    wanted = {mark for mark in STAGE_MARKS if re.search(rf"(?<!not )\b{mark}\b", asked)}
    keep, drop = [], []
    for item in items:
        stages = {mark for mark in STAGE_MARKS if item.get_closest_marker(mark)}
        (drop if stages - wanted else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the figures soak tests attach with ``record_property`` (they belong in reports)."""
    lines = [
        f"{report.nodeid.split('::')[-1]}: " + ", ".join(f"{k}={v}" for k, v in report.user_properties)
        for report in terminalreporter.getreports("passed") + terminalreporter.getreports("failed")
        if report.user_properties and report.when == "call"
    ]
    if lines:
        terminalreporter.write_sep("-", "soak figures")
        for line in lines:
            terminalreporter.write_line(line)
