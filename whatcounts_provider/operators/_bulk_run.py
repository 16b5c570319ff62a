"""One bulk run of the operator: rows to the hook, outcomes to the record and the receipts."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from whatcounts_provider.deadline import InvalidRequestedAtError, is_late, parse_requested_at
from whatcounts_provider.inputs import InFlight, Row
from whatcounts_provider.operators._bulk_report import Progress

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from whatcounts_provider.hooks.whatcounts import WhatCountsHook
    from whatcounts_provider.operators._bulk_report import BulkSummary
    from whatcounts_provider.receipts import ReceiptWriter

# Statuses for which the deadline is checked: honoured either way, or still failing.
_DEADLINE_STATUSES = frozenset({"stopped", "not_subscribed", "failed"})


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@contextmanager
def receipts_for(
    receipts_path: Any, context: Any
) -> Iterator[tuple[ReceiptWriter | None, set[tuple[str, str]], str | None]]:
    """The receipts of this try: ``(writer, pairs honoured by earlier tries, folder URI)``.

    With ``receipts_path`` None, ``(None, empty set, None)``: receipts off, nothing resumed.
    """
    if receipts_path is None:
        yield None, set(), None
        return
    from whatcounts_provider.receipts import (
        ReceiptWriter,
        TaskIdentity,
        completed_pairs,
        task_instance_folder,
    )

    identity = TaskIdentity.from_context(context)
    folder = task_instance_folder(receipts_path, identity)
    done = completed_pairs(folder)
    with ReceiptWriter(folder, identity) as writer:
        yield writer, done, folder.uri


def with_requested_at(rows: Iterable[Row]) -> Iterator[Row]:
    """Rows with ``requested_at`` parsed; a row whose value is unusable becomes invalid (not sent)."""
    for row in rows:
        if row.error is None and row.requested_at is not None:
            try:
                row = row._replace(requested_at=parse_requested_at(row.requested_at))
            except InvalidRequestedAtError as exc:
                # The receipt's requested_at must be a date or null (the raw value stays in input).
                row = row._replace(phone=None, requested_at=None, error=str(exc))
        yield row


def run_pairs(
    hook: WhatCountsHook,
    rows: Iterable[Row],
    summary: BulkSummary,
    *,
    writer: ReceiptWriter | None,
    already_done: set[tuple[str, str]],
    total: int | None,
    max_workers: int,
    max_requests_per_second: float | None,
    missing_ok: bool,
    honour_within_business_days: int,
    log: Any,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Send every row's pair through the hook; count each outcome and write its receipt.

    The hook yields outcomes as they complete (out of order, each with its input ``index``);
    ``InFlight`` finds each one's row again, holding only the rows still in flight.
    """
    pending = InFlight(with_requested_at(rows))
    progress = Progress(total, log)
    outcomes = hook.stop_sms_pairs(
        pending.pairs(),
        max_workers=max_workers,
        max_requests_per_second=max_requests_per_second,
        missing_ok=missing_ok,
        already_done=already_done,
    )
    for outcome in outcomes:
        row = pending.pop(outcome.index)
        error = row.error or outcome.error
        requested_at = row.requested_at
        late = (
            requested_at is not None
            and outcome.status in _DEADLINE_STATUSES
            and is_late(outcome.status, requested_at, clock(), honour_within_business_days)
        )
        summary.add(outcome, row, error, late=late)
        if writer is not None and outcome.status != "already_done":
            writer.add(
                {
                    "row": row.row,
                    "input": row.input,
                    "phone": outcome.phone,
                    "sender_code": outcome.sender_code,
                    "status": outcome.status,
                    "error": error,
                    "whatcounts": outcome.response,
                    "requested_at": requested_at,
                    "attempts": outcome.attempts,
                }
            )
        progress.tick(summary.total)
    progress.finish(summary.total)
