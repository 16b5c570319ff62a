"""The deadline watch: opt-outs whose receipts say they are not honoured yet, near or past the
deadline (FCC order 24-24: ten business days after the request).

:func:`deadline_risks` lists them; :func:`check_deadlines` fails a task when there are any (or
returns them), so that an alert fires before a deadline is missed. The operator
``operators.deadlines.OptOutDeadlineWatchOperator`` runs it as a task; docs/deadlines.md says how
to alert on it.

A pair (phone, sender code) is *open* when a ``failed`` or ``needs_review`` receipt holds a
request that no ``stopped`` or ``not_subscribed`` receipt processed at or after that request has
honoured, across every DAG, run, task instance and try under the root. Other receipts
(``invalid``, ``duplicate``, ``not_opt_out``) say nothing about a pair's deadline and are skipped.

Memory stays small on a root of millions of receipts: open receipts are rare and kept in full;
of each final receipt only a 64-bit hash of its pair and its time are kept (16 bytes), because
parts are read in folder order, not time order, so a final receipt read early may honour an open
one read later.
"""

from __future__ import annotations

import logging
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from whatcounts_provider.deadline import (
    DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS,
    business_days_left,
    honour_by,
    parse_requested_at,
    utc_now,
)
from whatcounts_provider.exceptions import WhatCountsDeadlineError, WhatCountsInputError
from whatcounts_provider.phone import mask_phone
from whatcounts_provider.receipts.reader import iter_receipts
from whatcounts_provider.storage import Location
from whatcounts_provider.types import HONOURED_STATUSES

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)

#: Warn this many business days ahead by default: two working days to re-run a failed opt-out
#: or review a held reply before the last day.
DEFAULT_WITHIN_BUSINESS_DAYS = 2
#: Statuses that leave a request open: no final answer yet, or held for a person.
OPEN_STATUSES = frozenset({"failed", "needs_review"})
#: How many pairs a message names (masked); the rest are counted.
MAX_NAMED = 10

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
# The receipt fields an item repeats from the pair's latest open receipt.
_FROM_RECEIPT = ("status", "error", "processed_at", "dag_id", "run_id", "task_id", "map_index", "try_number")


@dataclass
class _OpenPair:
    """What is kept of one pair that has an open receipt: the latest final time seen for it once
    it became a candidate, and per distinct request time the latest open receipt of it (the same
    request failing in many runs or tries is kept once)."""

    final: int | None = None
    #: (request time, undated) -> (processed_at of the latest open receipt of it, its fields)
    requests: dict[tuple[int, bool], tuple[int, dict[str, Any]]] = field(default_factory=dict)


def deadline_risks(
    receipts_path: Any,
    *,
    within_business_days: int = DEFAULT_WITHIN_BUSINESS_DAYS,
    honour_within_business_days: int = DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS,
    include_undated: bool = True,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The open opt-outs under ``receipts_path`` whose deadline is at most
    ``within_business_days`` business days away or has passed, most urgent first.

    :param receipts_path: the root the operators write receipts to (or any folder below it): a
        path, ``file://`` or fsspec URI (``s3://conn_id@bucket/prefix``) or ``ObjectStoragePath``.
    :param within_business_days: list pairs with this many business days left or fewer
        (0: only those due today or late). A whole number >= 0 (digits as text are accepted:
        a rendered template is text).
    :param honour_within_business_days: the deadline (FCC: 10 business days after the request).
    :param include_undated: also list open pairs whose receipts have no ``requested_at``: their
        deadline is unknown and may have passed. Left out, they are only counted in a warning.
    :param now: the moment deadlines are measured at (naive means UTC); default: now.
    :return: one dict per open pair: ``phone``, ``sender_code``, ``requested_at`` (ISO-8601 UTC:
        the earliest request of the pair not honoured yet), ``honour_by`` (ISO date, the last UTC
        day on time), ``business_days_left`` (0: today is the last day; negative: business days
        since the deadline passed), ``open_requests`` (distinct requests not honoured), and from
        the pair's latest open receipt ``status``, ``error``, ``processed_at``, ``dag_id``,
        ``run_id``, ``task_id``, ``map_index``, ``try_number``. Undated pairs come last, with
        ``requested_at``, ``honour_by`` and ``business_days_left`` ``None``. Full phones: the
        list is evidence, keep it out of logs.
    :raises WhatCountsInputError: a bad argument, or a root that holds no files at all (a wrong
        path would otherwise report nothing at risk for ever); raised before any receipt is read.
    """
    within = whole_number("within_business_days", within_business_days)
    limit = whole_number("honour_within_business_days", honour_within_business_days)
    moment = _moment(now)
    root = Location.of(receipts_path, what="receipts_path")
    if next(iter(root.files()), None) is None:
        raise WhatCountsInputError(
            f"receipts_path {root.display} holds no files: check the path (the operators' "
            "receipts_path); a watch over an empty folder would never find anything at risk"
        )

    candidates, final_hashes, final_times, read = _scan(root)
    _apply_finals(candidates, final_hashes, final_times)
    dated: list[tuple[int, int, dict[str, Any]]] = []
    undated: list[dict[str, Any]] = []
    open_pairs = 0
    for (phone, sender_code), pair in candidates.items():
        found = _open_item(phone, sender_code, pair)
        if found is None:
            continue
        open_pairs += 1
        request, item = found
        if request is None:
            undated.append(item)
            continue
        requested = parse_requested_at(item["requested_at"])
        left = business_days_left(requested, moment, limit)
        if left <= within:
            item["honour_by"] = honour_by(requested, limit).isoformat()
            item["business_days_left"] = left
            dated.append((left, request, item))
    dated.sort(key=lambda found: (found[0], found[1], found[2]["phone"], found[2]["sender_code"]))
    undated.sort(key=lambda i: (str(i["processed_at"]), i["phone"], i["sender_code"]))
    log.info(
        "Deadline watch over %s: %d receipts read, %d open pair(s) (%d without requested_at); "
        "%d due within %d business day(s) or late",
        root.display,
        read,
        open_pairs,
        len(undated),
        len(dated),
        within,
    )
    listed = [item for _, _, item in dated]
    if undated and not include_undated:
        log.warning(
            "%d open pair(s) have no requested_at: their deadline is unknown and they are not listed "
            "(include_undated=False); e.g. %s",
            len(undated),
            _named(undated),
        )
        return listed
    return listed + undated


def check_deadlines(
    receipts_path: Any,
    *,
    within_business_days: int = DEFAULT_WITHIN_BUSINESS_DAYS,
    honour_within_business_days: int = DEFAULT_HONOUR_WITHIN_BUSINESS_DAYS,
    include_undated: bool = True,
    fail: bool = True,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """:func:`deadline_risks`, for a task: with ``fail`` (default), log what was found (masked, at
    ERROR) and raise when any pair is listed; otherwise log it as a warning and return the list.

    Return it from ``@task(show_return_value_in_logs=False)``: it holds full phones.

    :raises WhatCountsDeadlineError: ``fail`` and some pair listed. It fails the task without
        spending retries (a retry minutes later finds the same receipts); ``risks`` holds the list.
    """
    risks = deadline_risks(
        receipts_path,
        within_business_days=within_business_days,
        honour_within_business_days=honour_within_business_days,
        include_undated=include_undated,
        now=now,
    )
    if not risks:
        return risks
    message = describe_risks(risks, whole_number("within_business_days", within_business_days))
    if fail:
        # Logged as well as raised: the task log then holds the alert whoever renders the
        # exception (Airflow 3.0's dag.test() shows it nowhere).
        log.error("%s", message)
        raise WhatCountsDeadlineError(message, risks=risks)
    log.warning("%s", message)
    return risks


def describe_risks(risks: Sequence[Mapping[str, Any]], within_business_days: int) -> str:
    """One message for a list from :func:`deadline_risks`: how many, how many late, the soonest
    ``honour_by`` and up to :data:`MAX_NAMED` pairs, phones masked."""
    late = sum(1 for r in risks if r.get("business_days_left") is not None and r["business_days_left"] < 0)
    undated = sum(1 for r in risks if r.get("business_days_left") is None)
    due = len(risks) - late - undated
    parts = [f"{late} past the deadline", f"{due} due within {within_business_days} business day(s)"]
    if undated:
        parts.append(f"{undated} without requested_at (deadline unknown)")
    dates = [str(r["honour_by"]) for r in risks if r.get("honour_by")]
    soonest = f"; soonest honour_by {min(dates)}" if dates else ""
    return (
        f"{len(risks)} opt-out(s) not honoured yet: {', '.join(parts)}{soonest}. "
        f"{_named(risks)}. Re-run them, or review the held replies, before the deadline"
    )


def whole_number(name: str, value: Any) -> int:
    """``value`` as a whole number >= 0: an ``int``, or digits as text (a rendered template).

    :raises WhatCountsInputError: anything else, naming ``name``.
    """
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise WhatCountsInputError(f"{name} must be a whole number of business days >= 0, got {value!r}")


# -- internals ------------------------------------------------------------------------------


def _moment(now: datetime | None) -> datetime:
    if now is None:
        return utc_now()
    if not isinstance(now, datetime):
        raise WhatCountsInputError(f"now must be a datetime, got {type(now).__name__}")
    return now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)


def _micros(value: Any) -> int:
    """Microseconds since the epoch of a receipt's time (``processed_at``, ``requested_at``)."""
    # The writer writes one ISO form, which fromisoformat reads fast; anything else is parsed fully.
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        moment = parse_requested_at(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // _MICROSECOND


def _time_of(receipt: Mapping[str, Any], name: str) -> int:
    try:
        return _micros(receipt.get(name))
    except ValueError:
        where = "/".join(str(receipt.get(key)) for key in ("dag_id", "run_id", "task_id", "map_index"))
        raise ValueError(
            f"a receipt of {where} (try {receipt.get('try_number')}, row {receipt.get('row')}) has "
            f"{name} {receipt.get(name)!r}, not an ISO-8601 time"
        ) from None


def _scan(root: Location) -> tuple[dict[tuple[str, str], _OpenPair], array[int], array[int], int]:
    """One pass over every receipt: the open pairs in full; for every other pair's final receipts
    only (hash of the pair, time), since an open receipt of the same pair may come later."""
    candidates: dict[tuple[str, str], _OpenPair] = {}
    final_hashes: array[int] = array("q")
    final_times: array[int] = array("q")
    read = 0
    for receipt in iter_receipts(root):
        read += 1
        status = receipt.get("status")
        phone, sender_code = receipt.get("phone"), receipt.get("sender_code")
        if not phone or not sender_code or (status not in HONOURED_STATUSES and status not in OPEN_STATUSES):
            continue
        key = (str(phone), str(sender_code))
        processed = _time_of(receipt, "processed_at")
        pair = candidates.get(key)
        if status in HONOURED_STATUSES:
            if pair is None:
                final_hashes.append(hash(key))
                final_times.append(processed)
            elif pair.final is None or processed > pair.final:
                pair.final = processed
            continue
        if pair is None:
            pair = candidates[key] = _OpenPair()
        raw = receipt.get("requested_at")
        # Undated: the request came at the latest when the receipt was processed.
        request = (processed, True) if raw is None else (_time_of(receipt, "requested_at"), False)
        kept = pair.requests.get(request)
        if kept is None or processed > kept[0]:
            shown = {name: receipt.get(name) for name in _FROM_RECEIPT}
            shown["requested_at"] = raw
            pair.requests[request] = (processed, shown)
    return candidates, final_hashes, final_times, read


def _apply_finals(
    candidates: dict[tuple[str, str], _OpenPair], hashes: array[int], times: array[int]
) -> None:
    """Give each open pair the latest final time among the final receipts kept by hash."""
    by_hash: dict[int, list[_OpenPair]] = {}
    for key, pair in candidates.items():
        by_hash.setdefault(hash(key), []).append(pair)
    # A 64-bit hash collision would let another pair's final receipt count (odds ~ open pairs x
    # final receipts / 2**64): accepted for 16 bytes a receipt instead of the pair's text.
    for hashed, processed in zip(hashes, times, strict=True):
        pairs = by_hash.get(hashed)
        if pairs is None:
            continue
        for pair in pairs:
            if pair.final is None or processed > pair.final:
                pair.final = processed


def _open_item(phone: str, sender_code: str, pair: _OpenPair) -> tuple[int | None, dict[str, Any]] | None:
    """The item of a pair whose requests are not all honoured by its latest final receipt, with
    its earliest open request time (None: undated); None when every request is honoured. A final
    receipt processed at or after a request honours it: a later failure of the same request (a
    re-run of an old file) does not reopen it."""
    final = pair.final
    open_requests = {
        request: kept for request, kept in pair.requests.items() if final is None or request[0] > final
    }
    if not open_requests:
        return None
    latest = max(open_requests.values(), key=lambda kept: kept[0])[1]
    dated = [time for time, undated in open_requests if not undated]
    earliest = min(dated) if dated else None
    item: dict[str, Any] = {
        "phone": phone,
        "sender_code": sender_code,
        "requested_at": None if earliest is None else open_requests[earliest, False][1]["requested_at"],
        "honour_by": None,
        "business_days_left": None,
        "open_requests": len(open_requests),
    }
    item.update({name: latest[name] for name in _FROM_RECEIPT})
    return earliest, item


def _named(risks: Sequence[Mapping[str, Any]]) -> str:
    named = []
    for risk in risks[:MAX_NAMED]:
        left = risk.get("business_days_left")
        if left is None:
            when = "deadline unknown"
        elif left < 0:
            when = f"honour by {risk['honour_by']}, {-left} business day(s) late"
        else:
            when = f"honour by {risk['honour_by']}, {left} business day(s) left"
        named.append(f"{mask_phone(risk['phone'])} on {risk['sender_code']} ({risk['status']}, {when})")
    more = f" and {len(risks) - MAX_NAMED} more" if len(risks) > MAX_NAMED else ""
    return "; ".join(named) + more
