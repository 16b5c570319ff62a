"""The period report document: what was done in a window, how fast, and what is still open."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.receipts.evidence.stories import PERIOD_NOW as NOW
from tests.receipts.evidence.stories import SINCE, UNTIL, month, phone
from tests.receipts.evidence.support import CODE_A, CODE_B
from whatcounts_provider.receipts.evidence import period_report

if TYPE_CHECKING:
    from pathlib import Path


def report(tmp_path: Path, **kwargs: Any) -> dict[str, Any]:
    return period_report(iter(month(tmp_path)), since=SINCE, until=UNTIL, now=NOW, **kwargs)


def test_counts_per_status_and_per_sender_code(tmp_path: Path) -> None:
    doc = report(tmp_path)
    assert (doc["receipts"], doc["receipts_read"]) == (36, 38)  # the receipts at until and after are out
    assert doc["by_status"] == {
        "stopped": 24,
        "not_subscribed": 1,
        "failed": 7,
        "needs_review": 1,
        "not_opt_out": 1,
        "invalid": 1,
        "duplicate": 1,
    }
    assert (doc["honoured"], doc["honoured_after_cut_short"]) == (25, 1)
    codes = {c["sender_code"]: c for c in doc["by_sender_code"]}
    assert list(codes) == [CODE_A, CODE_B, None]
    assert codes[CODE_B]["by_status"]["stopped"] == 5
    assert codes[CODE_B]["total"] == 5
    assert codes[None]["by_status"]["invalid"] == 1
    assert sum(c["total"] for c in codes.values()) == 36


def test_since_is_in_and_until_is_out(tmp_path: Path) -> None:
    receipts = month(tmp_path)
    doc = period_report(receipts, since=SINCE, until=UNTIL, now=NOW)
    before = period_report(receipts, since=SINCE, until=UNTIL - timedelta(microseconds=1), now=NOW)
    after = period_report(receipts, since=SINCE + timedelta(microseconds=1), until=UNTIL, now=NOW)
    assert before["receipts"] == doc["receipts"]  # nothing at the last microsecond
    assert after["receipts"] == doc["receipts"] - 1  # the receipt processed exactly at since


def test_business_days_to_honour_median_p95_max_and_late(tmp_path: Path) -> None:
    doc = report(tmp_path)
    days = doc["business_days_to_honour"]
    assert (days["median"], days["p95"], days["max"], days["counted"]) == (2, 12, 14, 20)
    assert days["without_requested_at"] == 5
    assert days["histogram"][:3] == [
        {"days": 0, "count": 2},
        {"days": 1, "count": 5},
        {"days": 2, "count": 6},
    ]
    assert doc["late"]["total"] == 2
    assert [(e["business_days_to_honour"], e["phone"]) for e in doc["late"]["listed"]] == [
        (14, phone(19)),
        (12, phone(18)),
    ]


def test_a_tighter_limit_makes_more_opt_outs_late(tmp_path: Path) -> None:
    doc = report(tmp_path, honour_within_business_days=3)
    assert doc["late"]["total"] == 4  # 5, 9, 12 and 14 business days
    assert [e["business_days_to_honour"] for e in doc["late"]["listed"]] == [14, 12, 9, 5]


def test_open_pairs_with_business_days_left_and_never_a_pair_honoured_later(tmp_path: Path) -> None:
    doc = report(tmp_path)
    open_ = doc["open"]
    assert (open_["total"], open_["past_deadline"]) == (5, 2)
    assert [(e["phone"], e["status"], e["business_days_left"], e["honour_by"]) for e in open_["listed"]] == [
        (phone(202), "failed", -8, "2026-11-23"),
        (phone(204), "needs_review", -1, "2026-12-02"),
        (phone(201), "failed", 1, "2026-12-06"),
        (phone(205), "failed", 3, "2026-12-08"),
        (phone(206), "failed", 3, "2026-12-08"),
    ]
    f6 = open_["listed"][-1]
    assert (f6["task"]["try_number"], f6["error"]) == (2, "HTTP 502")  # the pair's latest receipt
    listed = {e["phone"] for e in open_["listed"]}
    assert phone(203) not in listed, "stopped later by another run, after the window"
    assert phone(207) not in listed, "stopped the next day"


def test_ambiguous_replies_and_caps_keep_exact_totals(tmp_path: Path) -> None:
    doc = report(tmp_path, listed=1)
    assert doc["ambiguous"]["total"] == 2
    (first,) = doc["ambiguous"]["listed"]  # the earliest first
    assert (first["phone"], first["message"], first["label"]) == (
        phone(204),
        "STOP who is this?",
        "needs review",
    )
    assert (doc["late"]["total"], len(doc["late"]["listed"])) == (2, 1)
    assert (doc["open"]["total"], len(doc["open"]["listed"])) == (5, 1)


def test_the_document_is_json_with_stable_keys(tmp_path: Path) -> None:
    doc = report(tmp_path)
    assert json.loads(json.dumps(doc)) == doc
    assert list(doc) == [
        "kind", "format_version", "since", "until", "generated_at", "window", "honour_within_business_days",
        "listed", "receipts", "receipts_read", "by_status", "honoured", "honoured_after_cut_short",
        "by_sender_code", "business_days_to_honour", "late", "open", "ambiguous",
    ]  # fmt: skip
    assert doc["since"] == "2026-11-01T00:00:00.000000+00:00"


def test_an_empty_period_has_no_statistics() -> None:
    doc = period_report([], since=SINCE, until=UNTIL, now=NOW)
    days = doc["business_days_to_honour"]
    assert (days["median"], days["p95"], days["max"], days["counted"]) == (None, None, None, 0)
    assert (doc["late"]["total"], doc["open"]["total"], doc["ambiguous"]["total"]) == (0, 0, 0)


def test_bad_input_is_refused_naming_the_problem() -> None:
    with pytest.raises(ValueError, match=r"since \(2026-12-01.*\) must be before until"):
        period_report([], since=UNTIL, until=SINCE, now=NOW)
    with pytest.raises(ValueError, match="listed must be an int >= 0, got -1"):
        period_report([], since=SINCE, until=UNTIL, now=NOW, listed=-1)
    with pytest.raises(ValueError, match="receipt row 7 of run 'r' has no processed_at"):
        period_report([{"row": 7, "run_id": "r", "status": "stopped"}], since=SINCE, until=UNTIL, now=NOW)
