"""A bulk run: rows in, one outcome per row, receipts written, the record out.

The run stops early only for what would make every other row fail alike (rejected credentials,
an unusable connection or source, a cancel): it then hands its record, with ``error`` saying why,
to ``push`` before it raises, so that a scaled-out run's merge step names the chunk and the reason.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from whatcounts_provider.deadline import is_late, utc_now
from whatcounts_provider.engine.intent import Intent
from whatcounts_provider.engine.options import NOT_SUBSCRIBED_GUARD_MIN, OptOutOptions
from whatcounts_provider.engine.progress import Progress
from whatcounts_provider.engine.record import BulkSummary
from whatcounts_provider.engine.resume import try_receipts
from whatcounts_provider.exceptions import WhatCountsBulkError, WhatCountsError, WhatCountsInvalidInputsError
from whatcounts_provider.phone import validate_sender_code
from whatcounts_provider.types import DEADLINE_STATUSES

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from whatcounts_provider.hooks.whatcounts import WhatCountsHook
    from whatcounts_provider.inputs import RowSource
    from whatcounts_provider.receipts import TaskIdentity
    from whatcounts_provider.types import StopOutcome

default_log = logging.getLogger("whatcounts_provider.engine")


def run_opt_outs(
    hook: WhatCountsHook,
    inputs: RowSource,
    *,
    receipts_path: Any = None,
    task: TaskIdentity | None = None,
    options: OptOutOptions | None = None,
    push: Callable[[dict[str, Any]], object] | None = None,
    log: logging.Logger | Any = default_log,
    clock: Callable[[], datetime] = utc_now,
    on_receipted: Callable[[list[StopOutcome]], object] | None = None,
) -> dict[str, Any]:
    """Opt out every (phone, sender code) pair of ``inputs``; return the bulk record.

    Each row's reply, when the input carries replies, is classified first (``not_opt_out`` rows
    are not sent); each row is then stopped on the sender code it names, or on every code of the
    account (``options.scope="all"``). Every valid pair is sent once; invalid inputs never stop
    the run. With ``receipts_path``,
    one receipt per input is written into the task instance's folder, and pairs that an earlier
    try of the same DAG run honoured are not sent again.

    :param hook: the connection to send through (its settings: timeouts, retries).
    :param inputs: what to read (:class:`~whatcounts_provider.inputs.Inputs`, or any
        :class:`~whatcounts_provider.inputs.RowSource`).
    :param receipts_path: where receipts go (path, fsspec URI or ``ObjectStoragePath``); ``None``: off.
    :param task: who writes the receipts (``TaskIdentity.from_context(context)``); needed with
        ``receipts_path``.
    :param options: workers, rate cap, ``missing_ok``, deadline (:class:`OptOutOptions`).
    :param push: called with the record before the run raises (the operators push it to XCom).
    :param log: where the summary lines go.
    :param clock: the current aware UTC time (for ``late``).
    :param on_receipted: given each outcome once its receipt is on storage (in batches, in the
        order written, possibly from the receipt writer's thread): the queue path acknowledges
        a message only then. Without ``receipts_path``, each outcome as it comes.
    :raises WhatCountsBulkError: some pairs failed in a way a task retry may fix (the record is
        the exception's ``summary``).
    :raises WhatCountsInvalidInputsError: only invalid inputs, replies held for review, a sender
        code with 20 or more pairs all "not subscribed" (unless ``expect_not_subscribed``), or
        WhatCounts' final "no subscription" with ``missing_ok=False``, are left: no retry would help.
    :raises WhatCountsError: the run stopped early (the record, with ``error``, went to ``push``).
    """
    options = options or OptOutOptions()
    summary = BulkSummary(form=inputs.form, sender_code=inputs.sender_code, source=inputs.source_display)
    try:
        intent = Intent(
            scope=options.scope,
            account_codes=hook.settings.sender_codes,
            ambiguous=options.ambiguous,
            classifier=options.classifier,
            conn_id=hook.whatcounts_conn_id,
        )
        if intent.scope == "all":
            summary.cover(intent.account_codes)
        if inputs.sender_code is not None:
            # The operator's own sender code is configuration, not one row's data: a bad one would
            # make every row invalid, so it fails before any input is read.
            summary.sender_code = validate_sender_code(inputs.sender_code)
        with inputs.open() as stream, try_receipts(receipts_path, task, on_receipted) as receipts:
            summary.source = stream.uri
            summary.receipts = receipts.uri
            summary.earlier, summary.cut_short = receipts.done, receipts.cut_short
            outcomes = hook.stop_sms_rows(
                intent.rows(stream),
                max_workers=options.max_workers,
                max_requests_per_second=options.max_requests_per_second,
                missing_ok=options.missing_ok,
                already_done=receipts.done,
            )
            progress = Progress(stream.total, log)
            for outcome in outcomes:
                summary.add(outcome, late=_late(outcome, options, clock))
                receipts.add(outcome)
                progress.tick(summary.total)
            progress.finish(summary.total)
            record = summary.record(retries=hook.retries)
            receipts.close(record)
    except WhatCountsError as exc:
        summary.error = f"{type(exc).__name__}: {exc}"
        if push is not None:
            push(summary.record(retries=hook.retries))
        log.error("The run stopped early after %d input(s): %s", summary.total, summary.error)
        raise
    _log_summary(summary, record, options, log)
    suspects = [] if options.expect_not_subscribed else _codes_nobody_is_subscribed_to(record)
    if record["failed"] or record["invalid"] or record["needs_review"] or suspects:
        if push is not None:
            push(record)
        raise _problem(record, summary.retryable_failures, suspects, log)
    return record


def _late(outcome: StopOutcome, options: OptOutOptions, clock: Callable[[], datetime]) -> bool:
    requested_at = outcome.row.requested_at
    if requested_at is None or outcome.status not in DEADLINE_STATUSES:
        return False
    return is_late(outcome.status, requested_at, clock(), options.honour_within_business_days)


def _codes_nobody_is_subscribed_to(record: dict[str, Any]) -> list[str]:
    """Sender codes with at least 20 pairs sent and every one answered "not subscribed"."""
    return [
        code
        for code, counts in record["by_sender_code"].items()
        if counts["not_subscribed"] >= NOT_SUBSCRIBED_GUARD_MIN
        and not counts["stopped"]
        and not counts["failed"]
    ]


def _problem(
    record: dict[str, Any], retryable_failures: int, suspects: list[str], log: Any
) -> WhatCountsBulkError:
    failed, invalid, held = len(record["failed"]), len(record["invalid"]), len(record["needs_review"])
    parts = [f"{failed} pair(s) failed and {invalid} input(s) were invalid out of {record['total']}"]
    if held:
        parts.append(
            f"{held} ambiguous reply(ies) await review (ambiguous='review'): nothing was sent for them"
        )
    for code in suspects:
        count = record["by_sender_code"][code]["not_subscribed"]
        problem = (
            f"all {count} pairs sent to sender code {code!r} came back 'not subscribed': WhatCounts answers "
            "a sender code it does not know exactly so, so the code is likely not the account's form "
            "(e.g. 2065551212, not 12065551212 or +12065551212; list the account's codes in the "
            "connection's sender_codes extra to have long-code forms mapped); if this is expected, "
            "set expect_not_subscribed=True"
        )
        log.error("%s", problem)
        parts.append(problem)
    message = (
        "; ".join(parts)
        + "; every other input was processed. See the XCom record"
        + (f" and the receipts in {record['receipts']}." if record["receipts"] else ".")
    )
    # Transient failures may pass on a retry; invalid inputs, replies held for review, a sender
    # code nobody is subscribed to and WhatCounts' final "no subscription" (missing_ok=False)
    # never will: spend no retry on those alone.
    error = WhatCountsBulkError if retryable_failures else WhatCountsInvalidInputsError
    return error(message, summary=record)


def _log_summary(summary: BulkSummary, record: dict[str, Any], options: OptOutOptions, log: Any) -> None:
    for line in summary.log_lines():
        log.info("%s", line)
    if summary.late:
        log.warning(
            "%d pair(s) were honoured, or are still failing, more than %d business days after the "
            "opt-out was requested, e.g. %s",
            summary.late,
            options.honour_within_business_days,
            ", ".join(summary.late_examples),
        )
    log.info("Retries during this run: %d", record["retries"])
