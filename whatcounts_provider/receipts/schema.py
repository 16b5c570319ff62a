"""What one receipt line holds, and the one mapping from an outcome to it."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from whatcounts_provider.deadline import (
    DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS,
    business_days_to_honour,
    is_late,
    parse_requested_at,
)
from whatcounts_provider.types import HONOURED_STATUSES, NO_MESSAGE, RECEIPT_STATUSES, json_safe

if TYPE_CHECKING:
    from collections.abc import Mapping

    from whatcounts_provider.receipts.layout import TaskIdentity
    from whatcounts_provider.types import StopOutcome

RECEIPT_KEYS: tuple[str, ...] = (
    "row",
    "input",
    "phone",
    "sender_code",
    "requested_sender_code",
    "scope",
    "status",
    "error",
    "message",
    "message_id",
    "reply_decision",
    "reply_reason",
    "whatcounts",
    "requested_at",
    "processed_at",
    "business_days_to_honour",
    "attempts",
    "earlier_try_cut_short",
    "dag_id",
    "run_id",
    "task_id",
    "map_index",
    "try_number",
    "provider_version",
)
"""The keys of every receipt line, in the order they are written."""

#: What the writer adds to each line: the time, the deadline count and the task identity.
_WRITER_KEYS = frozenset(
    {
        "processed_at",
        "business_days_to_honour",
        "dag_id",
        "run_id",
        "task_id",
        "map_index",
        "try_number",
        "provider_version",
    }
)
#: What the caller gives per input: every other key.
FIELD_KEYS = frozenset(RECEIPT_KEYS) - _WRITER_KEYS
_REQUIRED_FIELD_KEYS = frozenset({"row", "input", "status"})


def iso(moment: datetime) -> str:
    """An aware time as ISO-8601 UTC with microseconds: how receipts and summaries write times."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def outcome_fields(outcome: StopOutcome) -> dict[str, Any] | None:
    """The receipt fields of one outcome; ``None`` for ``already_done`` (an earlier receipt covers it)."""
    if outcome.status == "already_done":
        return None
    row = outcome.row
    reply = row.reply
    return {
        "row": row.row,
        "input": row.input,
        "phone": outcome.phone,
        "sender_code": outcome.sender_code,
        "requested_sender_code": json_safe(row.sender_code),
        "scope": row.scope,
        "status": outcome.status,
        "error": outcome.error,
        "message": None if row.message is NO_MESSAGE else json_safe(row.message),
        "message_id": row.message_id,
        "reply_decision": None if reply is None else reply.decision,
        "reply_reason": None if reply is None else reply.reason,
        "whatcounts": outcome.response,
        "requested_at": row.requested_at,
        "attempts": outcome.attempts,
    }


def build_receipt(
    fields: Mapping[str, Any], identity: TaskIdentity, processed_at: datetime, provider_version: str
) -> dict[str, Any]:
    """The whole receipt line for ``fields`` (see ``ReceiptWriter.add``), processed at ``processed_at``.

    :raises ValueError: unknown or missing fields, or a status no receipt may carry.
    """
    unknown = set(fields) - FIELD_KEYS
    if unknown:
        raise ValueError(f"unknown receipt fields {sorted(unknown)}; allowed: {sorted(FIELD_KEYS)}")
    missing = _REQUIRED_FIELD_KEYS - set(fields)
    if missing:
        raise ValueError(f"receipt fields {sorted(missing)} are required")
    status = fields["status"]
    if status not in RECEIPT_STATUSES:
        raise ValueError(f"receipt status {status!r} is not one of {sorted(RECEIPT_STATUSES)}")
    raw_requested = fields.get("requested_at")
    requested_at = None if raw_requested is None else parse_requested_at(raw_requested)
    days = None
    if requested_at is not None and status in HONOURED_STATUSES:
        days = business_days_to_honour(requested_at, processed_at)
    return {
        "row": fields["row"],
        "input": fields["input"],
        "phone": fields.get("phone"),
        "sender_code": fields.get("sender_code"),
        "requested_sender_code": fields.get("requested_sender_code"),
        "scope": fields.get("scope"),
        "status": status,
        "error": fields.get("error"),
        "message": fields.get("message"),
        "message_id": fields.get("message_id"),
        "reply_decision": fields.get("reply_decision"),
        "reply_reason": fields.get("reply_reason"),
        "whatcounts": fields.get("whatcounts"),
        "requested_at": None if requested_at is None else iso(requested_at),
        "processed_at": iso(processed_at),
        "business_days_to_honour": days,
        "attempts": int(fields.get("attempts") or 0),
        "earlier_try_cut_short": fields.get("earlier_try_cut_short"),
        "dag_id": identity.dag_id,
        "run_id": identity.run_id,
        "task_id": identity.task_id,
        "map_index": identity.map_index,
        "try_number": identity.try_number,
        "provider_version": provider_version,
    }


def receipt_is_late(
    receipt: Mapping[str, Any], honour_within_business_days: int = DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS
) -> bool:
    """``deadline.is_late`` for a written receipt line (its ``status``, ``requested_at`` and
    ``processed_at``)."""
    requested = receipt.get("requested_at")
    return is_late(
        str(receipt["status"]),
        None if requested is None else parse_requested_at(requested),
        parse_requested_at(receipt["processed_at"]),
        honour_within_business_days,
    )


def _json_default(value: object) -> object:
    # Evidence must never fail to serialise: inputs come from users' files and XComs.
    if isinstance(value, datetime):
        return iso(value) if value.tzinfo else value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default)


def dumps_line(receipt: Mapping[str, Any]) -> str:
    """One receipt as a JSON line."""
    return _ENCODER.encode(receipt) + "\n"


def dumps_document(document: Mapping[str, Any]) -> bytes:
    """A summary (or any other JSON document of the receipts folder), readable by a person."""
    return json.dumps(document, ensure_ascii=False, indent=1, default=_json_default).encode("utf-8")
