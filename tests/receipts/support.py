"""Plain helpers for the receipts tests (fixtures are in conftest.py)."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from tests.helpers import SENDER
from whatcounts_provider.receipts import TaskIdentity, is_part_name

if TYPE_CHECKING:
    from whatcounts_provider.storage import Location

S3_CONN_ID = "receipts_s3"
BUCKET = "receipts"
# Dummy credentials and no instance metadata: nothing can authenticate against, or reach, AWS.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def aws_connection(endpoint: str) -> str:
    """``AIRFLOW_CONN_<ID>`` JSON for an ``aws`` connection whose S3 endpoint is ``endpoint``."""
    return json.dumps(
        {
            "conn_type": "aws",
            "login": "testing",
            "password": "testing",
            "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
        }
    )


def refuse_non_loopback(family: int, address: object) -> None:
    """Raise unless an internet ``address`` is on loopback (unix sockets pass)."""
    if family in (socket.AF_INET, socket.AF_INET6):
        host = str(address[0]) if isinstance(address, tuple) else str(address)
        if not ipaddress.ip_address(host.split("%")[0]).is_loopback:
            raise AssertionError(f"a receipts test tried to connect to {host}")


IDENTITY = TaskIdentity("opt_out", "manual__2026-11-25T16:00:00+00:00", "stop", 3, 2)
START = datetime(2026, 11, 25, 16, 0, tzinfo=timezone.utc)  # a Wednesday


class FakeUtcClock:
    """An aware-UTC clock (the receipt writer's) that moves only when the test advances it."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += timedelta(seconds=seconds)


def stop_fields(row: int, **extra: Any) -> dict[str, Any]:
    phone = f"1206{2_000_000 + row}"
    return {
        "row": row,
        "input": phone,
        "phone": phone,
        "sender_code": SENDER,
        "status": "stopped",
        "attempts": 1,
        **extra,
    }


def part_files(folder: Location) -> list[str]:
    return [name for _, name in folder.files() if is_part_name(name)]
