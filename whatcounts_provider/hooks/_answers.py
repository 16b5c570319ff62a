"""Classify WhatCounts answers: retry, or map to a result or a typed exception.

This module is the only place that looks at an answer's status and body, so the single and bulk
paths behave identically. It works on :class:`Reply`, a small view of an HTTP answer that any
transport can build (``Reply.of`` builds one from a ``requests`` response).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from whatcounts_provider.exceptions import (
    SmsSubscriberNotFoundError,
    WhatCountsApiError,
    WhatCountsAuthError,
)
from whatcounts_provider.hooks._extras import extra_name
from whatcounts_provider.hooks._settings import API_PASSWORD, REALM
from whatcounts_provider.phone import mask_phone

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

# Transient by nature; a plain 500 is transient too unless it is the documented answer below.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# WhatCounts gives no error code for "no subscription": the documented answer is HTTP 500
# with this text (see the API doc "Stop Sending SMS To Contact"). Matched here and nowhere else.
_NO_SUBSCRIPTION = re.compile(r"^An error occurred processing STOP sends for phone \[")
_EXCERPT_LIMIT = 200
_DIGIT_RUN = re.compile(r"\d{7,}")
_BASIC_TOKEN = re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._~-]+")
_TAGS = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Reply:
    """One HTTP answer, as much of it as the provider reads.

    :param status: the HTTP status code.
    :param headers: the answer's headers (case-insensitive lookups are the transport's to offer).
    :param content: the raw body.
    :param url: the URL that was requested (its path holds the phone: never shown unmasked).
    :param encoding: the body's charset from its headers, if any.
    """

    status: int
    headers: Mapping[str, str]
    content: bytes
    url: str = ""
    encoding: str | None = None

    @classmethod
    def of(cls, response: Any) -> Reply:
        """The view of a ``requests.Response``."""
        return cls(response.status_code, response.headers, response.content, response.url, response.encoding)

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding or "utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; raises ``ValueError`` when it is not (json finds UTF-8/16/32 itself)."""
        if self.encoding:
            return json.loads(self.text)
        return json.loads(self.content)


def is_retryable(reply: Reply) -> bool:
    """Whether another attempt may get a different answer."""
    if reply.status == 500:
        return not _is_no_subscription(reply)
    return reply.status in RETRYABLE_STATUSES


def parse_answer(
    reply: Reply,
    *,
    conn_id: str,
    realm: str,
    secrets: Iterable[str],
    gave_up_after: int | None = None,
    api_key_set: bool = False,
) -> Any:
    """Return the JSON body of a 2xx answer; raise the typed exception for anything else.

    :param secrets: strings that must never appear in an exception (password, Basic token).
    :param gave_up_after: the number of attempts, when this answer is the last of exhausted retries.
    :param api_key_set: the connection sends an API client key, which a 401 may be about too.
    """
    status = reply.status
    if 200 <= status < 300:
        try:
            return reply.json()
        except ValueError:
            raise WhatCountsApiError(
                f"expected a JSON answer, got {_content_type(reply)}: {_excerpt(reply.text, secrets)}",
                status_code=status,
            ) from None
    if status in (401, 403):
        raise WhatCountsAuthError(
            rejected_credentials(conn_id, realm, api_key_set=api_key_set), status_code=status
        )
    text = _excerpt(_error_text(reply), secrets)
    if status == 500 and _is_no_subscription(reply):
        raise SmsSubscriberNotFoundError(text, status_code=status)
    if 300 <= status < 400:
        location = sanitize(reply.headers.get("Location", "?"), secrets)  # its path holds the phone
        text = f"unexpected redirect to {location!r}; check the Site URL"
    elif status == 404:
        text = f"{text} (no such endpoint at {_path_of(reply)}; check the Site URL)"
    if gave_up_after and gave_up_after > 1:
        text = f"{text} (gave up after {gave_up_after} attempts)"
    raise WhatCountsApiError(text, status_code=status)


def rejected_credentials(conn_id: str, realm: str, *, api_key_set: bool) -> str:
    """What a 401/403 means, naming every credential the connection sends (never their values)."""
    said = f"WhatCounts rejected the credentials of connection {conn_id!r} (realm {realm!r}); "
    if not api_key_set:
        return f"{said}check {REALM} and {API_PASSWORD}"
    return (
        f"{said}check {REALM}, {API_PASSWORD} and {extra_name('api_key')}, which is set: "
        "WhatCounts refuses a key it does not know as it refuses a wrong password "
        "(leave the key empty unless you use an API Client other than the default one)"
    )


def sanitize(text: str, secrets: Iterable[str] = ()) -> str:
    """Make server- or library-supplied text safe for an exception or a log line.

    Secrets and Authorization tokens are redacted, runs of 7+ digits (phones) masked,
    markup and control characters dropped, and the result cut to a short excerpt.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _BASIC_TOKEN.sub(lambda m: f"{m.group(1)} ***", text)
    text = _DIGIT_RUN.sub(lambda m: mask_phone(m.group()), text)
    text = " ".join(_TAGS.sub(" ", text).split())
    text = "".join(ch for ch in text if ch.isprintable())
    return text if len(text) <= _EXCERPT_LIMIT else text[: _EXCERPT_LIMIT - 1] + "…"


def _excerpt(text: str, secrets: Iterable[str]) -> str:
    return sanitize(text, secrets) or "(empty body)"


def _error_text(reply: Reply) -> str:
    """WhatCounts' own ``error`` text when the body is its JSON error shape, else the raw body."""
    try:
        body = reply.json()
    except ValueError:
        return reply.text
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else reply.text


def _is_no_subscription(reply: Reply) -> bool:
    return bool(_NO_SUBSCRIPTION.match(_error_text(reply)))


def _content_type(reply: Reply) -> str:
    return reply.headers.get("Content-Type", "no content type").split(";")[0]


def _path_of(reply: Reply) -> str:
    path = urlsplit(reply.url).path or "/"
    return _DIGIT_RUN.sub(lambda m: mask_phone(m.group()), path)
