"""Object storage for the receipts tests: an S3 server (moto) on 127.0.0.1, reached through an
Airflow ``aws`` connection and ``ObjectStoragePath`` exactly as a user's ``s3://`` URI is."""

from __future__ import annotations

import logging
import socket
import uuid
from typing import TYPE_CHECKING

import pytest

from tests.receipts.support import AWS_ENV, BUCKET, S3_CONN_ID, aws_connection, refuse_non_loopback

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(scope="package", autouse=True)
def loopback_only() -> Iterator[None]:
    """Fail any connection these tests open to an address other than loopback (AWS included)."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(sock: socket.socket, address: object) -> None:
        refuse_non_loopback(sock.family, address)
        real_connect(sock, address)  # type: ignore[arg-type]

    def connect_ex(sock: socket.socket, address: object) -> int:
        refuse_non_loopback(sock.family, address)
        return real_connect_ex(sock, address)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", connect)
        mp.setattr(socket.socket, "connect_ex", connect_ex)
        yield


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 (a free port), with the bucket and connection set up."""
    # Part of the pinned test environment (dependency group "objectstore"): never skipped.
    from moto.server import ThreadedMotoServer

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
    return f"s3://{S3_CONN_ID}@{BUCKET}/t-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["path", "file_uri", "s3"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same receipts root as a local path, a ``file://`` URI and an ``s3://`` URI."""
    if request.param == "path":
        return str(tmp_path / "receipts")
    if request.param == "file_uri":
        return f"file://{tmp_path}/receipts"
    return str(request.getfixturevalue("s3_location"))
