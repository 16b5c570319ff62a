"""What the emulator copies of WhatCounts' REST API: paths, media type, answers, its reading of phones."""

from __future__ import annotations

import enum
import re
from http import HTTPStatus
from typing import Any, NamedTuple

API_MEDIA_TYPE = "application/vnd.whatcounts-v1+json"
REALM_ID = 10
HOST = "127.0.0.1"
#: The realm and API password the emulator accepts unless told otherwise (demo, tests, benchmark).
DEMO_CREDENTIALS = ("demo-realm", "demo-password")
DATE_FORMAT = "%b %d, %Y %I:%M:%S %p"
LISTS = [{"listId": 1, "listName": "Newsletter"}, {"listId": 2, "listName": "SMS Alerts"}]
_STOP_PATH = re.compile(r"/rest/sms/stopSubscriberSend/(?P<phone>[^/]*)/(?P<sender>[^/]+)")
_PATH_PHONE = re.compile(r"[0-9]{1,15}")


class Endpoint(str, enum.Enum):
    """The API endpoint a ``/rest/`` path names; ``UNKNOWN`` is answered with a 404."""

    STOP = "stop"
    LISTS = "lists"
    UNKNOWN = "unknown"

    @property
    def method(self) -> str | None:
        """The one HTTP method the endpoint takes; any other gets a 405."""
        return {Endpoint.STOP: "POST", Endpoint.LISTS: "GET"}.get(self)


class ApiCall(NamedTuple):
    """An API path taken apart: the endpoint, and for a stop the sender code and phone as sent."""

    endpoint: Endpoint
    sender: str | None = None
    raw_phone: str | None = None

    @property
    def phone(self) -> str | None:
        return naive_whatcounts_phone(self.raw_phone) if self.raw_phone is not None else None


class Reply(NamedTuple):
    """One answer: status, JSON payload and headers beyond Content-Type and Content-Length."""

    status: int
    payload: Any
    headers: dict[str, str]


def parse_api_path(path: str) -> ApiCall:
    if path == "/rest/lists":
        return ApiCall(Endpoint.LISTS)
    match = _STOP_PATH.fullmatch(path)
    if match is None:
        return ApiCall(Endpoint.UNKNOWN)
    return ApiCall(Endpoint.STOP, match["sender"], match["phone"])


def naive_whatcounts_phone(phone: str | int | None) -> str | None:
    """A phone as WhatCounts reads it from a URL path: 1-15 ASCII digits, 10 digits gaining a leading 1.

    Deliberately naive, and deliberately not :mod:`whatcounts_provider.phone`: the emulator is the
    second opinion on what the provider sends. Sharing the provider's normaliser would make it
    accept whatever that normaliser gets wrong (a ``+``, dashes, a non-ASCII digit) instead of
    answering 400 the way WhatCounts does. None when WhatCounts would not take it as a phone.
    """
    text = str(phone)
    if not _PATH_PHONE.fullmatch(text):
        return None
    return f"1{text}" if len(text) == 10 else text


def error_reply(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    """WhatCounts' error body."""
    payload = {"error": message, "status": HTTPStatus(status).phrase, "statusCode": status}
    return Reply(status, payload, headers or {})


def not_subscribed_reply(phone: str) -> Reply:
    """The documented answer to a stop for a phone without a subscription (a 500, not an outage)."""
    return error_reply(
        500, f"An error occurred processing STOP sends for phone [{phone}] realmId [{REALM_ID}]"
    )
