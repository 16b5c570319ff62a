"""What ``StopSmsSubscriberOperator.execute`` does: one stop, its log line and its receipt."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whatcounts_provider.deadline import parse_requested_at
from whatcounts_provider.exceptions import (
    InvalidPhoneNumberError,
    InvalidSenderCodeError,
    WhatCountsConfigError,
    WhatCountsError,
)
from whatcounts_provider.operators._bulk_run import receipts_for
from whatcounts_provider.phone import mask_phone
from whatcounts_provider.types import json_safe

if TYPE_CHECKING:
    from whatcounts_provider._compat import Context
    from whatcounts_provider.operators.sms import StopSmsSubscriberOperator
    from whatcounts_provider.receipts import ReceiptWriter


def stop_one(op: StopSmsSubscriberOperator, context: Context) -> dict[str, Any]:
    """Stop ``op.phone`` on ``op.sender_code``; with receipts on, write its receipt first."""
    requested_at = None if op.requested_at in (None, "") else parse_requested_at(op.requested_at)
    with receipts_for(op.receipts_path, context) as (writer, done, folder):
        try:
            outcome = op.hook.stop_sms_subscriber_outcome(
                op.phone, op.sender_code, missing_ok=op.missing_ok, already_done=done
            )
        except WhatCountsConfigError as exc:
            if isinstance(exc, (InvalidPhoneNumberError, InvalidSenderCodeError)):
                _receipt(writer, op, "invalid", str(exc), requested_at)
            raise
        except WhatCountsError as exc:
            _receipt(writer, op, "failed", str(exc), requested_at)
            raise
        record: dict[str, Any] = {
            "phone": outcome.phone,
            "sender_code": outcome.sender_code,
            "status": outcome.status,
            "response": outcome.response,
        }
        if outcome.status == "already_done":
            record.update(_earlier(folder, outcome.phone, outcome.sender_code))
            op.log.info(
                "SMS to %s from sender code %s was already %s by an earlier try: not sent again",
                mask_phone(outcome.phone),
                outcome.sender_code,
                record["status"].replace("_", " "),
            )
        else:
            _receipt(writer, op, outcome.status, None, requested_at, outcome=outcome)
            _log(op, record)
        if writer is not None:
            record["receipts"] = folder
            writer.close(record)
    return record


def _receipt(
    writer: ReceiptWriter | None,
    op: StopSmsSubscriberOperator,
    status: str,
    error: str | None,
    requested_at: Any,
    *,
    outcome: Any = None,
) -> None:
    if writer is None:
        return
    writer.add(
        {
            "row": 1,
            "input": json_safe(op.phone),
            "phone": None if outcome is None else outcome.phone,
            "sender_code": None if outcome is None else outcome.sender_code,
            "status": status,
            "error": error,
            "whatcounts": None if outcome is None else outcome.response,
            "requested_at": requested_at,
            "attempts": 0 if outcome is None else outcome.attempts,
        }
    )


def _earlier(folder: str | None, phone: str, code: str | None) -> dict[str, Any]:
    """The status and WhatCounts record of the final receipt an earlier try wrote for the pair."""
    from whatcounts_provider.receipts import FINAL_STATUSES, iter_receipts

    for receipt in iter_receipts(folder):
        if (receipt["phone"], receipt["sender_code"]) == (phone, code) and receipt[
            "status"
        ] in FINAL_STATUSES:
            return {"status": receipt["status"], "response": receipt["whatcounts"]}
    return {}  # pragma: no cover - the hook only reports already_done for pairs found there


def _log(op: StopSmsSubscriberOperator, record: dict[str, Any]) -> None:
    phone, code = mask_phone(record["phone"]), record["sender_code"]
    if record["status"] == "stopped":
        op.log.info("Stopped SMS to %s from sender code %s", phone, code)
    else:
        op.log.warning(
            "Phone %s has no SMS subscription on sender code %s: nothing to stop (missing_ok=True)",
            phone,
            code,
        )
