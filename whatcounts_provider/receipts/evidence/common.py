"""What both reports read from a receipt: its times, its outcome in plain words, WhatCounts' ids.

One place says what each status means to a reader, so that the phone page and the period report
never word the same receipt two ways (point 7 of "Proof on demand": a ``not_subscribed`` receipt
written after an earlier try was cut short is never shown as plain "not subscribed").
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from whatcounts_provider.deadline import parse_requested_at
from whatcounts_provider.receipts.schema import iso

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Version of both JSON documents' layout: bumped when a key changes meaning or goes away.
FORMAT_VERSION = 1
#: The ids of WhatCounts' record a dispute asks for, in the order they are shown.
RECORD_ID_KEYS = ("id", "smsSubscriberId", "smsSenderId")
#: Longest message text kept in a document: replies are user input, and a report lists hundreds.
MESSAGE_LIMIT = 1000

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)

_MEANINGS = {
    "stopped": "Stopped: WhatCounts confirmed the opt-out, so sender code {code} no longer texts this phone.",
    "not_subscribed": (
        "Not subscribed: WhatCounts holds no subscription of this phone on sender code {code}, so that "
        "code no longer texts it. The opt-out is honoured either way."
    ),
    "failed": "Failed: no final answer from WhatCounts{error}. This attempt did NOT confirm the opt-out.",
    "needs_review": (
        "Held for review: the reply is ambiguous and the run holds such replies for a person; "
        "nothing was sent."
    ),
    "not_opt_out": "Not an opt-out: the reply was not read as an opt-out; nothing was sent.",
    "invalid": "Invalid input{error}; nothing was sent.",
    "duplicate": (
        "Duplicate: the same phone and sender code as an earlier input of the run; not sent again "
        "(that input's receipt covers it)."
    ),
}
_CUT_SHORT = (
    "Honoured: most likely honoured by try {earlier} of this DAG run, which was cut short before its "
    "receipts were written, so WhatCounts' answer record was lost. This try ({this}) found no "
    "subscription left (not subscribed): sender code {code} no longer texts this phone."
)
_LABELS = {
    "not_subscribed": "not subscribed",
    "needs_review": "needs review",
    "not_opt_out": "not an opt-out",
}


def aware(value: object, name: str) -> datetime:
    """``value`` as an aware UTC datetime; naive means UTC, as everywhere in the provider.

    :raises TypeError: ``value`` is not a datetime (the message names ``name``).
    """
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def check_limit(honour_within_business_days: object) -> int:
    """The deadline in business days, checked: an int >= 0."""
    limit = honour_within_business_days
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"honour_within_business_days must be an int >= 0, got {limit!r}")
    return limit


def parse_time(value: object, name: str) -> datetime | None:
    """A receipt's time (ISO-8601 as the writer writes it) as aware UTC; None stays None.

    :raises ValueError: the text is not a time (the message names ``name`` and the value).
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:  # the writer's own form, parsed in C: the period report reads millions
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(timezone.utc)
    try:
        return parse_requested_at(value)
    except ValueError:
        raise ValueError(f"receipt {name} {value!r} is not an ISO-8601 time") from None


def micros(moment: datetime) -> int:
    """Microseconds since the epoch: an exact, compact sort key for an aware time."""
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    """The aware UTC time of :func:`micros`."""
    return _EPOCH + value * _MICROSECOND


def iso_text(moment: datetime | None) -> str | None:
    """An aware time as the receipts write it (ISO-8601 UTC, microseconds), or None."""
    return None if moment is None else iso(moment)


def cut_short_try(receipt: Mapping[str, Any]) -> int | None:
    """The earlier try that most likely honoured this pair before it was cut short, or None.

    Only a ``not_subscribed`` receipt carries this context: a ``stopped`` one is its own proof.
    """
    value = receipt.get("earlier_try_cut_short")
    if receipt.get("status") != "not_subscribed" or isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if value >= 1 else None


def status_label(status: object, cut_short: int | None = None) -> str:
    """A status as a reader reads it: ``not subscribed``, or the honoured-by-try context."""
    if cut_short is not None:
        return f"honoured (most likely by try {cut_short}; answer record lost)"
    text = str(status)
    return _LABELS.get(text, text)


def meaning(receipt: Mapping[str, Any]) -> str:
    """One receipt's outcome in a plain sentence (see the module docstring)."""
    status = str(receipt.get("status"))
    code = receipt.get("sender_code") or "(none)"
    earlier = cut_short_try(receipt)
    if earlier is not None:
        return _CUT_SHORT.format(earlier=earlier, this=receipt.get("try_number"), code=code)
    error = receipt.get("error")
    template = _MEANINGS.get(status, "Status {status}.")
    return template.format(code=code, error=f" ({error})" if error else "", status=status)


def record_ids(record: object) -> dict[str, Any] | None:
    """The ids of WhatCounts' record (``id``, ``smsSubscriberId``, ``smsSenderId``) it has, or None."""
    if not isinstance(record, dict):
        return None
    ids = {key: record[key] for key in RECORD_ID_KEYS if record.get(key) is not None}
    return ids or None


def short_message(value: object) -> str | None:
    """A reply's text for a document: None when there is none, else text cut at MESSAGE_LIMIT."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def task_of(receipt: Mapping[str, Any]) -> dict[str, Any]:
    """Which task instance and try wrote the receipt."""
    return {key: receipt.get(key) for key in ("dag_id", "run_id", "task_id", "map_index", "try_number")}
