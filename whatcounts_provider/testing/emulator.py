"""A local WhatCounts REST emulator for tests, demos and benchmarks (standard library only).

It answers ``POST /rest/sms/stopSubscriberSend/<phone>/<senderCode>`` and ``GET /rest/lists``
as WhatCounts does (Basic auth, versioned ``Accept``, a 500 for a phone without a subscription),
keeps its state in memory, injects faults on demand and listens on 127.0.0.1 only::

    with WhatCountsEmulator(faults=Faults(seed=1, p_503=0.1)) as emulator:
        emulator.subscribe("2065551212", ["2065959696"])
        os.environ["AIRFLOW_CONN_WHATCOUNTS_DEFAULT"] = emulator.conn_uri()

Or ``python -m whatcounts_provider.testing.emulator --port 8080 --subscribe 2065551212:2065959696``.
An admin API without auth serves tests and demos: ``GET /_admin/state``, ``POST /_admin/subscribe``
``{"sender_code": ..., "phones": [...]}``, ``POST /_admin/faults`` (:class:`Faults` fields, partial)
and ``POST /_admin/reset`` (state and faults).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import itertools
import json
import random
import re
import secrets
import signal
import socket
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote, urlsplit

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable, Sequence

__all__ = [
    "API_MEDIA_TYPE",
    "DEMO_CREDENTIALS",
    "EmulatorState",
    "Faults",
    "RequestRecord",
    "WhatCountsEmulator",
    "main",
]

API_MEDIA_TYPE = "application/vnd.whatcounts-v1+json"
REALM_ID = 10
HOST = "127.0.0.1"
#: The realm and API password the emulator accepts unless told otherwise.
DEMO_CREDENTIALS = ("demo-realm", "demo-password")
_DATE_FORMAT = "%b %d, %Y %I:%M:%S %p"
_STOP_PATH = re.compile(r"/rest/sms/stopSubscriberSend/(?P<phone>[^/]*)/(?P<sender>[^/]+)")
_METHODS = {"stop": "POST", "lists": "GET"}
_ADMIN = {
    "/_admin/state": "GET",
    "/_admin/subscribe": "POST",
    "/_admin/faults": "POST",
    "/_admin/reset": "POST",
}
_LISTS = [{"listId": 1, "listName": "Newsletter"}, {"listId": 2, "listName": "SMS Alerts"}]
_Reply = tuple[int, Any, dict[str, str]]  # status, JSON payload, extra headers


def _path_phone(phone: str | int | None) -> str | None:
    """WhatCounts' form of a phone in a path: 1-15 digits only; 10 digits are US, gaining a leading 1."""
    text = str(phone)
    if not re.fullmatch(r"[0-9]{1,15}", text):
        return None
    return f"1{text}" if len(text) == 10 else text


class RequestRecord(NamedTuple):
    """One API request as the emulator saw it; ``status`` is None when no answer was sent."""

    timestamp: float  # time.monotonic()
    method: str
    endpoint: str  # "stop", "lists" or "unknown"
    sender: str | None
    phone: str | None
    status: int | None


class EmulatorState:
    """Subscriptions, stops and counters, shared by all handler threads behind one lock."""

    def __init__(
        self, realm: str, password: str, *, record_requests: bool = True, api_key: str | None = None
    ) -> None:
        self.realm = realm
        self.password = password
        #: ``apiClientName:apiClientAuth`` of a required API Client, or None (the default client).
        self.api_key = api_key
        self.record_requests = record_requests
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget everything: subscriptions, stops, counters and the request log."""
        with self._lock:
            self.subscriptions: dict[str, set[str]] = {}
            self.stopped: dict[str, dict[str, dict[str, Any]]] = {}
            self.requests_total = self.connections = self.dropped = self.dropped_after_act = 0
            self.by_status: Counter[int] = Counter()
            self.by_endpoint: Counter[str] = Counter()
            self.posts: Counter[tuple[str, str]] = Counter()
            self.requests: list[RequestRecord] = []
            self._subscriber_ids: dict[tuple[str, str], int] = {}
            self._sender_ids: dict[str, int] = {}
            self._next_subscriber_id = itertools.count(1)
            self._next_stop_id = itertools.count(1)

    def subscribe(self, sender_code: str, phones: Iterable[str | int] | str | int) -> list[str]:
        """Subscribe phones (10 digits are US) to a sender code; return them normalised."""
        normalised = []
        for item in [phones] if isinstance(phones, (str, int)) else phones:
            phone = _path_phone(item)
            if phone is None:
                raise ValueError(f"phones must be digits only, got {item!r}")
            normalised.append(phone)
        with self._lock:
            for phone in normalised:
                self.subscriptions.setdefault(sender_code, set()).add(phone)
                if (sender_code, phone) not in self._subscriber_ids:
                    self._subscriber_ids[sender_code, phone] = next(self._next_subscriber_id)
        return normalised

    def is_subscribed(self, sender_code: str, phone: str | int) -> bool:
        with self._lock:
            return _path_phone(phone) in self.subscriptions.get(sender_code, ())

    def is_stopped(self, sender_code: str, phone: str | int) -> bool:
        with self._lock:
            return _path_phone(phone) in self.stopped.get(sender_code, {})

    def post_count(self, sender_code: str, phone: str | int) -> int:
        """How many stop POSTs arrived for this phone, whatever became of them (retries count)."""
        with self._lock:
            return self.posts[sender_code, _path_phone(phone) or str(phone)]

    def stop(self, sender_code: str, phone: str) -> dict[str, Any] | None:
        """End the subscription and return WhatCounts' record of it; None if there was none."""
        with self._lock:
            subscribed = self.subscriptions.get(sender_code, set())
            if phone not in subscribed:
                return None
            subscribed.discard(phone)
            now = datetime.now().strftime(_DATE_FORMAT)
            record = {
                "id": next(self._next_stop_id),
                "smsSubscriberId": self._subscriber_ids.pop((sender_code, phone)),
                "smsSenderId": self._sender_ids.setdefault(sender_code, len(self._sender_ids) + 1),
                "realmId": REALM_ID,
                "campaignId": 0,
                "phone": phone,
                "createdDate": now,
                "updatedDate": now,
            }
            self.stopped.setdefault(sender_code, {})[phone] = record
            return record

    def record(
        self, method: str, endpoint: str, sender: str | None, phone: str | None, status: int | None
    ) -> None:
        """Count one API request; called before its answer goes out, so a client never outruns it."""
        with self._lock:
            self.requests_total += 1
            self.by_endpoint[endpoint] += 1
            if status is not None:
                self.by_status[status] += 1
            if endpoint == "stop" and method == "POST" and sender is not None and phone is not None:
                self.posts[sender, phone] += 1
            if self.record_requests:
                self.requests.append(RequestRecord(time.monotonic(), method, endpoint, sender, phone, status))

    def count(self, counter: str) -> None:
        """Add one to ``connections``, ``dropped`` or ``dropped_after_act``."""
        with self._lock:
            setattr(self, counter, getattr(self, counter) + 1)

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able copy of the state (``GET /_admin/state``)."""
        with self._lock:
            posts: dict[str, dict[str, int]] = {}
            for (sender, phone), n in sorted(self.posts.items()):
                posts.setdefault(sender, {})[phone] = n
            return {
                "realm": self.realm,
                "subscribed": {code: sorted(phones) for code, phones in sorted(self.subscriptions.items())},
                "stopped": {code: sorted(phones) for code, phones in sorted(self.stopped.items())},
                "counters": {
                    "requests": self.requests_total,
                    "by_status": {str(code): n for code, n in sorted(self.by_status.items())},
                    "by_endpoint": dict(sorted(self.by_endpoint.items())),
                    "posts": posts,
                    "connections": self.connections,
                    "dropped": self.dropped,
                    "dropped_after_act": self.dropped_after_act,
                },
            }


class _Plan(NamedTuple):
    """One request's faults, drawn together so that a seed gives one reproducible sequence."""

    delay: float
    drop: bool
    hang: bool
    reject: int | None
    retry_after: str | None
    drop_after_act: bool
    stall_body: bool


@dataclasses.dataclass
class Faults:
    """Faults injected into ``/rest/*`` requests (never the admin API); all off by default.

    Change them while serving with :meth:`update` or ``POST /_admin/faults``. Per request:
    ``latency``; then ``p_drop`` or ``hang`` (before anything is done); auth and Accept checks;
    ``outage``, ``failing_senders``, ``failing_phones``, ``p_503`` or ``p_429``; the real work;
    and after it ``p_drop_after_act`` (the stop is done, its answer lost) or ``stall_body``.
    """

    seed: int | None = None
    p_503: float = 0.0
    p_429: float = 0.0
    #: Retry-After range in whole seconds: always sent with 429, with 503 if ``retry_after_503``.
    retry_after: tuple[int, int] = (0, 1)
    retry_after_503: bool = False
    #: Sent instead of a drawn Retry-After, e.g. "3600" to test a client's cap.
    retry_after_override: str | None = None
    #: Close the connection without answering and without acting.
    p_drop: float = 0.0
    #: Act (the stop happens), then close the connection without answering.
    p_drop_after_act: float = 0.0
    latency: float = 0.0
    latency_jitter: float = 0.0
    #: Never answer, until the emulator stops.
    hang: bool = False
    #: Act, send status line and headers (with Content-Length), then stall until the emulator stops.
    stall_body: bool = False
    #: 503 to every API request.
    outage: bool = False
    #: Sender codes that always get a 503.
    failing_senders: set[str] = dataclasses.field(default_factory=set)
    #: Phones (10 or 11+ digits) that always get a 503, on any sender code.
    failing_phones: set[str] = dataclasses.field(default_factory=set)
    _lock: threading.Lock = dataclasses.field(init=False, repr=False, compare=False)
    _rng: random.Random = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not all(0 <= p <= 1 for p in (self.p_503, self.p_429, self.p_drop, self.p_drop_after_act)):
            raise ValueError("probabilities must be between 0 and 1")
        if self.latency < 0 or self.latency_jitter < 0:
            raise ValueError("latency and latency_jitter must not be negative")
        low, high = (int(seconds) for seconds in self.retry_after)
        if not 0 <= low <= high:
            raise ValueError("retry_after must be a (min, max) range of seconds, 0 <= min <= max")
        self.retry_after = (low, high)
        self.failing_senders = {str(code) for code in self.failing_senders}
        self.failing_phones = {_path_phone(phone) or str(phone) for phone in self.failing_phones}
        if self.retry_after_override is not None:
            self.retry_after_override = str(self.retry_after_override)
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)

    def update(self, **changes: Any) -> None:
        """Change some faults at once; an unknown name or bad value raises and changes nothing."""
        with self._lock:
            checked = dataclasses.replace(self, **changes)
            for name in changes:
                setattr(self, name, getattr(checked, name))
            if "seed" in changes:
                self._rng.seed(self.seed)

    def clear(self) -> None:
        """Turn every fault off; the seed stays and its sequence starts again."""
        off = Faults(seed=self.seed)
        self.update(**{f.name: getattr(off, f.name) for f in dataclasses.fields(self) if f.init})

    def as_dict(self) -> dict[str, Any]:
        """The current faults, JSON-able."""
        with self._lock:
            values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
            return {
                name: sorted(value) if isinstance(value, set) else value for name, value in values.items()
            }

    def plan(self, sender: str | None, phone: str | None) -> _Plan:
        """Draw one request's faults."""
        with self._lock:
            rng, jitter = self._rng, self.latency_jitter
            delay = max(0.0, self.latency + (rng.uniform(-jitter, jitter) if jitter else 0.0))
            drop = self._roll(self.p_drop)
            reject = None
            failing = sender in self.failing_senders or phone in self.failing_phones
            if self.outage or failing or self._roll(self.p_503):
                reject = 503
            elif self._roll(self.p_429):
                reject = 429
            retry_after = None
            if reject == 429 or (reject == 503 and self.retry_after_503):
                retry_after = self.retry_after_override or str(rng.randint(*self.retry_after))
            drop_after_act = self._roll(self.p_drop_after_act)
            return _Plan(delay, drop, self.hang, reject, retry_after, drop_after_act, self.stall_body)

    def _roll(self, probability: float) -> bool:
        return probability > 0 and self._rng.random() < probability


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> _Reply:
    """WhatCounts' error body."""
    payload = {"error": message, "status": HTTPStatus(status).phrase, "statusCode": status}
    return status, payload, headers or {}


def _route(path: str) -> tuple[str, str | None, str | None]:
    """(endpoint, sender code, phone as sent) of an API path."""
    if path == "/rest/lists":
        return "lists", None, None
    match = _STOP_PATH.fullmatch(path)
    return ("stop", match["sender"], match["phone"]) if match else ("unknown", None, None)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # else every keep-alive answer waits ~40 ms for a delayed ACK
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: an access log would swamp test output and benchmarks."""

    def do_GET(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or "Transfer-Encoding" in self.headers:
            self.close_connection = True
            self._send(_error(400, "Send the body with a valid Content-Length"))
            return
        # Always read the whole body: on a keep-alive connection the next request follows it.
        body = self.rfile.read(length)
        path = urlsplit(self.path).path
        if path.startswith("/rest/"):
            self._api(path)
        elif path.startswith("/_admin/"):
            self._send(self._admin(path, body))
        else:
            self._send(_error(404, f"No such resource: {path}"))

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _api(self, path: str) -> None:
        state, stopping = self.server.state, self.server.stopping
        endpoint, sender, raw_phone = _route(path)
        phone = _path_phone(raw_phone)
        plan = self.server.faults.plan(sender, phone)
        stopping.wait(plan.delay)
        if plan.drop or plan.hang:
            state.record(self.command, endpoint, sender, phone, None)
            if plan.drop:
                state.count("dropped")
            else:
                stopping.wait()
            self.close_connection = True
            return
        reply = self._refusal(path, endpoint, plan)
        if reply is None:
            reply = self._act(sender, raw_phone, phone) if endpoint == "stop" else (200, _LISTS, {})
            if plan.drop_after_act:
                state.record(self.command, endpoint, sender, phone, None)
                state.count("dropped_after_act")
                self.close_connection = True
                return
        state.record(self.command, endpoint, sender, phone, reply[0])
        self._send(reply, stall=plan.stall_body)

    def _refusal(self, path: str, endpoint: str, plan: _Plan) -> _Reply | None:
        """The answer to a request refused before the real work, or None."""
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        state = self.server.state
        expected = base64.b64encode(f"{state.realm}:{state.password}".encode()).decode()
        if scheme.lower() != "basic" or not secrets.compare_digest(token.strip(), expected):
            return _error(401, "Unauthorized", {"WWW-Authenticate": 'Basic realm="WhatCounts"'})
        if state.api_key is not None:  # an API Client: x-api-key is Base64 of name:auth, as Basic is
            client = base64.b64encode(state.api_key.encode()).decode()
            if not secrets.compare_digest(self.headers.get("x-api-key", "").strip(), client):
                return _error(401, "Unauthorized: invalid or missing x-api-key for the API Client")
        accepted = (
            media.split(";")[0].strip().lower() for media in self.headers.get("Accept", "").split(",")
        )
        if API_MEDIA_TYPE not in accepted:
            return _error(406, f"Not Acceptable: send Accept: {API_MEDIA_TYPE}")
        if plan.reject is not None:
            headers = {"Retry-After": plan.retry_after} if plan.retry_after is not None else {}
            return _error(plan.reject, HTTPStatus(plan.reject).description, headers)
        if endpoint not in _METHODS:
            return _error(404, f"No such resource: {path}")
        if self.command != _METHODS[endpoint]:
            return _error(405, f"{self.command} is not allowed here", {"Allow": _METHODS[endpoint]})
        return None

    def _act(self, sender: str | None, raw_phone: str | None, phone: str | None) -> _Reply:
        if sender is None or phone is None:
            return _error(400, f"Invalid phone [{raw_phone}]: digits only")
        record = self.server.state.stop(sender, phone)
        if record is None:
            message = f"An error occurred processing STOP sends for phone [{phone}] realmId [{REALM_ID}]"
            return _error(500, message)
        return 200, record, {}

    def _admin(self, path: str, body: bytes) -> _Reply:
        allowed = _ADMIN.get(path)
        if allowed is None:
            return _error(404, f"No such resource: {path}")
        if self.command != allowed:
            return _error(405, f"{self.command} is not allowed here", {"Allow": allowed})
        state, faults = self.server.state, self.server.faults
        try:
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise TypeError("the body must be a JSON object")
            if path == "/_admin/subscribe":
                code = str(data["sender_code"])
                return 200, {"sender_code": code, "phones": state.subscribe(code, data["phones"])}, {}
            if path == "/_admin/faults":
                faults.update(**data)
                return 200, faults.as_dict(), {}
        except (KeyError, TypeError, ValueError) as exc:
            return _error(400, f"Bad admin request: {exc!r}")
        if path == "/_admin/reset":
            state.reset()
            faults.clear()
        return 200, state.snapshot(), {}

    def _send(self, reply: _Reply, *, stall: bool = False) -> None:
        status, payload, headers = reply
        data = json.dumps(payload).encode()
        self.send_response(status)
        headers = {"Content-Type": "application/json", "Content-Length": str(len(data)), **headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if stall:
            self.server.stopping.wait()
            self.close_connection = True
        else:
            self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # 64 clients connecting at once must not be refused

    def __init__(self, port: int, state: EmulatorState, faults: Faults, tls: ssl.SSLContext | None) -> None:
        super().__init__((HOST, port), _Handler)
        if tls is not None:  # the handshake then runs in each connection's thread, not in accept()
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        self.state, self.faults = state, faults
        self.stopping = threading.Event()
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        self.state.count("connections")
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut idle keep-alive connections, whose threads would otherwise serve on after stop()."""
        with self._open_lock:
            for sock in self._open:
                with contextlib.suppress(OSError):  # plain shutdown: SSLSocket's races its reader
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that vanish (timeouts, resets, TLS errors) are normal here; bugs are not."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class WhatCountsEmulator:
    """The emulator: ``start()`` and ``stop()``, or a ``with`` block; serves from a daemon thread."""

    host = HOST

    def __init__(
        self,
        realm: str = DEMO_CREDENTIALS[0],
        password: str = DEMO_CREDENTIALS[1],
        *,
        port: int = 0,
        faults: Faults | None = None,
        ssl_context: ssl.SSLContext | None = None,
        record_requests: bool = True,
        api_key: str | None = None,
    ) -> None:
        """:param api_key: ``apiClientName:apiClientAuth``: also require that API Client's ``x-api-key``."""
        self.state = EmulatorState(realm, password, record_requests=record_requests, api_key=api_key)
        self.faults = faults if faults is not None else Faults()
        self._port = port
        self._ssl_context = ssl_context
        self._scheme = "https" if ssl_context is not None else "http"
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> WhatCountsEmulator:
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._server = _Server(self._port, self.state, self.faults, self._ssl_context)
        # stop() waits for the loop's next poll: 10 ms keeps a fixture's teardown short.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release hanging handlers and close every socket; safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> WhatCountsEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"{self._scheme}://{HOST}:{self.port}"

    def subscribe(self, sender_code: str, phones: Iterable[str | int] | str | int) -> list[str]:
        """Give phones a subscription to stop; see :meth:`EmulatorState.subscribe`."""
        return self.state.subscribe(sender_code, phones)

    def conn_uri(self, conn_type: str = "whatcounts") -> str:
        """An Airflow connection URI; the host is percent-encoded so that its scheme survives."""
        login, password = (quote(value, safe="") for value in (self.state.realm, self.state.password))
        uri = f"{conn_type}://{login}:{password}@{quote(f'{self._scheme}://{HOST}', safe='')}:{self.port}"
        if self.state.api_key is not None:
            uri += f"?api_key={quote(self.state.api_key, safe='')}"
        return uri

    def conn_json(self, conn_type: str = "whatcounts") -> str:
        """The same connection in Airflow's JSON form (``AIRFLOW_CONN_*`` takes either)."""
        login, password = self.state.realm, self.state.password
        conn: dict[str, Any] = {
            "conn_type": conn_type,
            "host": self.url,
            "login": login,
            "password": password,
        }
        if self.state.api_key is not None:
            conn["extra"] = {"api_key": self.state.api_key}
        return json.dumps(conn)


def _subscription(value: str) -> tuple[str, list[str]]:
    sender, _, phones = value.partition(":")
    items = [phone.strip() for phone in phones.split(",") if phone.strip()]
    if not sender or not items or any(_path_phone(phone) is None for phone in items):
        raise argparse.ArgumentTypeError(f"expected SENDER:PHONE[,PHONE...], digits only; got {value!r}")
    return sender, items


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve the WhatCounts emulator on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port (see --ready-file)")
    parser.add_argument("--realm", default=DEMO_CREDENTIALS[0])
    parser.add_argument("--password", default=DEMO_CREDENTIALS[1])
    parser.add_argument("--api-key", metavar="NAME:AUTH", help="also require this API Client's x-api-key")
    parser.add_argument("--subscribe", type=_subscription, action="append", default=[], metavar="S:PHONES")
    parser.add_argument("--seed", type=int)
    for name in ("p-503", "p-429", "p-drop", "p-drop-after-act", "latency", "latency-jitter"):
        parser.add_argument(f"--{name}", type=float, default=0.0)
    parser.add_argument("--no-record-requests", action="store_true", help="keep no request log")
    parser.add_argument("--ready-file", type=Path, help="write the URL here once listening")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM."""
    args = _parse_args(argv)
    names = ("seed", "p_503", "p_429", "p_drop", "p_drop_after_act", "latency", "latency_jitter")
    emulator = WhatCountsEmulator(
        args.realm,
        args.password,
        port=args.port,
        faults=Faults(**{name: getattr(args, name) for name in names}),
        record_requests=not args.no_record_requests,
        api_key=args.api_key,
    )
    for sender, phones in args.subscribe:
        emulator.subscribe(sender, phones)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    with emulator:
        print(f"WhatCounts emulator listening on {emulator.url}", flush=True)
        if args.ready_file is not None:  # written whole at once: a reader never sees half a URL
            partial = args.ready_file.with_name(f"{args.ready_file.name}.partial")
            partial.write_text(f"{emulator.url}\n")
            partial.replace(args.ready_file)
        stopping.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
