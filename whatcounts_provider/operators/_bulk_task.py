"""What ``BulkStopSmsSubscriberOperator.execute`` does, kept out of the operator's module.

A run that stops early for a reason the provider can see (rejected credentials, an unusable
connection or source file, a cancel) still pushes its record, with ``error`` saying why, before
it raises: a scaled-out run's merge step then names the chunk and the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whatcounts_provider.exceptions import WhatCountsError
from whatcounts_provider.inputs import check_input_form, read_rows
from whatcounts_provider.operators._bulk_report import BulkSummary
from whatcounts_provider.operators._bulk_run import receipts_for, run_pairs
from whatcounts_provider.phone import validate_sender_code

if TYPE_CHECKING:
    from whatcounts_provider._compat import Context
    from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator


def run_bulk_task(op: BulkStopSmsSubscriberOperator, context: Context) -> tuple[dict[str, Any], int]:
    """Read the operator's input, stop every pair, and return the record (pushed early on abort)
    with the number of failed pairs that a task retry may still honour."""
    form = check_input_form(
        phones=op.phones, rows=op.rows, source=op.source, sender_code=op.sender_code, columns=op.columns
    )
    summary = BulkSummary(form=form, sender_code=op.sender_code, source=_source_uri(op.source))
    try:
        if op.sender_code is not None:
            # The operator's own sender code is configuration, not one row's data: a bad one would
            # make every row invalid, so it fails the task before any input is read.
            summary.sender_code = validate_sender_code(op.sender_code)
        with read_rows(
            phones=op.phones, rows=op.rows, source=op.source, sender_code=op.sender_code, columns=op.columns
        ) as stream:
            summary.source = stream.uri
            with receipts_for(op.receipts_path, context) as (writer, done, folder):
                summary.receipts = folder
                run_pairs(
                    op.hook,
                    stream,
                    summary,
                    writer=writer,
                    already_done=done,
                    total=stream.total,
                    max_workers=op.max_workers,
                    max_requests_per_second=op.max_requests_per_second,
                    missing_ok=op.missing_ok,
                    honour_within_business_days=op.honour_within_business_days,
                    log=op.log,
                )
                record = summary.record(retries=_retries(op))
                if writer is not None:
                    writer.close(record)
    except WhatCountsError as exc:
        summary.error = f"{type(exc).__name__}: {exc}"
        context["ti"].xcom_push(key="return_value", value=summary.record(retries=_retries(op)))
        op.log.error("The run stopped early after %d input(s): %s", summary.total, summary.error)
        raise
    for line in summary.log_lines():
        op.log.info("%s", line)
    if summary.late:
        op.log.warning(
            "%d pair(s) were honoured, or are still failing, more than %d business days after the "
            "opt-out was requested, e.g. %s",
            summary.late,
            op.honour_within_business_days,
            ", ".join(summary.late_examples),
        )
    op.log.info("Retries during this run: %d", record["retries"])
    return record, summary.retryable_failures


def _retries(op: BulkStopSmsSubscriberOperator) -> int:
    return op.hook.retries if "hook" in op.__dict__ else 0


def _source_uri(source: Any) -> str | None:
    if source is None:
        return None
    from whatcounts_provider._source import safe_uri

    return safe_uri(str(source))
