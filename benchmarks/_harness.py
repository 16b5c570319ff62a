"""What every benchmark section shares: sizes, the emulator subprocess, fresh phones, rows, bounds.

Nothing here measures anything. Every wait is bounded, so a broken emulator or a hung Airflow
call ends a section with an error, not the run with a hang.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import requests

from whatcounts_provider.testing.emulator import API_MEDIA_TYPE, DEMO_CREDENTIALS, HOST
from whatcounts_provider.testing.series import phone_series

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = ROOT / ".build" / "bench"
REALM, PASSWORD = DEMO_CREDENTIALS
CREDENTIALS = f"{REALM}:{PASSWORD}"  # URI-safe as they are
WHATCOUNTS_CONN_ID, HTTP_CONN_ID = "bench_whatcounts", "bench_http"
API_HEADERS = {"Accept": API_MEDIA_TYPE, "Content-Type": "application/json"}
ADMIN_TIMEOUT = (5.0, 120.0)  # (connect, read) of the harness's own requests


class MeasurementError(RuntimeError):
    """A section could not produce a trustworthy figure (errors, wrong outcomes, timeouts)."""


@dataclasses.dataclass(frozen=True)
class Sizes:
    """How much each section does; the defaults are the sizes the targets were set for."""

    n_calls: int = 2000  # per-call: sequential stops per client
    rounds: int = 5  # per-call: interleaved rounds, the median counts
    bulk_n: int = 10_000  # bulk: phones
    latency: float = 0.02  # bulk: emulator latency per request, seconds
    workers: int = 16  # bulk: max_workers
    airflow_n: int = 500  # dags: phones per DAG
    memory_n: int = 100_000  # memory: phones
    source_n: int = 1_000_000  # source: CSV rows streamed and validated (nothing sent)
    source_sent_n: int = 50_000  # source: CSV rows really sent (zero latency)
    codes_n: int = 10_000  # codes: rows, over 50 sender codes vs one
    receipts_n: int = 10_000  # receipts: phones per run (off, local, s3)
    resume_n: int = 20_000  # resume: phones of the killed run
    flush_n: int = 10_000  # resume: phones of each full run comparing the writer's flush settings
    evidence_n: int = 1_000_000  # evidence: receipts written, then looked up, reported, verified
    evidence_tis: int = 100  # evidence: task instances they are written by


QUICK = Sizes(
    n_calls=200,
    bulk_n=800,
    airflow_n=20,
    memory_n=5_000,
    source_n=20_000,
    source_sent_n=2_000,
    codes_n=1_000,
    receipts_n=1_000,
    resume_n=2_000,
    flush_n=1_000,
    evidence_n=20_000,
    evidence_tis=10,
)


@dataclasses.dataclass
class Row:
    """One line of the report; ``met`` is None for rows without a target."""

    measurement: str
    figure: str
    reference: str = ""
    ratio: str = ""
    target: str = ""
    met: bool | None = None


@dataclasses.dataclass(frozen=True)
class Section:
    """One part of the report: ``run`` returns its rows; ``timeout`` bounds it for the given sizes."""

    name: str
    run: Callable[[Bench], list[Row]]
    timeout: Callable[[Sizes], float]


class Bench:
    """What a section gets: the sizes, fresh phones and the emulator, in its own process (in ours
    it would compete with the client for the GIL), driven through its admin API."""

    def __init__(self, sizes: Sizes) -> None:
        self.sizes, self.next_phone, self.url = sizes, 0, ""
        self._process: subprocess.Popen[bytes] | None = None
        self._admin = requests.Session()

    def reserve(self, count: int) -> int:
        """Reserve ``count`` phones of the series no section used before; return the first index.

        A stopped phone answers 500 ("not subscribed"), so no phone may be used twice.
        """
        start, self.next_phone = self.next_phone, self.next_phone + count
        return start

    def fresh_phones(self, count: int) -> list[str]:
        return phone_series(count, self.reserve(count))

    def start_emulator(self, timeout: float = 20.0) -> None:
        ready = WORK_DIR / "emulator.ready"
        ready.unlink(missing_ok=True)
        command = [sys.executable, "-m", "whatcounts_provider.testing.emulator", "--port", "0"]
        # No request log: it would grow by 100,000 entries in the memory section.
        command += ["--no-record-requests", "--ready-file", str(ready)]
        with (WORK_DIR / "emulator.log").open("ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise MeasurementError("the emulator did not start; see .build/bench/emulator.log")
            time.sleep(0.02)
        self.url = ready.read_text().strip()
        port = self.url.rsplit(":", 1)[1]
        # whatcounts://: the percent-encoded scheme keeps http:// for the loopback host.
        os.environ[f"AIRFLOW_CONN_{WHATCOUNTS_CONN_ID.upper()}"] = (
            f"whatcounts://{CREDENTIALS}@http%3A%2F%2F{HOST}:{port}"
        )
        os.environ[f"AIRFLOW_CONN_{HTTP_CONN_ID.upper()}"] = f"http://{CREDENTIALS}@{HOST}:{port}"

    def stop_emulator(self) -> None:
        process, self._process = self._process, None
        self._admin.close()
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._admin.request(method, f"{self.url}/_admin/{path}", json=body, timeout=ADMIN_TIMEOUT)
        if response.status_code != 200:
            raise MeasurementError(f"admin {path}: HTTP {response.status_code} {response.text[:200]}")
        return response.json()

    def reset(self, latency: float = 0.0) -> None:
        """Forget subscriptions, stops and faults; then set the emulator's latency per request."""
        self.admin("POST", "reset")
        if self.admin("POST", "faults", {"latency": latency})["latency"] != latency:
            raise MeasurementError(f"the emulator did not take latency {latency}")

    def subscribe(self, sender_code: str, phones: list[str], chunk: int = 10_000) -> None:
        for i in range(0, len(phones), chunk):
            self.admin("POST", "subscribe", {"sender_code": sender_code, "phones": phones[i : i + chunk]})


@contextlib.contextmanager
def deadline(seconds: float, what: str) -> Iterator[None]:
    """Raise MeasurementError in the main thread (SIGALRM interrupts blocking waits) after ``seconds``."""

    def expire(*_: object) -> None:
        raise MeasurementError(f"{what} did not finish within {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def log_to_file(path: Path) -> TextIO:
    """Send file descriptors 1 and 2 to ``path`` for the rest of the run; return the real stdout.

    Airflow renders every log line (dag.test()'s task logs) to stdout: a file keeps their cost in
    the figures, as in a real task, without burying the report.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    console = os.fdopen(os.dup(1), "w", buffering=1)
    log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    return console


def render_table(rows: list[Row]) -> str:
    header = ["measurement", "figure", "reference", "ratio / %", "target", "met?"]
    met = {True: "yes", False: "NO", None: ""}
    table = [header, *([*dataclasses.astuple(row)[:5], met[row.met]] for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in table]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)
