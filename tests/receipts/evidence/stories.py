"""The receipts the evidence tests and the browser stage read: one phone's dispute, and a month.

Written by the real ``ReceiptWriter`` (``support.write``); every phone's story is in a comment.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from tests.receipts.evidence.support import (
    CODE_A,
    CODE_B,
    CODE_C,
    CODE_D,
    WHATCOUNTS,
    at,
    business_days_before,
    fields,
    identity,
    write,
)

if TYPE_CHECKING:
    from pathlib import Path

    from whatcounts_provider.receipts import TaskIdentity

SCRIPT = "<script>alert('x')</script> stop texting me"
INTACT = {"status": "intact", "checked_tries": 3, "problems": []}


def dispute(tmp_path: Path) -> list[dict[str, Any]]:
    """One phone's story across four sender codes, two tries and two runs."""
    first, second = identity(1), identity(2)
    later_run = identity(1, run_id="manual__2026-11-30T09:00:00+00:00")
    return write(
        tmp_path,
        [
            # A: stopped on Wednesday, requested on Monday: 2 business days; a later run re-sends it.
            (
                at("2026-11-25"),
                first,
                fields(
                    1,
                    CODE_A,
                    whatcounts=WHATCOUNTS,
                    requested_at="2026-11-23T08:14:09Z",
                    message="STOP",
                    message_id="msg-1",
                    reply_decision="opt_out",
                    reply_reason="'stop' standing alone",
                ),
            ),
            (
                at("2026-11-30", 9),
                later_run,
                fields(1, CODE_A, "not_subscribed", requested_at="2026-11-23T08:14:09Z"),
            ),
            # C: requested on 2 November, stopped on the 25th: 17 business days, late.
            (
                at("2026-11-25", 16, 1),
                first,
                fields(
                    2,
                    CODE_C,
                    whatcounts={**WHATCOUNTS, "id": 18, "smsSenderId": 3},
                    requested_at="2026-11-02T12:00:00Z",
                    message=SCRIPT,
                    reply_decision="opt_out",
                    reply_reason="'stop texting me' asks to stop",
                ),
            ),
            # D: failed, never honoured since: open at NOW.
            (
                at("2026-11-25", 16, 2),
                first,
                fields(3, CODE_D, "failed", requested_at="2026-11-20T10:00:00Z", error="HTTP 503"),
            ),
            # B: try 1 was killed before writing its receipts; try 2 finds no subscription left.
            (
                at("2026-11-26", 8),
                second,
                fields(
                    4, CODE_B, "not_subscribed", requested_at="2026-11-23T08:14:09Z", earlier_try_cut_short=1
                ),
            ),
        ],
    )


# Keys receipts gained with replies and the chain of tries: older receipts lack them.
NEWER_KEYS = ("message", "message_id", "reply_decision", "reply_reason", "scope", "earlier_try_cut_short")


def dispute_before_reply_keys(tmp_path: Path) -> list[dict[str, Any]]:
    """The dispute's receipts as written before those keys existed."""
    return [{k: v for k, v in receipt.items() if k not in NEWER_KEYS} for receipt in dispute(tmp_path)]


SINCE = datetime(2026, 11, 1, tzinfo=timezone.utc)
UNTIL = datetime(2026, 12, 1, tzinfo=timezone.utc)
#: Thursday 3 December 2026, 10:00 UTC.
PERIOD_NOW = datetime(2026, 12, 3, 10, tzinfo=timezone.utc)
#: Business days to honour of the 20 opt-outs with a request time (sorted: median 2, p95 12, max 14).
DAYS = [0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 5, 9, 12, 14]
OTHER_RUN = "manual__2026-12-02T09:00:00+00:00"


def phone(n: int) -> str:
    return f"1206555{n:04d}"


def failed(n: int, requested: str | None, status: str = "failed", **extra: Any) -> dict[str, Any]:
    return fields(n, CODE_A, status, phone(n), requested_at=requested, **extra)


def ambiguous(text: str) -> dict[str, Any]:
    return {
        "message": text,
        "reply_decision": "ambiguous",
        "reply_reason": "an opt-out word in an unclear sense",
    }


def month(tmp_path: Path) -> list[dict[str, Any]]:
    """A month of receipts; every phone's story is in a comment."""
    one, two, other = identity(1), identity(2), identity(1, run_id=OTHER_RUN)
    wed = at("2026-11-25")
    items: list[tuple[datetime, TaskIdentity, dict[str, Any]]] = []
    for n, days in enumerate(DAYS):
        requested = business_days_before(wed.date(), days).isoformat() + "T09:00:00Z"
        code = CODE_B if n % 4 == 0 else CODE_A  # 5 of them on B
        extra: dict[str, Any] = {"requested_at": requested}
        if n == 13:  # re-sent by try 2 after try 1 was killed: honoured, most likely by try 1
            items.append(
                (
                    wed + timedelta(minutes=n),
                    two,
                    fields(n + 1, code, "not_subscribed", phone(n), earlier_try_cut_short=1, **extra),
                )
            )
            continue
        items.append((wed + timedelta(minutes=n), one, fields(n + 1, code, phone=phone(n), **extra)))
    nov = "2026-11-{:02d}T10:00:00Z".format
    items += [
        (at("2026-11-02"), one, fields(100, CODE_A, phone=phone(100))),  # no request time
        (SINCE, one, fields(101, CODE_A, phone=phone(101))),  # exactly at since: in
        (UNTIL, other, fields(102, CODE_A, phone=phone(102))),  # exactly at until: out
        # F1: failed, requested Fri 20 Nov: 1 business day left on Thu 3 Dec.
        (at("2026-11-25", 17), one, failed(201, nov(20), error="HTTP 503")),
        # F2: failed on 10 Nov, requested Mon 9 Nov: deadline passed 8 business days ago.
        (at("2026-11-10"), one, failed(202, nov(9), error="HTTP 500")),
        # F3: failed, then stopped by another run after the window: not open.
        (at("2026-11-20"), one, failed(203, nov(19))),
        (at("2026-12-02"), other, fields(203, CODE_A, phone=phone(203))),
        # F4: an ambiguous reply held for review: open, and listed with the ambiguous replies.
        (at("2026-11-18"), one, failed(204, nov(18), "needs_review", **ambiguous("STOP who is this?"))),
        # F5: stopped in early November, failed again on a new request later: open.
        (at("2026-11-05"), one, fields(205, CODE_A, phone=phone(205))),
        (at("2026-11-24"), one, failed(205, nov(24))),
        # F6: failed by try 1 and by try 2: one open pair, the latest receipt.
        (at("2026-11-24", 18), one, failed(206, nov(24))),
        (at("2026-11-25", 18), two, failed(206, nov(24), error="HTTP 502")),
        # F7: failed, then stopped the next day in the window: not open.
        (at("2026-11-26"), one, failed(207, None)),
        (at("2026-11-27"), two, fields(207, CODE_A, phone=phone(207))),
        # An ambiguous reply sent as an opt-out (ambiguous="opt_out"), and the other held statuses.
        (at("2026-11-19"), one, fields(300, CODE_A, phone=phone(300), **ambiguous("cancel <b>my</b> order"))),
        (at("2026-11-19", 17), one, fields(301, CODE_A, "not_opt_out", phone(301), message="thanks")),
        (
            at("2026-11-19", 17),
            one,
            {"row": 302, "input": "call me", "status": "invalid", "error": "not a phone"},
        ),
        (at("2026-11-19", 17), one, fields(303, CODE_A, "duplicate", phone(300))),
    ]
    receipts = write(tmp_path, items)
    honoured = [r for r in receipts if r["row"] <= len(DAYS)]
    assert sorted(r["business_days_to_honour"] for r in honoured) == DAYS  # the data is what it says
    return receipts
