"""The evidence page of one phone: the ``phone_evidence`` document as a page a lawyer can read and print."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whatcounts_provider.receipts.evidence.page import document, esc, plural, show_time, table
from whatcounts_provider.receipts.integrity import is_note

if TYPE_CHECKING:
    from collections.abc import Mapping

_STATE = {
    "honoured": "honoured",
    "open": "NOT honoured yet",
    "not_sent": "nothing sent",
}
_INTEGRITY = {
    "intact": "Intact",
    "problems": "PROBLEMS FOUND",
    "not_checked": "Not checked",
}
_HOW_TO_READ = (
    "<p>Each table below is one sender code: every receipt of this phone on that code, in the order "
    "they were processed. <b>stopped</b> means WhatCounts confirmed the opt-out. <b>not subscribed</b> "
    "means WhatCounts holds no subscription of the phone on that code, so the code no longer texts it: "
    "the opt-out is honoured either way. A retry that found no subscription after an earlier try was "
    "cut short is shown as honoured, most likely by that earlier try, whose WhatCounts answer record was "
    "lost. <b>Requested</b> is when the opt-out was received; <b>processed</b> is when it was sent to "
    "WhatCounts and answered. Business days count Monday to Friday after the day of the request.</p>"
)


def render_phone_html(doc: Mapping[str, Any]) -> str:
    """The evidence page (one self-contained HTML file) of a ``phone_evidence`` document."""
    phone = doc.get("phone")
    limit = int(doc.get("honour_within_business_days") or 0)
    count = int(doc.get("receipts") or 0)
    span = ""
    if count:
        first, last = show_time(doc.get("first_processed_at")), show_time(doc.get("last_processed_at"))
        span = f", processed from {first} to {last}"
    body = [
        f'<h1>Opt-out evidence for phone <span class="phone">{esc(phone)}</span></h1>',
        f'<p class="meta">Query time: <time>{show_time(doc.get("generated_at"))}</time> · '
        f"{esc(plural(count, 'receipt'))}{span} · limit: {limit} business days (FCC order 24-24)</p>",
        _summary(doc),
        _integrity(doc.get("integrity") or {}),
        "<h2>How to read this page</h2>",
        _HOW_TO_READ,
    ]
    for pair in doc.get("sender_codes") or []:
        body.append(_pair(pair, limit))
    return document(f"Opt-out evidence for {phone}", "".join(body))


def _summary(doc: Mapping[str, Any]) -> str:
    lines = doc.get("summary") or []
    if not lines:
        return '<section class="summary" id="summary"><p><b>No receipt holds this phone.</b></p></section>'
    items = []
    for line in lines:
        text = str(line)
        css = "open" if text.startswith("NOT honoured") else "late" if "LATE" in text else ""
        items.append(f'<li class="{css}">{esc(text)}</li>')
    return f'<section class="summary" id="summary"><h2>Summary</h2><ul>{"".join(items)}</ul></section>'


def _integrity(check: Mapping[str, Any]) -> str:
    status = str(check.get("status") or "not_checked")
    tries = int(check.get("checked_tries") or 0)
    findings = [p for p in check.get("problems") or [] if isinstance(p, dict)]
    notes = [p for p in findings if is_note(p.get("kind"))]
    problems = [p for p in findings if not is_note(p.get("kind"))]
    # One note per try that had nothing to check against: those tries were not checked.
    checked = max(tries - len(notes), 0)
    unchecked = ""
    if notes:
        unchecked = f" {plural(len(notes), 'try', 'tries')} could not be checked (see the notes)."
    if status == "intact":
        text = (
            f"The receipts of {plural(checked, 'try', 'tries')} were checked against their summaries: no "
            "part was modified, removed or added afterwards, and the chain of tries is whole." + unchecked
        )
    elif status == "problems":
        text = (
            f"{plural(len(problems), 'problem')} in the receipts of {plural(tries, 'try', 'tries')} checked:"
        )
    elif notes:
        text = "No try of these receipts has a summary with digests to check them against." + unchecked
    else:
        text = (
            "These receipts were not verified for this page. Run "
            "<code>python -m whatcounts_provider.receipts verify ROOT</code> to check them."
        )
        return _integrity_box(status, text)
    rows = [
        ("problem" if p in problems else "", [esc(p.get("kind")), esc(p.get("where")), esc(p.get("detail"))])
        for p in problems + notes
    ]
    detail = table(["Problem or note", "Where", "Detail"], rows) if rows else ""
    return _integrity_box(status, esc(text) + detail)


def _integrity_box(status: str, inner: str) -> str:
    verdict = _INTEGRITY.get(status, status)
    return (
        f'<section class="integrity {esc(status)}" id="integrity"><h2>Integrity of the receipts</h2>'
        f'<p><span class="verdict">{esc(verdict)}.</span> {inner}</p></section>'
    )


def _pair(pair: Mapping[str, Any], limit: int) -> str:
    code = pair.get("sender_code")
    state = str(pair.get("state") or "")
    timeline = pair.get("timeline") or []
    badge = f'<span class="badge {esc(state)}">{esc(_STATE.get(state, state))}</span>'
    head = f"<h2>Sender code {esc(code, '(no valid sender code)')} {badge}</h2>"
    rows = [_row(index, entry, limit) for index, entry in enumerate(timeline, 1)]
    columns = [
        "#",
        "Requested / processed (UTC)",
        "Outcome",
        "Deadline",
        "WhatCounts record",
        "Reply",
        "Task",
    ]
    section_id = f"code-{esc(code, 'none')}"
    body = table(columns, rows, numeric=(0,), widths=(4, 16, 25, 11, 12, 15, 17))
    return f'<section class="code" id="{section_id}">{head}{body}</section>'


def _row(index: int, entry: Mapping[str, Any], limit: int) -> tuple[str, list[str]]:
    css = ["entry", f"status-{entry.get('status')}"]
    if entry.get("late"):
        css.append("late")
    when = (
        f"<div>requested: <time>{show_time(entry.get('requested_at'))}</time></div>"
        f"<div>processed: <time>{show_time(entry.get('processed_at'))}</time></div>"
    )
    outcome = f'<b>{esc(entry.get("label"))}</b><div class="small">{esc(entry.get("meaning"))}</div>'
    if entry.get("attempts"):
        outcome += f'<div class="small muted">{esc(plural(int(entry["attempts"]), "HTTP request"))}</div>'
    return " ".join(css), [
        str(index),
        when,
        outcome,
        _deadline(entry, limit),
        _ids(entry),
        _reply(entry),
        _task(entry),
    ]


def _deadline(entry: Mapping[str, Any], limit: int) -> str:
    days = entry.get("business_days_to_honour")
    if entry.get("honoured"):
        if entry.get("requested_at") is None or days is None:
            return '<span class="muted">no request time: not counted</span>'
        text = f"{days} of {limit} business days"
        return f'<span class="late-mark">LATE</span> {esc(text)}' if entry.get("late") else esc(text)
    if entry.get("honour_by") and entry.get("status") in ("failed", "needs_review"):
        by = esc(entry["honour_by"])
        return f'<span class="open-mark">not honoured by this attempt</span><div>honour by {by}</div>'
    return '<span class="muted">—</span>'


def _ids(entry: Mapping[str, Any]) -> str:
    ids = entry.get("whatcounts_ids") or {}
    if not ids:
        if entry.get("earlier_try_cut_short") is not None:
            return '<span class="muted">none: the answer of the try that was cut short was lost</span>'
        return '<span class="muted">none</span>'
    items = "".join(f"<dt>{esc(key)}</dt><dd>{esc(value)}</dd>" for key, value in ids.items())
    return f'<dl class="ids">{items}</dl>'


def _reply(entry: Mapping[str, Any]) -> str:
    parts = []
    if entry.get("message") is not None:
        parts.append(f'<blockquote class="message">{esc(entry["message"])}</blockquote>')
    if entry.get("reply_decision") is not None:
        parts.append(f"<div>classifier: <b>{esc(entry['reply_decision'])}</b></div>")
    if entry.get("reply_reason"):
        parts.append(f'<div class="small muted">{esc(entry["reply_reason"])}</div>')
    if entry.get("message_id") is not None:
        parts.append(f'<div class="small">message id: {esc(entry["message_id"])}</div>')
    if entry.get("scope") == "all":
        parts.append('<div class="small">scope: all sender codes (revoke-all)</div>')
    return "".join(parts) or '<span class="muted">no reply text</span>'


def _task(entry: Mapping[str, Any]) -> str:
    task = entry.get("task") or {}
    lines = [
        f"DAG {esc(task.get('dag_id'))}",
        f"run {esc(task.get('run_id'))}",
        f"task {esc(task.get('task_id'))}, map index {esc(task.get('map_index'))}",
        f"try {esc(task.get('try_number'))}",
        f"provider {esc(entry.get('provider_version'))}",
    ]
    return '<div class="small">' + "<br>".join(lines) + "</div>"
