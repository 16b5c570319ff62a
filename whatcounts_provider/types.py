"""Public data types: the resolved connection settings and the outcome of one opt-out.

Both are plain frozen dataclasses, safe to import anywhere (no ``requests``, no Airflow).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: What became of one input of a bulk run.
#: ``stopped``: WhatCounts confirmed the stop. ``not_subscribed``: WhatCounts says the phone has
#: no subscription on that sender code (so it no longer texts it). ``invalid``: bad phone or
#: sender code, never sent. ``failed``: no final answer after the retries, or an API error.
#: ``duplicate``: the same (phone, sender code) pair as an earlier input, not sent again.
#: ``already_done``: an earlier try honoured this pair (``already_done=``), not sent.
Status = Literal["stopped", "not_subscribed", "invalid", "failed", "duplicate", "already_done"]

DEFAULT_API_VERSION = "v1"
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 5
DEFAULT_REGION = "US"
DEFAULT_RETRY_BACKOFF_INITIAL = 0.5
DEFAULT_RETRY_BACKOFF_MAX = 30.0
DEFAULT_RETRY_AFTER_MAX = 60.0

# Longest text kept from a non-JSON input (its repr); a phone cell is never near this long.
_INPUT_REPR_LIMIT = 200
# Deeper structures (and cycles) become their repr: json.dumps must never recurse forever.
_MAX_DEPTH = 32


@dataclass(frozen=True)
class WhatCountsSettings:
    """Everything the hook needs to talk to one WhatCounts realm (``WhatCountsHook.settings``)."""

    conn_id: str
    base_url: str
    realm: str
    password: str = field(repr=False)
    api_version: str = DEFAULT_API_VERSION
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    default_region: str = DEFAULT_REGION
    verify: bool | str = True
    #: First backoff in seconds; doubles per attempt up to ``retry_backoff_max``, plus jitter.
    retry_backoff_initial: float = DEFAULT_RETRY_BACKOFF_INITIAL
    retry_backoff_max: float = DEFAULT_RETRY_BACKOFF_MAX
    #: A ``Retry-After`` longer than this many seconds is capped (and the cap logged).
    retry_after_max: float = DEFAULT_RETRY_AFTER_MAX
    #: The ``x-api-key`` header value (Base64 of ``apiClientName:apiClientAuth``), or None.
    api_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class StopOutcome:
    """What happened to one input of a bulk run (or to the one phone of a single stop).

    :param phone: the normalised phone (``12065959696``), or ``None`` when the phone was invalid.
        (``stop_sms_subscribers`` keeps its older form: the input as given for ``invalid``.)
    :param status: see :data:`Status`.
    :param error: why it is ``invalid`` or ``failed``; phones masked, no secrets.
    :param response: WhatCounts' JSON record for ``stopped``, else ``None``.
    :param index: the input's 0-based position in what was given.
    :param input: the phone as given, made JSON-safe (see :func:`json_safe`).
    :param sender_code: the validated sender code, or ``None`` when it was invalid.
    :param attempts: HTTP requests sent for this input, retries included (0 if never sent).
    :param permanent: for ``failed``: WhatCounts' answer is final (no subscription with
        ``missing_ok=False``), so a task retry would get the same answer.
    """

    phone: Any
    status: Status
    error: str | None = None
    response: dict[str, Any] | None = None
    index: int = 0
    input: Any = None
    sender_code: str | None = None
    attempts: int = 0
    permanent: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The outcome as a JSON-safe dict (for receipts and XCom)."""
        return {
            "index": self.index,
            "input": self.input,
            "phone": self.phone,
            "sender_code": self.sender_code,
            "status": self.status,
            "error": self.error,
            "response": self.response,
            "attempts": self.attempts,
        }


def json_safe(value: Any, _depth: int = 0) -> Any:
    """``value`` as something ``json.dumps`` always accepts, keeping JSON's own types as they are.

    Mappings become dicts (non-text keys as their ``repr``), lists and tuples become lists,
    ``None``/bools/ints/finite floats/text stay; anything else (bytes, sets, NaN, objects, and
    structures nested deeper than 32 levels, cycles included) becomes its ``repr``.
    """
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if _depth < _MAX_DEPTH:
        if isinstance(value, Mapping):
            return {
                (key if isinstance(key, str) else repr(key)): json_safe(item, _depth + 1)
                for key, item in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [json_safe(item, _depth + 1) for item in value]
    return _repr(value)


def _repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break the record
        return f"<{type(value).__name__} (repr failed: {type(exc).__name__})>"
    return text if len(text) <= _INPUT_REPR_LIMIT else text[: _INPUT_REPR_LIMIT - 1] + "…"
