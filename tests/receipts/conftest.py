"""Object storage for the receipts tests: an S3 server (moto) on 127.0.0.1, reached through an
Airflow ``aws`` connection and ``ObjectStoragePath`` exactly as a user's ``s3://`` URI is."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import pytest

from tests.receipts.support import refuse_non_loopback

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


@pytest.fixture(params=["path", "file_uri", "s3"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same receipts root as a local path, a ``file://`` URI and an ``s3://`` URI."""
    if request.param == "path":
        return str(tmp_path / "receipts")
    if request.param == "file_uri":
        return f"file://{tmp_path}/receipts"
    return str(request.getfixturevalue("s3_location"))
