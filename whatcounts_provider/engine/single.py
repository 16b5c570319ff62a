"""One phone: the engine on one row, with the single operator's record, log lines and errors."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from whatcounts_provider.deadline import parse_requested_at
from whatcounts_provider.engine.resume import try_receipts
from whatcounts_provider.exceptions import WhatCountsConfigError, WhatCountsError
from whatcounts_provider.phone import mask_phone
from whatcounts_provider.types import Row, StopOutcome, json_safe

if TYPE_CHECKING:
    from whatcounts_provider.engine.resume import TryReceipts
    from whatcounts_provider.hooks.whatcounts import WhatCountsHook
    from whatcounts_provider.receipts import TaskIdentity

default_log = logging.getLogger("whatcounts_provider.engine")


def opt_out_one(
    hook: WhatCountsHook,
    phone: Any,
    sender_code: Any,
    *,
    requested_at: Any = None,
    missing_ok: bool = True,
    receipts_path: Any = None,
    task: TaskIdentity | None = None,
    log: logging.Logger | Any = default_log,
) -> dict[str, Any]:
    """Opt one phone out of one sender code; return ``{phone, sender_code, status, response}``.

    With ``receipts_path``, the receipt is written before this returns or raises (``receipts``
    is then added to the record), and a pair an earlier try of the same DAG run honoured is not
    sent again: its status and WhatCounts record come from that try's receipt.

    :param requested_at: when the opt-out was asked for (ISO-8601, epoch seconds, a datetime).
    :raises InvalidRequestedAtError: ``requested_at`` is unusable; nothing was sent or written.
    :raises InvalidPhoneNumberError, InvalidSenderCodeError: bad input; nothing was sent.
    :raises SmsSubscriberNotFoundError: no subscription, with ``missing_ok=False``.
    :raises WhatCountsError: the stop failed (the receipt says ``failed``).
    """
    when = None if requested_at in (None, "") else parse_requested_at(requested_at)
    row = Row(1, json_safe(phone), phone, sender_code, when)
    with try_receipts(receipts_path, task) as receipts:
        try:
            outcome = hook.stop_row(row, missing_ok=missing_ok, already_done=receipts.done)
        except WhatCountsConfigError:
            raise  # the connection is unusable: nothing about this phone to record
        except WhatCountsError as exc:  # rejected credentials, a cancel
            receipts.add(StopOutcome(row, "failed", error=str(exc)))
            raise
        receipts.add(outcome)
        if outcome.cause is not None:
            raise outcome.cause
        record = _record(outcome, receipts, log)
        if receipts.writer is not None:
            record["receipts"] = receipts.uri
            receipts.close(record)
    return record


def _record(outcome: StopOutcome, receipts: TryReceipts, log: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "phone": outcome.phone,
        "sender_code": outcome.sender_code,
        "status": outcome.status,
        "response": outcome.response,
    }
    phone, code = mask_phone(outcome.phone), outcome.sender_code
    if outcome.status == "already_done":
        assert code is not None
        earlier = receipts.earlier(outcome.phone, code) or {}
        record.update(status=earlier.get("status", "already_done"), response=earlier.get("whatcounts"))
        log.info(
            "SMS to %s from sender code %s was already %s by an earlier try: not sent again",
            phone,
            code,
            record["status"].replace("_", " "),
        )
    elif outcome.status == "stopped":
        log.info("Stopped SMS to %s from sender code %s", phone, code)
    else:
        log.warning(
            "Phone %s has no SMS subscription on sender code %s: nothing to stop (missing_ok=True)",
            phone,
            code,
        )
    return record
