"""The period report as a JSON-safe document: what was done in a window of time, in one pass.

The window is ``since <= processed_at < until`` (UTC): months chain without overlap. Memory does
not grow with the receipts of the window: counters, a histogram, bounded lists, plus, for the
pairs that failed or await review, what is needed to know whether a later final receipt exists.
That check reads every receipt given, inside the window or not (a pair that failed in November
and was stopped in December is not open any more), and keeps per final receipt only a 64-bit hash
of its (phone, sender code) and its time, 16 bytes, in two arrays. Two pairs share a hash with
odds of about 1 in 3 * 10^7 per million pairs; the pair that failed would then be left out of the
open list.
"""

from __future__ import annotations

import heapq
from array import array
from collections import Counter
from typing import TYPE_CHECKING, Any

from whatcounts_provider.deadline import business_days_left, business_days_to_honour, honour_by
from whatcounts_provider.receipts.evidence.common import (
    FORMAT_VERSION,
    aware,
    check_limit,
    cut_short_try,
    from_micros,
    iso_text,
    micros,
    parse_time,
    short_message,
    status_label,
    task_of,
)
from whatcounts_provider.receipts.evidence.stats import TopN, percentile
from whatcounts_provider.types import HONOURED_STATUSES

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from datetime import datetime

#: Statuses in the order the report shows them (any other status a receipt holds follows).
STATUS_ORDER = ("stopped", "not_subscribed", "failed", "needs_review", "not_opt_out", "invalid", "duplicate")
_OPEN = frozenset({"failed", "needs_review"})
#: What an open pair shares with the other receipts of its try: kept once per try, not per pair.
_CONTEXT_KEYS = ("sender_code", "status", "dag_id", "run_id", "task_id", "map_index", "try_number")
WINDOW_RULE = "receipts whose processed_at is at or after since and before until (UTC)"


def period_report(
    receipts: Iterable[Mapping[str, Any]],
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    honour_within_business_days: int = 10,
    listed: int = 200,
) -> dict[str, Any]:
    """The report of the receipts processed in ``[since, until)``, as of ``now``.

    :param receipts: any receipts, in any order (``iter_receipts(root)``), read once.
    :param since: start of the window, included (naive means UTC).
    :param until: end of the window, excluded.
    :param now: when the report is made: business days left of the open pairs count to it.
    :param honour_within_business_days: the deadline (default 10).
    :param listed: at most this many entries in each list (late, open, ambiguous); totals are exact.
    :raises ValueError: ``since`` not before ``until``, a bad limit or ``listed``, a bad receipt.
    """
    start, end, when = aware(since, "since"), aware(until, "until"), aware(now, "now")
    if start >= end:
        raise ValueError(f"since ({iso_text(start)}) must be before until ({iso_text(end)})")
    limit = check_limit(honour_within_business_days)
    if isinstance(listed, bool) or not isinstance(listed, int) or listed < 0:
        raise ValueError(f"listed must be an int >= 0, got {listed!r}")
    tally = _Tally(micros(start), micros(end), limit, listed)
    for receipt in receipts:
        tally.add(receipt)
    body = tally.document(when)
    head = {
        "kind": "period_report",
        "format_version": FORMAT_VERSION,
        "since": iso_text(start),
        "until": iso_text(end),
        "generated_at": iso_text(when),
        "window": WINDOW_RULE,
        "honour_within_business_days": limit,
        "listed": listed,
    }
    return {**head, **body}


class _Tally:
    def __init__(self, start: int, end: int, limit: int, listed: int) -> None:
        self.start, self.end, self.limit, self.listed = start, end, limit, listed
        self.read = 0
        self.by_status: Counter[str] = Counter()
        self.by_code: dict[str | None, Counter[str]] = {}
        self.days: Counter[int] = Counter()
        self.without_requested_at = 0
        self.cut_short = 0
        self.late = TopN(listed)
        self.ambiguous = TopN(listed)
        # Every final receipt's pair hash and time; the open pairs by hash: their latest receipt.
        self.final_pairs = array("q")
        self.final_times = array("q")
        self.open: dict[int, tuple[int, int | None, Any, Any, tuple[Any, ...]]] = {}
        self.contexts: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def add(self, receipt: Mapping[str, Any]) -> None:
        self.read += 1
        get = receipt.get
        status = get("status")
        processed = parse_time(get("processed_at"), "processed_at")
        if processed is None:
            raise ValueError(f"receipt row {get('row')!r} of run {get('run_id')!r} has no processed_at")
        at = micros(processed)
        honoured = status in HONOURED_STATUSES
        if honoured:
            self.final_pairs.append(hash((get("phone"), get("sender_code"))))
            self.final_times.append(at)
        if not self.start <= at < self.end:
            return
        status = str(status)
        code = get("sender_code")
        self.by_status[status] += 1
        per_code = self.by_code.get(code)
        if per_code is None:
            per_code = self.by_code[code] = Counter()
        per_code[status] += 1
        if honoured:
            self._honoured(receipt, processed, at)
        elif status in _OPEN:
            key = hash((get("phone"), code))
            known = self.open.get(key)
            if known is None or known[0] < at:
                # Small on purpose: a run that failed whole leaves a million open pairs.
                requested = parse_time(get("requested_at"), "requested_at")
                context = tuple(get(name) for name in _CONTEXT_KEYS)
                context = self.contexts.setdefault(context, context)
                self.open[key] = (
                    at,
                    None if requested is None else micros(requested),
                    get("phone"),
                    get("error"),
                    context,
                )
        if get("reply_decision") == "ambiguous":
            self.ambiguous.offer((-at,), lambda: _ambiguous_entry(receipt, processed))

    def _honoured(self, receipt: Mapping[str, Any], processed: datetime, at: int) -> None:
        if cut_short_try(receipt) is not None:
            self.cut_short += 1
        days = receipt.get("business_days_to_honour")
        if not isinstance(days, int) or isinstance(days, bool):
            requested = parse_time(receipt.get("requested_at"), "requested_at")
            if requested is None:
                self.without_requested_at += 1
                return
            days = business_days_to_honour(requested, processed)
        self.days[days] += 1
        if days > self.limit:
            self.late.offer((days, -at), lambda: {**_brief(receipt), "business_days_to_honour": days})

    def _resolve(self) -> None:
        # A final receipt later than a pair's latest failure closes it, wherever it was read.
        open_ = self.open
        if open_:
            for pair, at in zip(self.final_pairs, self.final_times, strict=True):
                known = open_.get(pair)
                if known is not None and at > known[0]:
                    del open_[pair]
        self.final_pairs, self.final_times = array("q"), array("q")

    def _open_list(self, now: datetime) -> tuple[int, list[dict[str, Any]]]:
        past = 0

        def ranked() -> Iterator[tuple[tuple[bool, int, int], datetime | None, int | None, tuple[Any, ...]]]:
            nonlocal past
            for item in self.open.values():
                requested = None if item[1] is None else from_micros(item[1])
                left = None if requested is None else business_days_left(requested, now, self.limit)
                past += left is not None and left < 0
                # Most urgent first: fewest business days left; no known deadline last.
                yield (left is None, 0 if left is None else left, item[0]), requested, left, item

        shown = heapq.nsmallest(self.listed, ranked(), key=lambda row: row[0])
        return past, [_open_entry(item, requested, left, self.limit) for _key, requested, left, item in shown]

    def document(self, now: datetime) -> dict[str, Any]:
        self._resolve()
        past, open_entries = self._open_list(now)
        honoured = sum(self.by_status[s] for s in HONOURED_STATUSES)
        histogram = [{"days": days, "count": self.days[days]} for days in sorted(self.days)]
        stats = {
            "counted": sum(self.days.values()),
            "without_requested_at": self.without_requested_at,
            "median": percentile(self.days, 0.5),
            "p95": percentile(self.days, 0.95),
            "max": max(self.days) if self.days else None,
            "histogram": histogram,
        }
        return {
            "receipts": sum(self.by_status.values()),
            "receipts_read": self.read,
            "by_status": _ordered(self.by_status),
            "honoured": honoured,
            "honoured_after_cut_short": self.cut_short,
            "by_sender_code": [
                {"sender_code": code, "total": sum(counts.values()), "by_status": _ordered(counts)}
                for code, counts in sorted(self.by_code.items(), key=_code_order)
            ],
            "business_days_to_honour": stats,
            "late": {"total": self.late.total, "listed": self.late.largest_first()},
            "open": {"total": len(self.open), "past_deadline": past, "listed": open_entries},
            "ambiguous": {"total": self.ambiguous.total, "listed": self.ambiguous.largest_first()},
        }


def _code_order(item: tuple[str | None, object]) -> tuple[bool, str]:
    return item[0] is None, item[0] or ""  # receipts without a valid code last


def _ordered(counts: Counter[str]) -> dict[str, int]:
    extra = sorted(set(counts) - set(STATUS_ORDER))
    return {status: counts[status] for status in (*STATUS_ORDER, *extra)}


def _brief(receipt: Mapping[str, Any]) -> dict[str, Any]:
    """What a list row of the report shows of one receipt."""
    earlier = cut_short_try(receipt)
    status = str(receipt.get("status"))
    return {
        "phone": receipt.get("phone"),
        "sender_code": receipt.get("sender_code"),
        "status": status,
        "label": status_label(status, earlier),
        "earlier_try_cut_short": earlier,
        "processed_at": iso_text(parse_time(receipt.get("processed_at"), "processed_at")),
        "requested_at": iso_text(parse_time(receipt.get("requested_at"), "requested_at")),
        "error": receipt.get("error"),
        "task": task_of(receipt),
    }


def _open_entry(
    item: tuple[int, int | None, Any, Any, tuple[Any, ...]],
    requested: datetime | None,
    left: int | None,
    limit: int,
) -> dict[str, Any]:
    at, _requested, phone, error, context = item
    fields = dict(zip(_CONTEXT_KEYS, context, strict=True))
    status = str(fields["status"])
    return {
        "phone": phone,
        "sender_code": fields["sender_code"],
        "status": status,
        "label": status_label(status),
        "earlier_try_cut_short": None,
        "processed_at": iso_text(from_micros(at)),
        "requested_at": iso_text(requested),
        "error": error,
        "task": task_of(fields),
        "business_days_left": left,
        "honour_by": None if requested is None else honour_by(requested, limit).isoformat(),
    }


def _ambiguous_entry(receipt: Mapping[str, Any], processed: datetime) -> dict[str, Any]:
    return {
        **_brief(receipt),
        "message": short_message(receipt.get("message")),
        "reply_reason": receipt.get("reply_reason"),
    }
