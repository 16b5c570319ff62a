"""Start the Airflow web servers of the installed Airflow on 127.0.0.1, each in its own home.

Airflow 3.x: ``airflow api-server`` with the simple auth manager (one admin user whose password
file we write); Airflow 2.11: ``airflow webserver`` with the FAB auth manager (an admin user made
with ``airflow users create``). Both use SQLite and ``[core] test_connection = Enabled``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

ADMIN_USER = "admin"
ADMIN_PASSWORD = "browser-test-admin"  # only valid on a throwaway server bound to 127.0.0.1
ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = ROOT / "example_dags"
# Generous: two loaded cores, and a cold Airflow import plus migrations take tens of seconds.
START_TIMEOUT = 240.0
COMMAND_TIMEOUT = 300.0


def airflow_major() -> int:
    from importlib.metadata import version

    return int(version("apache-airflow").split(".")[0])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AirflowServer:
    """One Airflow web server process (and helpers) sharing a home, a database and a log folder."""

    home: Path
    env: dict[str, str]
    port: int
    major: int
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, check: bool = True, env: Mapping[str, str] | None = None) -> str:
        """Run ``airflow <args>`` in this server's home; return what it printed on stdout."""
        result = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if check and result.returncode != 0:
            output = result.stdout + result.stderr
            raise RuntimeError(f"airflow {' '.join(args)} failed ({result.returncode}):\n{output[-4000:]}")
        return result.stdout

    def spawn(self, name: str, *args: str) -> None:
        """Start ``airflow <args>`` in the background, its output in ``<home>/<name>.log``."""
        log = (self.home / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends its gunicorn/uvicorn workers too
        )
        self.processes.append((name, process))

    def logs(self, limit: int = 6000) -> str:
        """The tail of every component log, for failure messages."""
        parts = []
        for name, _ in self.processes:
            path = self.home / f"{name}.log"
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(f"--- {name} ---\n{text[-limit:]}")
        return "\n".join(parts)

    def wait_until_up(self, path: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            for name, process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}\n{self.logs()}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=5) as answer:  # noqa: S310 (loopback)
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(1)
        raise RuntimeError(f"Airflow did not answer {self.url}{path} in {START_TIMEOUT:g} s\n{self.logs()}")

    def stop(self) -> None:
        for _, process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for _, process in reversed(self.processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _base_env(home: Path, port: int, extra_env: Mapping[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW_CONN_", "AIRFLOW__", "PYTEST_"))
    }
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            # Airflow 2.11's executor runs each task as `airflow tasks run ...`: this venv's airflow.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            **extra_env,
        }
    )
    return env


@contextlib.contextmanager
def airflow_server(
    home: Path, extra_env: Mapping[str, str] | None = None, *, run_dags: bool = False
) -> Iterator[AirflowServer]:
    """Migrate a fresh SQLite database, create the admin user and serve the UI on 127.0.0.1.

    :param run_dags: also start what runs DAGs (scheduler; on 3.x the dag-processor too), so a
        DAG triggered in the UI runs; without it the example DAGs are only serialized for the UI.
    """
    major = airflow_major()
    port = free_port()
    home.mkdir(parents=True, exist_ok=True)
    env = _base_env(home, port, extra_env or {})
    if major >= 3:
        passwords = home / "passwords.json"
        passwords.write_text(json.dumps({ADMIN_USER: ADMIN_PASSWORD}))
        env.update(
            {
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
                "AIRFLOW__API_AUTH__JWT_SECRET": "browser-tests-only-" + os.urandom(8).hex(),
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            }
        )
    else:
        env.update(
            {
                "AIRFLOW__WEBSERVER__SECRET_KEY": "browser-tests-only-" + os.urandom(8).hex(),
                "AIRFLOW__WEBSERVER__WORKERS": "1",
                # Its gunicorn monitor shuts the webserver down when the master does not answer
                # within 120 s, which happened on the loaded test machine; workers are not recycled.
                "AIRFLOW__WEBSERVER__WEB_SERVER_MASTER_TIMEOUT": "900",
                "AIRFLOW__WEBSERVER__WEB_SERVER_WORKER_TIMEOUT": "900",
                "AIRFLOW__WEBSERVER__WORKER_REFRESH_INTERVAL": "0",
                "AIRFLOW__WEBSERVER__WORKER_REFRESH_BATCH_SIZE": "0",
                "AIRFLOW__WEBSERVER__WEB_SERVER_HOST": "127.0.0.1",
                "AIRFLOW__WEBSERVER__WEB_SERVER_PORT": str(port),
                "AIRFLOW__API__AUTH_BACKENDS": "airflow.api.auth.backend.session",
                "AIRFLOW__WEBSERVER__WARN_DEPLOYMENT_EXPOSURE": "False",
                "AIRFLOW__CORE__EXECUTOR": "SequentialExecutor",
            }
        )
    server = AirflowServer(home=home, env=env, port=port, major=major)
    try:
        server.cli("db", "migrate")
        if major >= 3:
            server.spawn(
                "api-server", "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"
            )
            server.wait_until_up("/api/v2/monitor/health")
        else:
            server.cli(
                "users",
                "create",
                "--role",
                "Admin",
                "--username",
                ADMIN_USER,
                "--password",
                ADMIN_PASSWORD,
                "--email",
                "admin@example.invalid",
                "--firstname",
                "Ad",
                "--lastname",
                "Min",
            )
            server.spawn(
                "webserver", "webserver", "--hostname", "127.0.0.1", "--port", str(port), "--workers", "1"
            )
            server.wait_until_up("/health")
        if run_dags:
            server.spawn("scheduler", "scheduler")
            if major >= 3:
                server.spawn("dag-processor", "dag-processor")
        else:
            server.cli("dags", "reserialize")
        yield server
    finally:
        server.stop()
