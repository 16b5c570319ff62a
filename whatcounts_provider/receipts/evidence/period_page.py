"""The period report page: the ``period_report`` document for a monthly compliance review."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whatcounts_provider.receipts.evidence.page import (
    capped,
    document,
    esc,
    plural,
    section,
    show_time,
    table,
)
from whatcounts_provider.receipts.evidence.svg import histogram_svg

if TYPE_CHECKING:
    from collections.abc import Mapping

_MEANING = {
    "stopped": "WhatCounts confirmed the opt-out.",
    "not_subscribed": "No subscription on that code, so it no longer texts the phone: honoured.",
    "failed": "No final answer from WhatCounts: not confirmed by that attempt.",
    "needs_review": "Ambiguous reply held for a person; nothing sent.",
    "not_opt_out": "The reply is not an opt-out; nothing sent.",
    "invalid": "Bad phone, sender code or row; nothing sent.",
    "duplicate": "Same pair as an earlier input of the run; not sent again.",
}


def render_period_html(doc: Mapping[str, Any]) -> str:
    """The period report page (one self-contained HTML file) of a ``period_report`` document."""
    limit = int(doc.get("honour_within_business_days") or 0)
    since, until = show_time(doc.get("since")), show_time(doc.get("until"))
    body = "".join(
        [
            f"<h1>Opt-out report: {esc(str(doc.get('since'))[:10])} to {esc(str(doc.get('until'))[:10])}"
            "</h1>",
            f'<p class="meta">Receipts processed from {since} (included) up to {until} (not included) · '
            f"made <time>{show_time(doc.get('generated_at'))}</time> · limit: {limit} business days</p>",
            _summary(doc, limit),
            _statuses(doc),
            _codes(doc),
            _histogram(doc, limit),
            _late(doc, limit),
            _open(doc),
            _ambiguous(doc),
        ]
    )
    return document(f"Opt-out report {doc.get('since')} to {doc.get('until')}", body)


def _summary(doc: Mapping[str, Any], limit: int) -> str:
    days = doc.get("business_days_to_honour") or {}
    late, open_ = doc.get("late") or {}, doc.get("open") or {}
    honoured, cut = int(doc.get("honoured") or 0), int(doc.get("honoured_after_cut_short") or 0)
    lines = [(f"{plural(int(doc.get('receipts') or 0), 'receipt')} processed in the period.", "")]
    text = f"{plural(honoured, 'opt-out')} honoured (stopped or no longer subscribed)"
    if cut:
        text += f", {cut:,} of them most likely by an earlier try that was cut short (its answer record lost)"
    if days.get("counted"):
        text += (
            f"; median {days.get('median')}, p95 {days.get('p95')}, maximum {days.get('max')} business days"
        )
    lines.append((text + ".", ""))
    total_late = int(late.get("total") or 0)
    lines.append(
        (
            f"{plural(total_late, 'opt-out')} honoured late (more than {limit} business days).",
            _bad(total_late),
        )
    )
    total_open, past = int(open_.get("total") or 0), int(open_.get("past_deadline") or 0)
    lines.append(
        (
            f"{plural(total_open, 'pair')} failed or await review with no later final receipt; "
            f"{past:,} of them past the deadline.",
            _bad(total_open),
        )
    )
    ambiguous = int((doc.get("ambiguous") or {}).get("total") or 0)
    lines.append((f"{plural(ambiguous, 'ambiguous reply', 'ambiguous replies')}.", ""))
    items = "".join(f'<li class="{css}">{esc(line)}</li>' for line, css in lines)
    return (
        f'<section class="summary" id="summary"><h2>Summary</h2><ul>{items}</ul>{_unreadable(doc)}</section>'
    )


def _unreadable(doc: Mapping[str, Any]) -> str:
    """What the receipts command could not read (the document's ``unreadable``, if any)."""
    unreadable = doc.get("unreadable") or {}
    total = int(unreadable.get("total") or 0)
    if not total:
        return ""
    listed = "".join(f"<li><code>{esc(str(where))}</code></li>" for where in unreadable.get("listed") or [])
    verb = "is" if total == 1 else "are"
    return (
        f'<p class="late">{plural(total, "receipt line")} could not be read and {verb} not counted '
        f"here; run <code>verify</code> on these receipts:</p><ul>{listed}</ul>"
    )


def _bad(count: int) -> str:
    return "late" if count else ""


def _statuses(doc: Mapping[str, Any]) -> str:
    counts = doc.get("by_status") or {}
    cut = int(doc.get("honoured_after_cut_short") or 0)
    rows = []
    for status, count in counts.items():
        meaning = _MEANING.get(status, "")
        if status == "not_subscribed" and cut:
            meaning += (
                f" {cut:,} of them were most likely stopped by an earlier try that was cut short before its "
                "receipts were written (WhatCounts' answer record lost): honoured."
            )
        label = f'<span class="nowrap">{esc(status.replace("_", " "))}</span>'
        rows.append((f"status-{status}", [label, esc(meaning), f"{int(count):,}"]))
    return (
        '<section id="by-status"><h2>Receipts per status</h2>'
        + table(["Status", "Meaning", "Receipts"], rows, numeric=(2,))
        + "</section>"
    )


def _codes(doc: Mapping[str, Any]) -> str:
    codes = doc.get("by_sender_code") or []
    statuses = list((doc.get("by_status") or {}).keys())
    rows = [
        (
            "code",
            [esc(c.get("sender_code"), "(no valid code)"), f"{int(c.get('total') or 0):,}"]
            + [f"{int((c.get('by_status') or {}).get(s) or 0):,}" for s in statuses],
        )
        for c in codes
    ]
    headers = ["Sender code", "Total", *(s.replace("_", " ") for s in statuses)]
    numeric = tuple(range(1, len(headers)))
    return section("by-code", "Receipts per sender code", table(headers, rows, numeric=numeric))


def _histogram(doc: Mapping[str, Any], limit: int) -> str:
    days = doc.get("business_days_to_honour") or {}
    histogram = {int(b["days"]): int(b["count"]) for b in days.get("histogram") or []}
    stats = "".join(
        f"<div>{esc(label)}<b>{esc(value)}</b></div>"
        for label, value in (
            ("median", days.get("median")),
            ("p95", days.get("p95")),
            ("maximum", days.get("max")),
            ("opt-outs counted", f"{int(days.get('counted') or 0):,}"),
            ("without a request time", f"{int(days.get('without_requested_at') or 0):,}"),
        )
    )
    chart = (
        f"<figure>{histogram_svg(histogram, limit)}<figcaption>Opt-outs honoured in the period, by business "
        "days from the request (requested_at) to the opt-out (processed_at). Red: past the limit. Median and "
        "p95 are nearest-rank: a number of days that occurred.</figcaption></figure>"
        if histogram
        else '<p class="muted">No honoured opt-out with a request time in this period.</p>'
    )
    return section("histogram", "Business days to honour", f'<div class="stats">{stats}</div>{chart}')


def _who(entry: Mapping[str, Any]) -> list[str]:
    return [
        f'<span class="phone">{esc(entry.get("phone"))}</span>',
        f'<span class="nowrap">{esc(entry.get("sender_code"))}</span>',
    ]


def _task(entry: Mapping[str, Any]) -> str:
    task = entry.get("task") or {}
    where = " / ".join(esc(task.get(key)) for key in ("dag_id", "run_id", "task_id"))
    return (
        f'<div class="small">{where} [{esc(task.get("map_index"))}], try {esc(task.get("try_number"))}</div>'
    )


def _late(doc: Mapping[str, Any], limit: int) -> str:
    late = doc.get("late") or {}
    listed = late.get("listed") or []
    rows = [
        (
            "late",
            [
                *_who(e),
                show_time(e.get("requested_at")),
                show_time(e.get("processed_at")),
                f'<span class="late-mark">{esc(e.get("business_days_to_honour"))} of {limit}</span>',
                esc(e.get("label")),
                _task(e),
            ],
        )
        for e in listed
    ]
    headers = ["Phone", "Sender code", "Requested", "Honoured", "Business days", "Outcome", "Task"]
    body = table(headers, rows, numeric=(4,)) if rows else ""
    note = "<p>Most business days first.</p>" if rows else ""
    count = capped(int(late.get("total") or 0), len(listed), "late opt-out")
    return section("late", "Late opt-outs", count + note + body)


def _left(entry: Mapping[str, Any]) -> str:
    left = entry.get("business_days_left")
    if left is None:
        return '<span class="muted">no request time</span>'
    if left < 0:
        return f'<span class="late-mark">passed {esc(plural(-left, "business day"))} ago</span>'
    return f'<span class="open-mark">{esc(left)} left</span>' if left <= 2 else esc(f"{left} left")


def _open(doc: Mapping[str, Any]) -> str:
    open_ = doc.get("open") or {}
    listed = open_.get("listed") or []
    rows = [
        (
            "open",
            [
                *_who(e),
                esc(e.get("label")),
                show_time(e.get("processed_at")),
                show_time(e.get("requested_at")),
                _left(e),
                esc(e.get("honour_by")),
                esc(e.get("error")),
                _task(e),
            ],
        )
        for e in listed
    ]
    headers = ["Phone", "Sender code", "Status", "Last attempt", "Requested", "Business days", "Honour by"]
    headers += ["Error", "Task"]
    intro = (
        "<p>Pairs whose latest failed or held receipt in the period has no later stopped or not-subscribed "
        "receipt, read anywhere (a later run may have honoured them). Fewest business days left first; "
        "counted to the report's time.</p>"
    )
    count = capped(int(open_.get("total") or 0), len(listed), "open pair")
    body = table(headers, rows) if rows else ""
    return section("open", "Failed or awaiting review", intro + count + body)


def _ambiguous(doc: Mapping[str, Any]) -> str:
    ambiguous = doc.get("ambiguous") or {}
    listed = ambiguous.get("listed") or []
    rows = [
        (
            "ambiguous",
            [
                *_who(e),
                show_time(e.get("processed_at")),
                f'<blockquote class="message">{esc(e.get("message"))}</blockquote>',
                esc(e.get("label")),
                f'<span class="small">{esc(e.get("reply_reason"))}</span>',
            ],
        )
        for e in listed
    ]
    headers = ["Phone", "Sender code", "Processed", "Reply", "What was done", "Why ambiguous"]
    count = capped(int(ambiguous.get("total") or 0), len(listed), "ambiguous reply", "ambiguous replies")
    body = table(headers, rows) if rows else ""
    return section("ambiguous", "Ambiguous replies", count + body)
