"""A real Airflow 3.3 deployment on 127.0.0.1, started, owned and stopped by the tests.

PostgreSQL (metadata database and Celery result backend) and Redis (Celery broker) on unix
sockets; the api-server on a loopback port; scheduler, dag-processor, triggerer and Celery
workers as separate processes; the WhatCounts emulator in this process. Every component gets the
same environment (CeleryExecutor, dags folder = the repo's ``example_dags``, the
``whatcounts_default`` connection pointing at the emulator, ``aws_default`` at moto's SQS server,
which also serves in this process, with the queue example's queue) and logs to ``<stage>/logs``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from whatcounts_provider.phone import mask_phone
from whatcounts_provider.testing.emulator import WhatCountsEmulator

from .services import Postgres, Process, ProcessTable, Redis, SqsServer, StageError, tail, wait_for

REPO = Path(__file__).resolve().parents[2]
#: Lowered from the 300 s default so that a dead worker's tasks are noticed within seconds; a
#: live task heartbeats every MIN_HEARTBEAT_INTERVAL s, so 20 s leaves room for a loaded machine.
HEARTBEAT_TIMEOUT = 20
MIN_HEARTBEAT_INTERVAL = 1
AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
EXAMPLE_DAGS = (
    "whatcounts_bulk_opt_out",
    "whatcounts_stop_sms_from_pipeline",
    "whatcounts_stop_sms_from_queue",
)
TERMINAL_RUN_STATES = {"success", "failed"}
#: The queue example's visibility timeout in the stage: short, so that a message whose run was
#: killed comes back within a scenario (the example's default is 900 s).
QUEUE_VISIBILITY_TIMEOUT = 30
#: The circuit breaker's ``breaker_seconds`` in the stage's WhatCounts connection (default 60):
#: a one-minute outage then fails a queue run in about 15 s instead of outlasting the outage.
BREAKER_SECONDS = 15
_PHONE_LIKE = re.compile(r"(?<![0-9])[0-9]{10,15}(?![0-9])")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stage:
    """The deployment: ``start()``, drive it through the REST API, ``stop()`` (always)."""

    def __init__(self, root: Path, *, python: str = sys.executable) -> None:
        self.root = root
        self.python = python
        self.bin = Path(python).parent
        self.home = root / "airflow-home"
        self.sockets = Path(tempfile.mkdtemp(prefix="wc-deploy-"))  # short: unix socket paths max ~107 bytes
        self.sockets.chmod(0o755)
        self.table = ProcessTable(root)
        self.postgres = Postgres(self.table, root / "pgdata", self.sockets)
        self.redis = Redis(self.table, root / "redis", self.sockets)
        self.realm = "deploy-realm"
        self.password = f"pw-{secrets.token_urlsafe(18)}"
        #: Every secret a log must never show (the rotated password is added by the scenario).
        self.secrets: set[str] = set()
        self.phones_used: set[str] = set()
        self.raw_phones: set[str] = set()  # phones as a file wrote them ("206-555-0100")
        self.emulator = WhatCountsEmulator(self.realm, self.password)
        self.api_user, self.api_password = "deploy", secrets.token_urlsafe(16)
        self.port = 0
        #: The pipeline example's storage (``WHATCOUNTS_EXAMPLE_STORAGE``), inside the stage folder.
        self.pipeline_storage = (root / "pipeline-storage").as_uri()
        #: moto's SQS server and the queue example's queue (``WHATCOUNTS_EXAMPLE_QUEUE_URL``).
        self.sqs = SqsServer()
        self.queue_url = ""
        self.workers: list[Process] = []
        self.dead_ok: list[Process] = []  # processes a scenario killed on purpose
        self._token: str | None = None
        self.timings: dict[str, float] = {}

    # --- lifecycle -------------------------------------------------------------------------

    def start(self, ready_timeout: float = 300.0) -> None:
        begin = time.monotonic()
        self.emulator.start()
        self.add_secret(self.password)
        # Before any Airflow process: the queue example is unpaused at creation and its watcher
        # starts looking at the queue as soon as the triggerer has it.
        self.sqs.start()
        self.queue_url = self.sqs.create_queue("whatcounts-stop-replies")
        self.postgres.start()
        self.redis.start()
        self.timings["services_ready_s"] = time.monotonic() - begin
        self.port = _free_port()
        self.env = self._environment()
        migrate = time.monotonic()
        self._run_cli("db-migrate", ["db", "migrate"], timeout=600)
        self.timings["db_migrate_s"] = time.monotonic() - migrate
        for name in AIRFLOW_COMPONENTS:
            self.table.start(name, self._component_argv(name), self.env)
        self.start_worker()
        self.wait_ready(ready_timeout)
        self.timings["nothing_to_ready_s"] = time.monotonic() - begin

    def stop(self) -> None:
        # Workers and the scheduler first (no task starts after), then the rest, services last.
        airflow = [w.name for w in self.workers] + ["scheduler", "triggerer", "dag-processor", "api-server"]
        try:
            # A Celery worker's warm shutdown can outwait any grace; nothing is left to flush by now.
            self.table.stop_all([airflow, ["redis", "postgres"]], grace=5.0)
        finally:
            self.emulator.stop()
            self.sqs.stop()
            shutil.rmtree(self.sockets, ignore_errors=True)

    def _environment(self) -> dict[str, str]:
        base = f"http://127.0.0.1:{self.port}"
        passwords = self.root / "simple-auth-passwords.json"
        passwords.write_text(json.dumps({self.api_user: self.api_password}))
        keep = {
            k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTEST", "_AIRFLOW", "AWS_"))
        }
        env = {
            **keep,
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "example_dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{self.api_user}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.postgres.sqlalchemy_url(),
            "AIRFLOW__CELERY__BROKER_URL": self.redis.url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.postgres.sqlalchemy_url(),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": base,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(24),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
            # A task queued to a worker that died never starts: give it back within a minute.
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "60",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "5",
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": str(MIN_HEARTBEAT_INTERVAL),
            "AIRFLOW_CONN_WHATCOUNTS_DEFAULT": self._whatcounts_uri(),
            "AIRFLOW_CONN_AWS_DEFAULT": self.sqs.connection(),
            **SqsServer.ENV,
            # Read by the pipeline and queue examples at parse time: their asset, files, queue
            # and receipts.
            "WHATCOUNTS_EXAMPLE_STORAGE": self.pipeline_storage,
            "WHATCOUNTS_EXAMPLE_QUEUE_URL": self.queue_url,
            "WHATCOUNTS_EXAMPLE_QUEUE_VISIBILITY_TIMEOUT": str(QUEUE_VISIBILITY_TIMEOUT),
            "PYTHONUNBUFFERED": "1",
        }
        return env

    def _whatcounts_uri(self) -> str:
        uri = self.emulator.conn_uri()
        return f"{uri}{'&' if '?' in uri else '?'}breaker_seconds={BREAKER_SECONDS}"

    def _component_argv(self, name: str) -> list[str]:
        airflow = str(self.bin / "airflow")
        if name == "api-server":
            return [airflow, "api-server", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        if name in {"scheduler", "triggerer"}:
            return [airflow, name, "--skip-serve-logs"]
        return [airflow, name]

    def _run_cli(self, name: str, args: list[str], timeout: float) -> None:
        log = self.table.logs / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            result = subprocess.run(
                [str(self.bin / "airflow"), *args], env=self.env, cwd=self.root, stdout=out,
                stderr=subprocess.STDOUT, timeout=timeout, check=False,
            )  # fmt: skip
        if result.returncode != 0:
            raise StageError(f"airflow {' '.join(args)} exited {result.returncode}:\n{tail(log, 60)}")

    def start_worker(self) -> Process:
        """One more Celery worker (4 slots, no log server: it would listen on every interface)."""
        number = len(self.workers) + 1
        name = f"worker-{number}"
        argv = [
            str(self.bin / "airflow"), "celery", "worker", "--concurrency", "4", "--skip-serve-logs",
            "--celery-hostname", f"{name}@127.0.0.1", "--pid", str(self.root / f"{name}.pid"),
        ]  # fmt: skip
        worker = self.table.start(name, argv, self.env)
        self.workers.append(worker)
        return worker

    def worker_ready(self, worker: Process) -> bool:
        if not worker.alive():
            raise self.failure(f"{worker.name} exited with {worker.popen.returncode}")
        return " ready." in worker.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float) -> None:
        def healthy() -> bool:
            for process in self.table.processes:
                if not process.alive() and process not in self.dead_ok:
                    raise self.failure(
                        f"{process.name} exited with {process.popen.returncode} while starting"
                    )
            try:
                health = requests.get(f"{self.url}/api/v2/monitor/health", timeout=5).json()
            except (requests.RequestException, ValueError):
                return False
            parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
            if any(health.get(part, {}).get("status") != "healthy" for part in parts):
                return False
            return all(self.worker_ready(w) for w in self.workers if w.alive())

        wait_for(healthy, timeout=timeout, what="every component healthy", on_timeout=self.log_tails)

        def parsed() -> bool:
            errors = self.api("GET", "/api/v2/importErrors").json()
            if errors.get("total_entries"):
                raise self.failure(f"DAG import errors: {json.dumps(errors, indent=1)[:4000]}")
            dags = {
                d["dag_id"] for d in self.api("GET", "/api/v2/dags", params={"limit": 100}).json()["dags"]
            }
            return set(EXAMPLE_DAGS) <= dags

        wait_for(parsed, timeout=timeout, what="the example DAGs to be parsed", on_timeout=self.log_tails)

    def kill_worker(self, worker: Process) -> None:
        """SIGKILL a worker's whole process group: the machine under it died."""
        self.kill(worker)

    def kill(self, process: Process, signum: int = signal.SIGKILL, grace: float = 30.0) -> None:
        """Signal a component's whole process group (SIGKILL: the machine under it died; SIGTERM:
        a stop, SIGKILL after ``grace`` s) and wait for it to be gone."""
        self.dead_ok.append(process)
        if signum == signal.SIGKILL:
            members = process.tree()
            process.signal_group(signal.SIGKILL)
            for member in members:
                with contextlib.suppress(Exception):
                    member.kill()
            process.popen.wait(10)
        else:
            process.stop(first=signum, grace=grace)

    def component(self, name: str) -> Process:
        """The live process of the component ``name`` (the latest one started under that name)."""
        return next(p for p in reversed(self.table.processes) if p.name == name and p.alive())

    def start_component(self, name: str) -> Process:
        """Start an Airflow component (again, after :meth:`kill`); its log goes on in the same file."""
        return self.table.start(name, self._component_argv(name), self.env)

    # --- secrets and evidence ---------------------------------------------------------------

    def add_secret(self, password: str) -> None:
        self.secrets.add(password)
        self.secrets.add(base64.b64encode(f"{self.realm}:{password}".encode()).decode())

    def log_files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*.log") if p.is_file() and "pgdata" not in p.parts)

    def log_tails(self, lines: int = 30) -> str:
        """The last lines of every component log and of the newest task logs, redacted."""
        parts = [f"--- {p.name} ({p.log_path}) ---\n{tail(p.log_path, lines)}" for p in self.table.processes]
        task_logs = sorted((self.home / "logs").rglob("attempt=*.log"), key=lambda p: p.stat().st_mtime)
        parts += [f"--- task log {p.relative_to(self.home)} ---\n{tail(p, lines)}" for p in task_logs[-4:]]
        return self.redact("\n".join(parts))

    def redact(self, text: str) -> str:
        """Test output is a log too: no secret, no full phone, no 700 KB line of them."""
        for secret in self.secrets:
            text = text.replace(secret, "<secret>")
        text = _PHONE_LIKE.sub(lambda match: mask_phone(match.group()), text)
        return "\n".join(
            line if len(line) <= 600 else f"{line[:600]} ... ({len(line)} chars)" for line in text.split("\n")
        )

    def failure(self, message: str) -> StageError:
        return StageError(self.redact(f"{message}\n\n=== component log tails ===\n{self.log_tails()}"))

    # --- REST API --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self, *, fresh: bool = False) -> str:
        if self._token is None or fresh:
            response = requests.post(
                f"{self.url}/auth/token",
                json={"username": self.api_user, "password": self.api_password},
                timeout=30,
            )
            if response.status_code != 201:
                raise self.failure(f"no API token: {response.status_code} {response.text[:500]}")
            self._token = response.json()["access_token"]
        return self._token

    def api(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> requests.Response:
        """One REST call with the auth manager's token; a status outside ``ok`` fails the test."""
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.token(fresh=attempt > 0)}"}
            response = requests.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kwargs)
            if response.status_code != 401:
                break
        if response.status_code not in ok:
            raise self.failure(f"{method} {path}: {response.status_code} {response.text[:2000]}")
        return response

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, *, run_id: str | None = None) -> str:
        """Trigger a run (``run_id``: under that id, as an operator or a deterministic id would)."""
        body: dict[str, Any] = {"logical_date": None, "conf": conf or {}}
        if run_id is not None:
            body["dag_run_id"] = run_id
        return str(self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body).json()["dag_run_id"])

    def delete_run(self, dag_id: str, run_id: str) -> None:
        """Delete a finished run from the metadata database (its receipts stay where they are)."""
        self.api("DELETE", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}", ok=(204,))

    def clear_tasks(self, dag_id: str, run_id: str, task_ids: list[str], *, downstream: bool = True) -> None:
        """Clear tasks of one run, whatever their state (every map index of a mapped task), as the
        UI's Clear button does: the run is queued again and each cleared task runs its next try."""
        body = {
            "dry_run": False, "dag_run_id": run_id, "task_ids": task_ids, "only_failed": False,
            "include_downstream": downstream, "reset_dag_runs": True,
        }  # fmt: skip
        self.api("POST", f"/api/v2/dags/{dag_id}/clearTaskInstances", json=body)

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").json())

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        params = {"order_by": "-run_after", "limit": 50}
        return list(self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns", params=params).json()["dag_runs"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        return list(self.api("GET", path, params={"limit": 1000}).json()["task_instances"])

    def wait_run(self, dag_id: str, run_id: str, timeout: float) -> dict[str, Any]:
        """Poll until the run is success or failed; give up with every log tail attached."""

        def finished() -> dict[str, Any] | None:
            run = self.run(dag_id, run_id)
            return run if run["state"] in TERMINAL_RUN_STATES else None

        return dict(
            wait_for(
                finished, timeout=timeout, interval=1.0, what=f"run {run_id} of {dag_id} to finish",
                on_timeout=lambda: self.describe_run(dag_id, run_id) + "\n" + self.log_tails(),
            )
        )  # fmt: skip

    def fail_unfinished_runs(self) -> None:
        """Mark every run still going as failed, so that a scenario that gave up leaves no load behind."""
        for dag in self.api("GET", "/api/v2/dags", params={"limit": 100}).json()["dags"]:
            for run in self.runs(dag["dag_id"]):
                if run["state"] not in TERMINAL_RUN_STATES:
                    path = f"/api/v2/dags/{dag['dag_id']}/dagRuns/{run['dag_run_id']}"
                    self.api("PATCH", path, json={"state": "failed"})

    def describe_run(self, dag_id: str, run_id: str) -> str:
        rows = [
            f"  {ti['task_id']}[{ti['map_index']}] {ti['state']} try {ti['try_number']}"
            for ti in self.task_instances(dag_id, run_id)
        ]
        return f"run {run_id} of {dag_id}: {self.run(dag_id, run_id)['state']}\n" + "\n".join(rows)

    def xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"
        response = self.api("GET", path, params={"map_index": map_index, "deserialize": True}, ok=(200, 404))
        if response.status_code == 404:
            return None
        value = response.json()["value"]
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        return value

    def set_task_state(self, dag_id: str, run_id: str, task_id: str, map_index: int, state: str) -> None:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}"
        self.api("PATCH", path, json={"new_state": state})

    def task_log(self, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int) -> str:
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        if map_index >= 0:
            folder = folder / f"map_index={map_index}"
        path = folder / f"attempt={try_number}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def task_process(self, ti_id: str) -> Any:
        """The psutil process running a task instance: its title is ``airflow worker -- <ti id>``."""
        import psutil

        for worker in self.workers:
            for member in worker.tree():
                with contextlib.suppress(psutil.Error):
                    if f"airflow worker -- {ti_id}" in " ".join(member.cmdline()):
                        return member
        return None
