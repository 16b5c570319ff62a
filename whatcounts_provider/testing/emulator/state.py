"""The emulator's memory: subscriptions, stops, counters and the request log, behind one lock."""

from __future__ import annotations

import enum
import itertools
import threading
import time
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from whatcounts_provider.testing.emulator.api import (
    DATE_FORMAT,
    REALM_ID,
    Endpoint,
    naive_whatcounts_phone,
)

if TYPE_CHECKING:
    from collections.abc import Iterable


class NoAnswer(enum.Enum):
    """Why an API request got no answer (a fault did it)."""

    DROPPED = "dropped"  # connection closed before acting
    DROPPED_AFTER_ACT = "dropped_after_act"  # the stop happened, its answer was lost
    HUNG = "hung"  # held until the emulator stopped


class RequestRecord(NamedTuple):
    """One API request as the emulator saw it; ``status`` is None when no answer was sent."""

    timestamp: float  # time.monotonic()
    method: str
    endpoint: Endpoint  # a str: compares equal to "stop", "lists" or "unknown"
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
            # The counters, each under its own name.
            self.requests_total = 0  # API requests, answered or not (never the admin API)
            self.connections = 0  # TCP connections accepted, admin API included
            self.dropped = 0  # closed before acting: NoAnswer.DROPPED
            self.dropped_after_act = 0  # acted, answer lost: NoAnswer.DROPPED_AFTER_ACT
            self.by_status: Counter[int] = Counter()
            self.by_endpoint: Counter[Endpoint] = Counter()
            #: Stop POSTs per (sender code, phone), whatever became of them: retries show here.
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
            phone = naive_whatcounts_phone(item)
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
            return naive_whatcounts_phone(phone) in self.subscriptions.get(sender_code, ())

    def is_stopped(self, sender_code: str, phone: str | int) -> bool:
        with self._lock:
            return naive_whatcounts_phone(phone) in self.stopped.get(sender_code, {})

    def post_count(self, sender_code: str, phone: str | int) -> int:
        """How many stop POSTs arrived for this phone, whatever became of them (retries count)."""
        with self._lock:
            return self.posts[sender_code, naive_whatcounts_phone(phone) or str(phone)]

    def stop(self, sender_code: str, phone: str) -> dict[str, Any] | None:
        """End the subscription and return WhatCounts' record of it; None if there was none."""
        with self._lock:
            subscribed = self.subscriptions.get(sender_code, set())
            if phone not in subscribed:
                return None
            subscribed.discard(phone)
            now = datetime.now().strftime(DATE_FORMAT)
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

    def connection_opened(self) -> None:
        with self._lock:
            self.connections += 1

    def record(
        self, method: str, endpoint: Endpoint, sender: str | None, phone: str | None, answer: int | NoAnswer
    ) -> None:
        """Count one API request; called before its answer goes out, so a client never outruns it."""
        status = answer if isinstance(answer, int) else None
        with self._lock:
            self.requests_total += 1
            self.by_endpoint[endpoint] += 1
            if status is not None:
                self.by_status[status] += 1
            elif answer is NoAnswer.DROPPED:
                self.dropped += 1
            elif answer is NoAnswer.DROPPED_AFTER_ACT:
                self.dropped_after_act += 1
            if endpoint is Endpoint.STOP and method == "POST" and sender is not None and phone is not None:
                self.posts[sender, phone] += 1
            if self.record_requests:
                self.requests.append(RequestRecord(time.monotonic(), method, endpoint, sender, phone, status))

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
                    "by_endpoint": {endpoint.value: n for endpoint, n in sorted(self.by_endpoint.items())},
                    "posts": posts,
                    "connections": self.connections,
                    "dropped": self.dropped,
                    "dropped_after_act": self.dropped_after_act,
                },
            }
