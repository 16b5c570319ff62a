"""A SIGKILL while parts are being written leaves only whole parts readable (local and S3).

Each test runs ``crash_writer.py`` in a subprocess that writes parts in a loop. The kill is
placed deterministically inside a write (half of a local temp file written; half of an S3
PUT body forwarded by a loopback proxy), plus one kill at an arbitrary moment, so that nothing
depends on the machine's speed.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.receipts.support import S3_CONN_ID, aws_connection
from whatcounts_provider.receipts import (
    TaskIdentity,
    completed_pairs,
    is_part_name,
    iter_receipts,
    task_instance_folder,
)
from whatcounts_provider.storage import Location

if TYPE_CHECKING:
    from collections.abc import Iterator

SCRIPT = Path(__file__).with_name("crash_writer.py")
ROOT = Path(__file__).resolve().parents[2]
IDENTITY = TaskIdentity("crash_dag", "manual__2026-11-25T16:00:00+00:00", "stop", -1, 1)
BATCH = 400  # ~220 KB per part
WAIT = 120  # seconds; only an upper bound for a loaded machine, never a measured figure


def start_writer(location: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), location, str(BATCH), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)},
    )


def wait_for_line(proc: subprocess.Popen[str], wanted: str) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip() == wanted:
            return
        if not line and proc.poll() is not None:
            stderr = proc.stderr.read() if proc.stderr else ""
            pytest.fail(f"writer exited {proc.returncode} before {wanted!r}: {stderr[-2000:]}")
    pytest.fail(f"writer never printed {wanted!r}")


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(WAIT)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def assert_only_whole_parts(location: str, whole_parts: int | None) -> None:
    """Every part visible holds BATCH whole receipts, numbered without a gap."""
    folder = Location.of(location)
    parts = [name for _, name in folder.files() if is_part_name(name)]
    if whole_parts is not None:
        assert len(parts) == whole_parts
    assert len(parts) >= 2
    rows = [receipt["row"] for receipt in iter_receipts(location)]
    assert rows == list(range(1, len(parts) * BATCH + 1))
    # The next try resumes from exactly those whole parts.
    expected = {(f"1206{2_000_000 + row}", "2065551212") for row in rows}
    assert completed_pairs(task_instance_folder(location, IDENTITY)) == expected


def test_killed_inside_a_local_write(tmp_path: Path) -> None:
    proc = start_writer(str(tmp_path), "--die-inside-local-write", "3")
    proc.wait(WAIT)
    assert proc.returncode == -signal.SIGKILL
    temps = [p for p in tmp_path.rglob("*") if p.is_file() and p.name.startswith(".part-")]
    assert len(temps) == 1  # half of part 3 is on disk, under a name no reader takes
    assert temps[0].stat().st_size > 0
    assert_only_whole_parts(str(tmp_path), whole_parts=2)


def test_killed_at_an_arbitrary_moment_locally(tmp_path: Path) -> None:
    proc = start_writer(str(tmp_path))
    wait_for_line(proc, "wrote 3")
    kill(proc)
    assert_only_whole_parts(str(tmp_path), whole_parts=None)


class HoldingProxy:
    """A loopback TCP proxy to the S3 server that, once armed, forwards only ``allowance``
    more bytes from the client and then holds the rest: the client is stuck mid-request."""

    def __init__(self, upstream: tuple[str, int], allowance: int) -> None:
        self.upstream = upstream
        self.allowance = allowance
        self.armed = threading.Event()
        self.holding = threading.Event()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(WAIT)
        self._listener.close()

    def _serve(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._listener, selectors.EVENT_READ)
        peers: dict[socket.socket, socket.socket] = {}
        clients: set[socket.socket] = set()
        while not self._stop.is_set():
            for key, _ in sel.select(timeout=0.05):
                sock: Any = key.fileobj
                if sock is self._listener:
                    client, _ = self._listener.accept()
                    server = socket.create_connection(self.upstream)
                    peers[client], peers[server] = server, client
                    clients.add(client)
                    sel.register(client, selectors.EVENT_READ)
                    sel.register(server, selectors.EVENT_READ)
                    continue
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    for end in (sock, peers.get(sock)):
                        if end is not None and end in peers:
                            sel.unregister(end)
                            end.close()
                            peers.pop(end, None)
                    continue
                if sock in clients and self.armed.is_set():
                    data = data[: self.allowance]
                    self.allowance -= len(data)
                    if self.allowance <= 0:
                        self.holding.set()
                if data:
                    peers[sock].sendall(data)
        for sock in list(peers):
            sock.close()
        sel.close()


@pytest.fixture
def holding_proxy(s3_endpoint: str) -> Iterator[HoldingProxy]:
    host, port = s3_endpoint.removeprefix("http://").split(":")
    proxy = HoldingProxy((host, int(port)), allowance=64 * 1024)  # a third of one part's body
    yield proxy
    proxy.close()


def test_killed_inside_an_s3_put(s3_location: str, holding_proxy: HoldingProxy) -> None:
    conn_id = "receipts_s3_proxied"
    location = s3_location.replace(f"{S3_CONN_ID}@", f"{conn_id}@")
    env = {f"AIRFLOW_CONN_{conn_id.upper()}": aws_connection(f"http://127.0.0.1:{holding_proxy.port}")}
    proc = start_writer(location, "--hold-before-part", "3", env=env)
    wait_for_line(proc, "before 3")
    holding_proxy.armed.set()
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert holding_proxy.holding.wait(WAIT), "the writer never started the third PUT"
    kill(proc)  # a third of part 3 reached the server; the rest never will
    holding_proxy.close()  # the server now sees the connection drop mid-body
    assert_only_whole_parts(s3_location, whole_parts=2)


def test_killed_at_an_arbitrary_moment_on_s3(s3_location: str) -> None:
    proc = start_writer(s3_location)
    wait_for_line(proc, "wrote 3")
    kill(proc)
    assert_only_whole_parts(s3_location, whole_parts=None)
