"""Shared plumbing of the benchmark: the emulator subprocess, phones, deadlines, output and rows.

Nothing here measures anything; it keeps the measurement modules short and makes every wait
bounded, so a broken emulator or a hung Airflow call ends the run with an error, not a hang.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import requests

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
WORK_DIR = ROOT / ".build" / "bench"

REALM = "bench-realm"
PASSWORD = "bench-password"  # noqa: S105 - the loopback emulator's throwaway credential
WHATCOUNTS_CONN_ID = "bench_whatcounts"
HTTP_CONN_ID = "bench_http"
API_HEADERS = {"Accept": "application/vnd.whatcounts-v1+json", "Content-Type": "application/json"}
# Connect and read timeouts of every request the harness itself sends (admin API, floor loop).
ADMIN_TIMEOUT = (5.0, 120.0)
SUBSCRIBE_CHUNK = 10_000

# 206-2xx-xxxx: one million distinct numbers that phonenumbers accepts as valid US phones.
_PHONE_BASE = 2_000_000
_PHONE_LIMIT = 1_000_000


class MeasurementError(RuntimeError):
    """A measurement could not produce a trustworthy figure (errors, wrong outcomes, timeouts)."""


def phone(index: int) -> str:
    """The ``index``-th benchmark phone, already in WhatCounts' 11-digit form (``12062000000``)."""
    if not 0 <= index < _PHONE_LIMIT:
        raise ValueError(f"phone index {index} is outside the valid 206-2xx-xxxx block")
    return f"1206{_PHONE_BASE + index}"


def phones(start: int, count: int) -> list[str]:
    return [phone(i) for i in range(start, start + count)]


class PhoneAllocator:
    """Hands out disjoint phone ranges: a stopped phone answers 500, so none may be reused."""

    def __init__(self) -> None:
        self._next = 0

    def take(self, count: int) -> tuple[int, int]:
        """Reserve ``count`` fresh phones; return ``(start, count)`` for :func:`phones`."""
        start = self._next
        self._next += count
        if self._next > _PHONE_LIMIT:
            raise MeasurementError(f"out of fresh phones: {self._next} needed, {_PHONE_LIMIT} available")
        return start, count

    def take_list(self, count: int) -> list[str]:
        return phones(*self.take(count))


class EmulatorProcess:
    """The WhatCounts emulator in its own process, so it never competes with us for the GIL."""

    def __init__(self, work_dir: Path, log_path: Path) -> None:
        self._ready_file = work_dir / "emulator.ready"
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._admin = requests.Session()
        self.url = ""

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def start(self, timeout: float = 20.0) -> str:
        """Start on a free loopback port; return the URL once the emulator says it is listening."""
        self._ready_file.unlink(missing_ok=True)
        command = [
            sys.executable,
            "-m",
            "whatcounts_provider.testing.emulator",
            *("--port", "0", "--realm", REALM, "--password", PASSWORD),
            "--no-record-requests",  # a request log would grow by 100,000 entries in (d)
            *("--ready-file", str(self._ready_file)),
        ]
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
            )
        deadline = time.monotonic() + timeout
        while not self._ready_file.exists():
            if self._process.poll() is not None:
                raise MeasurementError(
                    f"the emulator exited with {self._process.returncode}; see {self._log_path}"
                )
            if time.monotonic() > deadline:
                raise MeasurementError(f"the emulator was not listening after {timeout:g} s")
            time.sleep(0.02)
        self.url = self._ready_file.read_text().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            raise MeasurementError(f"the emulator must listen on loopback, it said {self.url!r}")
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time; safe to call twice."""
        process, self._process = self._process, None
        self._admin.close()
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._admin.request(method, f"{self.url}/_admin/{path}", json=body, timeout=ADMIN_TIMEOUT)
        if response.status_code != 200:
            raise MeasurementError(
                f"admin {method} {path}: HTTP {response.status_code} {response.text[:200]}"
            )
        return response.json()

    def reset(self) -> None:
        """Forget subscriptions, stops and faults: each measurement starts from a clean emulator."""
        self.admin("POST", "reset")

    def set_latency(self, seconds: float) -> None:
        faults = self.admin("POST", "faults", {"latency": seconds})
        if abs(float(faults["latency"]) - seconds) > 1e-9:
            raise MeasurementError(f"the emulator did not take latency {seconds}: {faults}")

    def subscribe(self, sender_code: str, numbers: list[str]) -> None:
        """Subscribe every phone a measurement will stop, in chunks small enough for one request."""
        for i in range(0, len(numbers), SUBSCRIBE_CHUNK):
            chunk = numbers[i : i + SUBSCRIBE_CHUNK]
            answer = self.admin("POST", "subscribe", {"sender_code": sender_code, "phones": chunk})
            if answer["phones"] != chunk:
                raise MeasurementError("the emulator normalised the benchmark phones differently")

    def state(self) -> dict[str, Any]:
        return dict(self.admin("GET", "state"))

    def whatcounts_conn_uri(self) -> str:
        """``whatcounts://`` URI: the percent-encoded scheme keeps ``http://`` for the loopback host."""
        return f"whatcounts://{REALM}:{PASSWORD}@http%3A%2F%2F127.0.0.1:{self.port}"

    def http_conn_uri(self) -> str:
        """``http://`` URI for ``HttpHook``: conn type http, host 127.0.0.1, no schema → http://host:port."""
        return f"http://{REALM}:{PASSWORD}@127.0.0.1:{self.port}"


def _die_with_parent() -> None:
    """Linux only: SIGTERM the emulator if the benchmark dies without reaching its ``finally``."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def deadline(seconds: float, what: str) -> Iterator[None]:
    """Raise :class:`MeasurementError` in the main thread if the block runs longer than ``seconds``.

    SIGALRM interrupts blocking waits (lock acquires, sleeps, socket reads) in the main thread,
    which covers dag.test() and the consumption of a bulk run.
    """

    def expire(signum: int, frame: FrameType | None) -> None:
        raise MeasurementError(f"{what} did not finish within {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def output_to_file(path: Path) -> Iterator[tuple[TextIO, TextIO]]:
    """Send file descriptors 1 and 2 to ``path``; yield streams to the real stdout and stderr.

    Airflow renders every log line (one INFO line per stop, dag.test()'s task logs) to stdout.
    Writing them to a file keeps their cost in the figures, as in a real task, without burying
    the report under 100,000 lines.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    console = os.fdopen(os.dup(saved[0]), "w", buffering=1)
    console_err = os.fdopen(os.dup(saved[1]), "w", buffering=1)
    log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        yield console, console_err
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, log_fd):
            os.close(fd)
        console.close()
        console_err.close()


@dataclasses.dataclass
class Row:
    """One line of the report table; ``met`` is None for rows without a target."""

    measurement: str
    figure: str
    reference: str = ""
    ratio: str = ""
    target: str = ""
    met: bool | None = None

    def cells(self) -> list[str]:
        met = {True: "yes", False: "NO", None: ""}[self.met]
        return [self.measurement, self.figure, self.reference, self.ratio, self.target, met]


def failed_row(label: str, error: BaseException) -> Row:
    return Row(f"{label}: FAILED", f"{type(error).__name__}: {error}"[:100], met=False)


def render_table(rows: list[Row]) -> str:
    header = ["measurement", "figure", "reference", "ratio / %", "target", "met?"]
    table = [header, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = [
        " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in table
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
