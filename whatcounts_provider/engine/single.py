"""One phone: the engine on one row (one pair, or one per code of the account), with the single
operator's record, log lines and errors."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from whatcounts_provider.deadline import parse_requested_at
from whatcounts_provider.engine.intent import Intent
from whatcounts_provider.engine.resume import try_receipts
from whatcounts_provider.exceptions import WhatCountsConfigError, WhatCountsError
from whatcounts_provider.inputs.form import check_choice
from whatcounts_provider.phone import mask_phone
from whatcounts_provider.types import NO_MESSAGE, SCOPES, Row, Scope, StopOutcome, json_safe

if TYPE_CHECKING:
    from whatcounts_provider.engine.resume import TryReceipts
    from whatcounts_provider.hooks.whatcounts import WhatCountsHook
    from whatcounts_provider.receipts import TaskIdentity
    from whatcounts_provider.replies import ReplyClassifier

default_log = logging.getLogger("whatcounts_provider.engine")


def opt_out_one(
    hook: WhatCountsHook,
    phone: Any,
    sender_code: Any,
    *,
    requested_at: Any = None,
    message: Any = NO_MESSAGE,
    scope: Scope = "sender_code",
    classifier: ReplyClassifier | None = None,
    missing_ok: bool = True,
    receipts_path: Any = None,
    task: TaskIdentity | None = None,
    log: logging.Logger | Any = default_log,
) -> dict[str, Any]:
    """Opt one phone out of one sender code (or all of the account's); return its record.

    The record is ``{phone, sender_code, status, response}``; with a ``message``, also
    ``reply_decision`` and ``reply_reason``; with ``scope="all"``, also ``scope`` and
    ``by_sender_code`` (``{code: {"status", "response"}}``, every code of the account), and
    ``status`` is ``stopped`` if any code was stopped, else ``not_subscribed``.

    With ``receipts_path``, the receipts are written before this returns or raises (``receipts``
    is then added to the record), and a pair an earlier try of the same DAG run honoured is not
    sent again: its status and WhatCounts record come from that try's receipt.

    :param requested_at: when the opt-out was asked for (ISO-8601, epoch seconds, a datetime).
    :param message: the reply, when the opt-out comes from one: a reply that is not an opt-out
        (``replies.classify_reply``) sends nothing and returns ``status: "not_opt_out"``; an
        ambiguous one is sent as an opt-out.
    :param scope: ``"sender_code"`` or ``"all"`` (every code of the connection's ``sender_codes``).
    :param classifier: the reply rules; ``None`` for the default ones.
    :raises InvalidRequestedAtError: ``requested_at`` is unusable; nothing was sent or written.
    :raises WhatCountsConfigError: ``scope`` is not ``"sender_code"`` or ``"all"``, or is
        ``"all"`` without the ``sender_codes`` extra; nothing sent.
    :raises InvalidPhoneNumberError, InvalidSenderCodeError: bad input; nothing was sent for it.
    :raises SmsSubscriberNotFoundError: no subscription, with ``missing_ok=False``.
    :raises WhatCountsError: the stop failed (the receipt says ``failed``).
    """
    check_choice("scope", scope, SCOPES)  # run_opt_outs has OptOutOptions check its own
    when = None if requested_at in (None, "") else parse_requested_at(requested_at)
    intent = Intent(
        scope=scope,
        account_codes=hook.settings.sender_codes,
        classifier=classifier,
        conn_id=hook.whatcounts_conn_id,
    )
    row = intent.apply(Row(1, json_safe(phone), phone, sender_code, when, message=message))
    with try_receipts(receipts_path, task) as receipts:
        try:
            outcomes = hook.stop_row_pairs(row, missing_ok=missing_ok, already_done=receipts.done)
        except WhatCountsConfigError:
            raise  # the connection is unusable: nothing about this phone to record
        except WhatCountsError as exc:  # rejected credentials, a cancel
            receipts.add(StopOutcome(row, "failed", error=str(exc)))
            raise
        for outcome in outcomes:
            receipts.add(outcome)
        problem = next((outcome.cause for outcome in outcomes if outcome.cause is not None), None)
        if problem is not None:
            raise problem
        record = _record(outcomes, receipts, log)
        if receipts.writer is not None:
            record["receipts"] = receipts.uri
            receipts.close(record)
    return record


def _record(outcomes: list[StopOutcome], receipts: TryReceipts, log: Any) -> dict[str, Any]:
    results = [_result(outcome, receipts, log) for outcome in outcomes]
    first, row = results[0], outcomes[0].row
    record: dict[str, Any] = dict(first)
    if row.reply is not None:
        record.update(reply_decision=row.reply.decision, reply_reason=row.reply.reason)
    if row.scope == "all":
        record["scope"] = "all"
        record["sender_code"] = json_safe(row.sender_code)
        record["by_sender_code"] = {
            result["sender_code"]: {"status": result["status"], "response": result["response"]}
            for result in results
        }
        stopped = [result for result in results if result["status"] == "stopped"]
        record["status"] = "stopped" if stopped else first["status"]
        record["response"] = stopped[0]["response"] if stopped else None
    return record


def _result(outcome: StopOutcome, receipts: TryReceipts, log: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "phone": outcome.phone,
        "sender_code": outcome.sender_code,
        "status": outcome.status,
        "response": outcome.response,
    }
    phone, code = mask_phone(outcome.phone), outcome.sender_code
    if outcome.status == "not_opt_out":
        # The reason quotes the reply, which may hold anything (a phone): it stays in the record.
        log.info("The reply from %s is not an opt-out: nothing sent (see the record's reply_reason)", phone)
    elif outcome.status == "already_done":
        assert code is not None
        earlier = receipts.earlier(outcome.phone, code) or {}
        result.update(status=earlier.get("status", "already_done"), response=earlier.get("whatcounts"))
        log.info(
            "SMS to %s from sender code %s was already %s by an earlier try: not sent again",
            phone,
            code,
            result["status"].replace("_", " "),
        )
    elif outcome.status == "stopped":
        log.info("Stopped SMS to %s from sender code %s", phone, code)
    elif outcome.status == "duplicate":
        log.info("SMS to %s from sender code %s: the same pair again, not sent twice", phone, code)
    else:
        log.warning(
            "Phone %s has no SMS subscription on sender code %s: nothing to stop (missing_ok=True)",
            phone,
            code,
        )
    return result
