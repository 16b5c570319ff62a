"""A bulk run: rows in, one outcome per row, receipts written, the record out.

The run stops early only for what would make every other row fail alike (rejected credentials,
an unusable connection or source, a cancel): it then hands its record, with ``error`` saying why,
to ``push`` before it raises, so that a scaled-out run's merge step names the chunk and the reason.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from whatcounts_provider.deadline import is_late, utc_now
from whatcounts_provider.engine.options import OptOutOptions
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
    from whatcounts_provider.inputs import Inputs
    from whatcounts_provider.receipts import TaskIdentity
    from whatcounts_provider.types import StopOutcome

default_log = logging.getLogger("whatcounts_provider.engine")


def run_opt_outs(
    hook: WhatCountsHook,
    inputs: Inputs,
    *,
    receipts_path: Any = None,
    task: TaskIdentity | None = None,
    options: OptOutOptions | None = None,
    push: Callable[[dict[str, Any]], object] | None = None,
    log: logging.Logger | Any = default_log,
    clock: Callable[[], datetime] = utc_now,
) -> dict[str, Any]:
    """Opt out every (phone, sender code) pair of ``inputs``; return the bulk record.

    Every valid pair is sent once; invalid inputs never stop the run. With ``receipts_path``,
    one receipt per input is written into the task instance's folder, and pairs that an earlier
    try of the same DAG run honoured are not sent again.

    :param hook: the connection to send through (its settings: timeouts, retries).
    :param inputs: what to read (:class:`~whatcounts_provider.inputs.Inputs`).
    :param receipts_path: where receipts go (path, fsspec URI or ``ObjectStoragePath``); ``None``: off.
    :param task: who writes the receipts (``TaskIdentity.from_context(context)``); needed with
        ``receipts_path``.
    :param options: workers, rate cap, ``missing_ok``, deadline (:class:`OptOutOptions`).
    :param push: called with the record before the run raises (the operators push it to XCom).
    :param log: where the summary lines go.
    :param clock: the current aware UTC time (for ``late``).
    :raises WhatCountsBulkError: some pairs failed in a way a task retry may fix (the record is
        the exception's ``summary``).
    :raises WhatCountsInvalidInputsError: only invalid inputs, or WhatCounts' final "no
        subscription" with ``missing_ok=False``, are left: no retry would help.
    :raises WhatCountsError: the run stopped early (the record, with ``error``, went to ``push``).
    """
    options = options or OptOutOptions()
    summary = BulkSummary(form=inputs.form, sender_code=inputs.sender_code, source=inputs.source_display)
    try:
        if inputs.sender_code is not None:
            # The operator's own sender code is configuration, not one row's data: a bad one would
            # make every row invalid, so it fails before any input is read.
            summary.sender_code = validate_sender_code(inputs.sender_code)
        with inputs.open() as stream, try_receipts(receipts_path, task) as receipts:
            summary.source = stream.uri
            summary.receipts = receipts.uri
            outcomes = hook.stop_sms_rows(
                stream,
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
    if record["failed"] or record["invalid"]:
        if push is not None:
            push(record)
        raise _problem(record, summary.retryable_failures)
    return record


def _late(outcome: StopOutcome, options: OptOutOptions, clock: Callable[[], datetime]) -> bool:
    requested_at = outcome.row.requested_at
    if requested_at is None or outcome.status not in DEADLINE_STATUSES:
        return False
    return is_late(outcome.status, requested_at, clock(), options.honour_within_business_days)


def _problem(record: dict[str, Any], retryable_failures: int) -> WhatCountsBulkError:
    failed, invalid = len(record["failed"]), len(record["invalid"])
    message = (
        f"{failed} pair(s) failed and {invalid} input(s) were invalid out of {record['total']}; "
        "every other input was processed. See the XCom record"
        + (f" and the receipts in {record['receipts']}." if record["receipts"] else ".")
    )
    # Transient failures may pass on a retry; invalid inputs and WhatCounts' final "no
    # subscription" (missing_ok=False) never will: spend no retry on those alone.
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
