"""The provider's vocabulary: statuses, one input row, the outcome of one opt-out, the settings.

Safe to import anywhere: no ``requests``, no Airflow. Every other module takes these names from
here; none defines a status, a status set or a settings default of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from datetime import datetime

    from whatcounts_provider.exceptions import WhatCountsError
    from whatcounts_provider.replies import ReplyDecision

#: What became of one input.
#: ``stopped``: WhatCounts confirmed the stop. ``not_subscribed``: WhatCounts says the phone has
#: no subscription on that sender code (so it no longer texts it). ``invalid``: bad phone, sender
#: code or row, never sent. ``failed``: no final answer after the retries, or an API error.
#: ``duplicate``: the same (phone, sender code) pair as an earlier input, not sent again.
#: ``already_done``: an earlier try of the task instance honoured this pair, not sent.
#: ``not_opt_out``: the row's reply is not an opt-out (``replies.classify_reply``), not sent.
#: ``needs_review``: the reply is ambiguous and the run holds those for a person
#: (``ambiguous="review"``), not sent.
Status = Literal[
    "stopped",
    "not_subscribed",
    "invalid",
    "failed",
    "duplicate",
    "already_done",
    "not_opt_out",
    "needs_review",
]

#: WhatCounts' final answers: either way that sender code no longer texts the phone. A pair with
#: one of these in its receipts is not sent again by a later try of the same DAG run.
HONOURED_STATUSES: frozenset[Status] = frozenset({"stopped", "not_subscribed"})
#: Statuses whose timing counts against the deadline: honoured, still failing, or held for review.
DEADLINE_STATUSES: frozenset[Status] = HONOURED_STATUSES | {"failed", "needs_review"}
#: Statuses a receipt may carry: every status but ``already_done`` (an earlier receipt covers it).
RECEIPT_STATUSES: frozenset[Status] = frozenset(
    {"stopped", "not_subscribed", "invalid", "failed", "duplicate", "not_opt_out", "needs_review"}
)
#: Statuses decided before any phone is sent: the row's reply says not to send it (yet).
HELD_STATUSES: frozenset[Status] = frozenset({"not_opt_out", "needs_review"})

#: ``scope`` of an opt-out: the sender code the request names, or every code of the account
#: (the FCC's revoke-all rule, in force from 2027-01-31).
Scope = Literal["sender_code", "all"]
SCOPES: tuple[Scope, ...] = ("sender_code", "all")
#: What the bulk operator does with an ``ambiguous`` reply: send it as an opt-out, or hold it.
AmbiguousPolicy = Literal["opt_out", "review"]
AMBIGUOUS_POLICIES: tuple[AmbiguousPolicy, ...] = ("opt_out", "review")


class _NoMessage:
    """The ``message`` of a row whose input has no message key or column (not even a null one)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_MESSAGE"

    def __reduce__(self) -> str:
        return "NO_MESSAGE"


#: A row without a message: an opt-out request as it stands, never classified.
NO_MESSAGE: Any = _NoMessage()

# Settings defaults: the hook falls back to these, and the connection form shows them.
DEFAULT_API_VERSION = "v1"
DEFAULT_CONNECT_TIMEOUT: float = 10
DEFAULT_READ_TIMEOUT: float = 30
DEFAULT_MAX_RETRIES = 5
DEFAULT_REGION = "US"
DEFAULT_VERIFY: bool | str = True
DEFAULT_RETRY_BACKOFF_INITIAL = 0.5
DEFAULT_RETRY_BACKOFF_MAX: float = 30
DEFAULT_RETRY_AFTER_MAX: float = 60
# The circuit breaker opens after this many failed attempts in a row, spread over at least this
# many seconds: 20 is over three pairs' whole retry budget, 60 s outlasts a blip of fast workers.
DEFAULT_BREAKER_FAILURES = 20
DEFAULT_BREAKER_SECONDS: float = 60

#: The hook's keyword settings (``WhatCountsHook(timeout=...)``, the operators' ``hook_params``);
#: each overrides the connection extra of the same name.
HOOK_SETTINGS = (
    "timeout",
    "max_retries",
    "retry_backoff_initial",
    "retry_backoff_max",
    "retry_after_max",
    "breaker_failures",
    "breaker_seconds",
)

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
    verify: bool | str = DEFAULT_VERIFY
    #: First backoff in seconds; doubles per attempt up to ``retry_backoff_max``, plus jitter.
    retry_backoff_initial: float = DEFAULT_RETRY_BACKOFF_INITIAL
    retry_backoff_max: float = DEFAULT_RETRY_BACKOFF_MAX
    #: A ``Retry-After`` longer than this many seconds is capped (and the cap logged).
    retry_after_max: float = DEFAULT_RETRY_AFTER_MAX
    #: Failed attempts in a row, across the run's threads, that open the circuit breaker (0: never).
    breaker_failures: int = DEFAULT_BREAKER_FAILURES
    #: ... provided the first of them was at least this many seconds ago.
    breaker_seconds: float = DEFAULT_BREAKER_SECONDS
    #: The ``x-api-key`` header value (Base64 of ``apiClientName:apiClientAuth``), or None.
    api_key: str | None = field(default=None, repr=False)
    #: Every SMS sender code of the account (extra ``sender_codes``), validated, in the order
    #: given, without repeats; empty when not configured. Revoke-all stops a phone on all of them.
    sender_codes: tuple[str, ...] = ()


class Row(NamedTuple):
    """One input, carried unchanged from where it was read to its outcome and its receipt.

    A named tuple: cheap for the millions of rows of a large file. The inputs fill the fields up
    to ``message``; the engine then adds what the row asks for (``reply``, ``hold``, ``codes``).

    :param row: 1-based position in the input (for a file: among its records, header excluded).
    :param input: the row as given, JSON-safe (see :func:`json_safe`): the receipt's ``input``.
    :param phone: the phone as given (not yet validated).
    :param sender_code: the sender code as given (the request's code), or the default that
        applies to the row.
    :param requested_at: when the opt-out was requested (aware UTC), or ``None``.
    :param error: why the row is invalid before its phone is even looked at (no phone, not a
        mapping, a bad ``requested_at``...), or ``None``. Such a row is never sent.
    :param message: the reply as given, or :data:`NO_MESSAGE` when the input has no message.
    :param reply: the reply's classification (``replies.ReplyDecision``), or ``None``.
    :param hold: ``not_opt_out`` or ``needs_review`` when the reply says not to send, else ``None``.
    :param codes: the account's sender codes to stop the phone on (validated), when the engine
        resolved them (scope, the account's ``sender_codes``); empty: ``sender_code`` as given.
    :param code_error: why the requested code is not one of the account's: the row is
        ``invalid`` (with ``scope="all"``, its other pairs are still stopped, and this one is
        reported ``invalid``).
    :param scope: ``sender_code`` or ``all`` (see :data:`Scope`).
    :param message_id: the id of the message or record that asked for the opt-out (a queue's
        message id), as text, or ``None``: the receipt's ``message_id``.
    """

    row: int
    input: Any
    phone: Any
    sender_code: Any
    requested_at: datetime | None = None
    error: str | None = None
    message: Any = NO_MESSAGE
    reply: ReplyDecision | None = None
    hold: Status | None = None
    codes: tuple[str, ...] = ()
    code_error: str | None = None
    scope: Scope = "sender_code"
    message_id: str | None = None


@dataclass(frozen=True)
class StopOutcome:
    """What happened to one input row.

    :param row: the input, as read (:class:`Row`).
    :param status: see :data:`Status`.
    :param phone: the normalised phone (``12065959696``), or ``None`` when it was invalid.
        (``stop_sms_subscribers`` keeps its older form: the input as given for ``invalid``.)
    :param sender_code: the validated sender code, or ``None`` when it was invalid.
    :param error: why it is ``invalid`` or ``failed``; phones masked, no secrets.
    :param response: WhatCounts' JSON record for ``stopped``, else ``None``.
    :param attempts: HTTP requests sent for this input, retries included (0 if never sent).
    :param permanent: for ``failed``: WhatCounts' answer is final (no subscription with
        ``missing_ok=False``), so a task retry would get the same answer.
    :param cause: the exception behind ``invalid`` or ``failed``, when there was one (the
        single-phone paths raise it); never serialised.
    :param fanout: which of the row's pairs this is (0: the first, or the only one); a row
        stopped on several sender codes (``scope="all"``) has one outcome per code.
    :param of: how many outcomes the row has in all (so that whoever waits for a whole row, such
        as a queue acknowledging its message, knows when it has them all).
    """

    row: Row
    status: Status
    phone: Any = None
    sender_code: str | None = None
    error: str | None = None
    response: dict[str, Any] | None = None
    attempts: int = 0
    permanent: bool = False
    cause: WhatCountsError | None = field(default=None, repr=False, compare=False)
    fanout: int = 0
    of: int = 1

    @property
    def index(self) -> int:
        """The input's 0-based position in what was given."""
        return self.row.row - 1

    @property
    def input(self) -> Any:
        """The input as given, JSON-safe."""
        return self.row.input

    def as_dict(self) -> dict[str, Any]:
        """The outcome as a JSON-safe dict (for XCom)."""
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
