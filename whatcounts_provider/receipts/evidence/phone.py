"""The evidence for one phone, as a JSON-safe document: what was asked, done and answered, per code.

A dispute names one phone. Its receipts are few (one per request, sender code and try), so this
module holds them all, sorts them by ``processed_at`` and groups them by sender code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from whatcounts_provider.deadline import business_days_left, business_days_to_honour, honour_by
from whatcounts_provider.phone import mask_phone
from whatcounts_provider.receipts.evidence.common import (
    FORMAT_VERSION,
    aware,
    check_limit,
    cut_short_try,
    iso_text,
    meaning,
    parse_time,
    record_ids,
    short_message,
    status_label,
    task_of,
)
from whatcounts_provider.types import HONOURED_STATUSES

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

INTEGRITY_STATUSES = ("intact", "problems", "not_checked")
_OPEN_STATUSES = frozenset({"failed", "needs_review"})


def phone_evidence(
    receipts: Iterable[Mapping[str, Any]],
    *,
    phone: str,
    now: datetime,
    integrity: Mapping[str, Any] | None = None,
    honour_within_business_days: int = 10,
) -> dict[str, Any]:
    """The evidence document for ``phone`` (what ``report --phone P --format json`` prints).

    :param receipts: that phone's receipts (``find_receipts``), in any order; receipts of another
        phone are refused (a page of evidence must not mix phones).
    :param phone: the phone, as the receipts hold it (normalised digits); shown in full.
    :param now: when the evidence is asked for (naive means UTC): the page's query time, and the
        day business days left are counted to for a pair still open.
    :param integrity: the result of checking the receipts (``verify``), or None: "not checked".
    :param honour_within_business_days: the deadline (default 10, FCC order 24-24).
    :raises ValueError: an empty phone, a bad limit or integrity result, a receipt of another phone.
    """
    if not isinstance(phone, str) or not phone.strip():
        raise ValueError(f"phone must be the phone's digits as text, got {phone!r}")
    when = aware(now, "now")
    limit = check_limit(honour_within_business_days)
    # A stable sort: receipts processed in the same microsecond keep the order they were given in.
    entries = sorted((_entry(r, phone, limit) for r in receipts), key=lambda e: e["_at"])
    codes: dict[str | None, list[dict[str, Any]]] = {}
    for entry in entries:
        codes.setdefault(entry["sender_code"], []).append(entry)
    # Real codes in order of their first receipt; receipts without a valid code come last.
    order = [code for code in codes if code is not None] + ([None] if None in codes else [])
    pairs = [_pair(code, codes[code], when, limit) for code in order]
    for entry in entries:
        del entry["_at"]
    return {
        "kind": "phone_evidence",
        "format_version": FORMAT_VERSION,
        "phone": phone,
        "generated_at": iso_text(when),
        "honour_within_business_days": limit,
        "receipts": len(entries),
        "first_processed_at": entries[0]["processed_at"] if entries else None,
        "last_processed_at": entries[-1]["processed_at"] if entries else None,
        "summary": [line for pair in pairs for line in pair["summary"]],
        "sender_codes": pairs,
        "integrity": normalise_integrity(integrity),
    }


def normalise_integrity(integrity: Mapping[str, Any] | None) -> dict[str, Any]:
    """The integrity result as the document holds it; None means the receipts were not checked.

    :raises ValueError: an unknown status, or problems that are not a list of mappings.
    """
    if integrity is None:
        return {"status": "not_checked", "checked_tries": 0, "problems": []}
    if not isinstance(integrity, Mapping):
        raise ValueError(f"integrity must be a mapping or None, got {type(integrity).__name__}")
    status = integrity.get("status")
    if status not in INTEGRITY_STATUSES:
        raise ValueError(f"integrity status {status!r} is not one of {list(INTEGRITY_STATUSES)}")
    problems = integrity.get("problems") or []
    if not isinstance(problems, list) or not all(isinstance(p, Mapping) for p in problems):
        raise ValueError("integrity problems must be a list of {kind, where, detail} mappings")
    checked = integrity.get("checked_tries")
    return {
        "status": status,
        "checked_tries": checked if isinstance(checked, int) and not isinstance(checked, bool) else 0,
        "problems": [
            {key: None if p.get(key) is None else str(p.get(key)) for key in ("kind", "where", "detail")}
            for p in problems
        ],
    }


def _entry(receipt: Mapping[str, Any], phone: str, limit: int) -> dict[str, Any]:
    if not isinstance(receipt, Mapping):
        raise ValueError(f"a receipt must be a mapping, got {type(receipt).__name__}")
    own = receipt.get("phone")
    if own is not None and str(own) != phone:
        raise ValueError(
            f"a receipt of phone {mask_phone(own)} was given for phone {mask_phone(phone)}: "
            "phone_evidence takes the receipts of one phone (find_receipts)"
        )
    processed = parse_time(receipt.get("processed_at"), "processed_at")
    if processed is None:
        where = f"row {receipt.get('row')!r} of run {receipt.get('run_id')!r}"
        raise ValueError(f"receipt {where} has no processed_at")
    requested = parse_time(receipt.get("requested_at"), "requested_at")
    status = str(receipt.get("status"))
    days = receipt.get("business_days_to_honour")
    if not isinstance(days, int) and requested is not None and status in HONOURED_STATUSES:
        days = business_days_to_honour(requested, processed)  # receipts that did not count it
    honoured = status in HONOURED_STATUSES
    earlier = cut_short_try(receipt)
    code = receipt.get("sender_code")
    return {
        "_at": processed,
        "sender_code": None if code is None else str(code),
        "processed_at": iso_text(processed),
        "requested_at": iso_text(requested),
        "status": status,
        "label": status_label(status, earlier),
        "meaning": meaning(receipt),
        "honoured": honoured,
        "earlier_try_cut_short": earlier,
        "business_days_to_honour": days if honoured else None,
        "late": bool(honoured and isinstance(days, int) and days > limit),
        "honour_by": None if requested is None else honour_by(requested, limit).isoformat(),
        "error": receipt.get("error"),
        "attempts": receipt.get("attempts"),
        "whatcounts_ids": record_ids(receipt.get("whatcounts")),
        "whatcounts": receipt.get("whatcounts"),
        "message": short_message(receipt.get("message")),
        "message_id": receipt.get("message_id"),
        "reply_decision": receipt.get("reply_decision"),
        "reply_reason": receipt.get("reply_reason"),
        "scope": receipt.get("scope"),
        "requested_sender_code": receipt.get("requested_sender_code"),
        "row": receipt.get("row"),
        "input": receipt.get("input"),
        "task": task_of(receipt),
        "provider_version": receipt.get("provider_version"),
    }


def _pair(code: str | None, timeline: list[dict[str, Any]], now: datetime, limit: int) -> dict[str, Any]:
    honoured = [e for e in timeline if e["honoured"]]
    last_final = honoured[-1]["_at"] if honoured else None
    after = [e for e in timeline if last_final is None or e["_at"] > last_final]
    still_open = [e for e in after if e["status"] in _OPEN_STATUSES]
    shown = code or "(no valid sender code)"
    summary = [_honoured_line(shown, e, limit) for e in _first_per_request(honoured)]
    state = "honoured" if honoured else "not_sent"
    left = by = None
    if still_open:
        state = "open"
        latest = still_open[-1]
        requested = parse_time(latest["requested_at"], "requested_at")
        if requested is not None:
            left = business_days_left(requested, now, limit)
            by = honour_by(requested, limit).isoformat()
        summary.append(_open_line(shown, latest, left, by))
    elif not honoured:
        summary.append(f"Nothing was sent for sender code {shown}. Last receipt: {timeline[-1]['meaning']}")
    return {
        "sender_code": code,
        "state": state,
        "summary": summary,
        "business_days_left": left,
        "honour_by": by,
        "timeline": timeline,
    }


def _first_per_request(honoured: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Later final receipts of the same request (a new DAG run re-sending it) only confirm it.
    seen: set[object] = set()
    first = []
    for entry in honoured:
        if entry["requested_at"] not in seen:
            seen.add(entry["requested_at"])
            first.append(entry)
    return first


def _honoured_line(code: str, entry: dict[str, Any], limit: int) -> str:
    day = str(entry["processed_at"])[:10]
    if entry["earlier_try_cut_short"] is not None:
        head = (
            f"Opted out of sender code {code} by {day} (UTC): most likely honoured by try "
            f"{entry['earlier_try_cut_short']}, whose WhatCounts answer record was lost when that try was "
            f"cut short; try {entry['task']['try_number']} then found no subscription left"
        )
    elif entry["status"] == "not_subscribed":
        head = f"Sender code {code} no longer texts this phone: WhatCounts had no subscription on {day} (UTC)"
    else:
        head = f"Opted out of sender code {code} on {day} (UTC)"
    days = entry["business_days_to_honour"]
    if entry["requested_at"] is None or days is None:
        return f"{head}; no request time was recorded, so the deadline cannot be counted."
    late = f". LATE: more than the {limit}-business-day limit." if entry["late"] else f" (limit {limit})."
    plural = "" if days == 1 else "s"
    return f"{head}, {days} business day{plural} after the request of {entry['requested_at'][:10]}{late}"


def _open_line(code: str, entry: dict[str, Any], left: int | None, by: str | None) -> str:
    what = "failed" if entry["status"] == "failed" else "is held for review"
    day = entry["processed_at"][:10]
    head = f"NOT honoured yet on sender code {code}: the last attempt, on {day} (UTC), {what}"
    if left is None:
        return f"{head}; no request time was recorded, so no deadline can be counted."
    if left < 0:
        return f"{head}; the deadline ({by}) passed {-left} business day{'' if left == -1 else 's'} ago."
    return f"{head}; {left} business day{'' if left == 1 else 's'} left (honour by {by})."
