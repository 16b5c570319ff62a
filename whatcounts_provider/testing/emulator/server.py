"""The server: a threaded HTTP server on 127.0.0.1, and :class:`WhatCountsEmulator` to run it."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from whatcounts_provider.testing.emulator.api import DEMO_CREDENTIALS, HOST
from whatcounts_provider.testing.emulator.faults import Faults
from whatcounts_provider.testing.emulator.handler import RequestHandler
from whatcounts_provider.testing.emulator.state import EmulatorState

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # 64 clients connecting at once must not be refused

    def __init__(self, port: int, state: EmulatorState, faults: Faults, tls: ssl.SSLContext | None) -> None:
        super().__init__((HOST, port), RequestHandler)
        if tls is not None:  # the handshake then runs in each connection's thread, not in accept()
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        self.state, self.faults = state, faults
        self.stopping = threading.Event()
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        self.state.connection_opened()
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
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> WhatCountsEmulator:
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._server = EmulatorServer(self._port, self.state, self.faults, self._ssl_context)
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
