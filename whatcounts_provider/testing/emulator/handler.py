"""The HTTP handler: one request in, WhatCounts' answer (or an injected fault) out."""

from __future__ import annotations

import base64
import json
import secrets
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from whatcounts_provider.testing.emulator.api import (
    API_MEDIA_TYPE,
    LISTS,
    ApiCall,
    Endpoint,
    Reply,
    error_reply,
    not_subscribed_reply,
    parse_api_path,
)
from whatcounts_provider.testing.emulator.state import NoAnswer

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from whatcounts_provider.testing.emulator.faults import FaultPlan, Faults
    from whatcounts_provider.testing.emulator.state import EmulatorState


class EmulatorServer(Protocol):
    """What a handler uses of its server (server.py's ``EmulatorServer``; named here, not imported:
    the server imports this module)."""

    state: EmulatorState
    faults: Faults
    stopping: threading.Event


def _admin_state(server: EmulatorServer, data: dict[str, Any]) -> Reply:
    return Reply(200, server.state.snapshot(), {})


def _admin_subscribe(server: EmulatorServer, data: dict[str, Any]) -> Reply:
    code = str(data["sender_code"])
    return Reply(200, {"sender_code": code, "phones": server.state.subscribe(code, data["phones"])}, {})


def _admin_faults(server: EmulatorServer, data: dict[str, Any]) -> Reply:
    server.faults.update(**data)
    return Reply(200, server.faults.as_dict(), {})


def _admin_reset(server: EmulatorServer, data: dict[str, Any]) -> Reply:
    server.state.reset()
    server.faults.clear()
    return Reply(200, server.state.snapshot(), {})


#: The admin API (no auth, no faults): path -> (its one method, what it does).
ADMIN_ROUTES: dict[str, tuple[str, Callable[[EmulatorServer, dict[str, Any]], Reply]]] = {
    "/_admin/state": ("GET", _admin_state),
    "/_admin/subscribe": ("POST", _admin_subscribe),
    "/_admin/faults": ("POST", _admin_faults),
    "/_admin/reset": ("POST", _admin_reset),
}


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # else every keep-alive answer waits ~40 ms for a delayed ACK
    server: EmulatorServer  # type: ignore[assignment]  # the Protocol above, not BaseServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: an access log would swamp test output and benchmarks."""

    def handle_any_method(self) -> None:
        """Serve a request whatever its method: the path decides, and answers a wrong method with a 405.

        http.server would answer a method without a ``do_*`` with its own 501 HTML page;
        WhatCounts answers 405 with an ``Allow`` header and its JSON error body.
        """
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or "Transfer-Encoding" in self.headers:
            self.close_connection = True
            self._send(error_reply(400, "Send the body with a valid Content-Length"))
            return
        # Always read the whole body: on a keep-alive connection the next request follows it.
        body = self.rfile.read(length)
        path = urlsplit(self.path).path
        if path.startswith("/rest/"):
            self._serve_api(path)
        elif path.startswith("/_admin/"):
            self._send(self._admin_reply(path, body))
        else:
            self._send(error_reply(404, f"No such resource: {path}"))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any_method

    def _serve_api(self, path: str) -> None:
        state, stopping = self.server.state, self.server.stopping
        call = parse_api_path(path)
        endpoint, sender, phone = call.endpoint, call.sender, call.phone
        plan = self.server.faults.plan(sender, phone)
        stopping.wait(plan.delay)
        if plan.drop or plan.hang:
            state.record(
                self.command, endpoint, sender, phone, NoAnswer.DROPPED if plan.drop else NoAnswer.HUNG
            )
            if plan.hang:
                stopping.wait()
            self.close_connection = True
            return
        reply = self._refusal(path, endpoint, plan)
        if reply is None:
            reply = self._stop(call) if endpoint is Endpoint.STOP else Reply(200, LISTS, {})
            if plan.drop_after_act:
                state.record(self.command, endpoint, sender, phone, NoAnswer.DROPPED_AFTER_ACT)
                self.close_connection = True
                return
        state.record(self.command, endpoint, sender, phone, reply.status)
        self._send(reply, stall=plan.stall_body)

    def _refusal(self, path: str, endpoint: Endpoint, plan: FaultPlan) -> Reply | None:
        """The answer to a request refused before the real work, or None."""
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        state = self.server.state
        expected = base64.b64encode(f"{state.realm}:{state.password}".encode()).decode()
        if scheme.lower() != "basic" or not secrets.compare_digest(token.strip(), expected):
            return error_reply(401, "Unauthorized", {"WWW-Authenticate": 'Basic realm="WhatCounts"'})
        if state.api_key is not None:  # an API Client: x-api-key is Base64 of name:auth, as Basic is
            client = base64.b64encode(state.api_key.encode()).decode()
            if not secrets.compare_digest(self.headers.get("x-api-key", "").strip(), client):
                return error_reply(401, "Unauthorized: invalid or missing x-api-key for the API Client")
        accepted = (
            media.split(";")[0].strip().lower() for media in self.headers.get("Accept", "").split(",")
        )
        if API_MEDIA_TYPE not in accepted:
            return error_reply(406, f"Not Acceptable: send Accept: {API_MEDIA_TYPE}")
        if plan.reject is not None:
            headers = {"Retry-After": plan.retry_after} if plan.retry_after is not None else {}
            return error_reply(plan.reject, HTTPStatus(plan.reject).description, headers)
        if endpoint.method is None:
            return error_reply(404, f"No such resource: {path}")
        if self.command != endpoint.method:
            return error_reply(405, f"{self.command} is not allowed here", {"Allow": endpoint.method})
        return None

    def _stop(self, call: ApiCall) -> Reply:
        if call.sender is None or call.phone is None:
            return error_reply(400, f"Invalid phone [{call.raw_phone}]: digits only")
        record = self.server.state.stop(call.sender, call.phone)
        return not_subscribed_reply(call.phone) if record is None else Reply(200, record, {})

    def _admin_reply(self, path: str, body: bytes) -> Reply:
        route = ADMIN_ROUTES.get(path)
        if route is None:
            return error_reply(404, f"No such resource: {path}")
        method, action = route
        if self.command != method:
            return error_reply(405, f"{self.command} is not allowed here", {"Allow": method})
        try:
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise TypeError("the body must be a JSON object")
            return action(self.server, data)
        except (KeyError, TypeError, ValueError) as exc:
            return error_reply(400, f"Bad admin request: {exc!r}")

    def _send(self, reply: Reply, *, stall: bool = False) -> None:
        data = json.dumps(reply.payload).encode()
        self.send_response(reply.status)
        headers = {"Content-Type": "application/json", "Content-Length": str(len(data)), **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if stall:
            self.server.stopping.wait()
            self.close_connection = True
        else:
            self.wfile.write(data)
