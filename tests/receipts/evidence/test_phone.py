"""The evidence document of one phone: what was asked, done and answered, per sender code."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

import pytest

from tests.receipts.evidence.stories import INTACT, SCRIPT, dispute, dispute_before_reply_keys
from tests.receipts.evidence.support import (
    CODE_A,
    CODE_B,
    CODE_C,
    CODE_D,
    NOW,
    PHONE,
    WHATCOUNTS,
)
from whatcounts_provider.receipts.evidence import phone_evidence

if TYPE_CHECKING:
    from pathlib import Path


def test_summary_says_in_plain_words_when_each_code_was_opted_out(tmp_path: Path) -> None:
    summary = phone_evidence(dispute(tmp_path), phone=PHONE, now=NOW)["summary"]
    assert summary[0] == (
        f"Opted out of sender code {CODE_A} on 2026-11-25 (UTC), 2 business days after the request of "
        "2026-11-23 (limit 10)."
    )
    assert any(
        line.startswith(f"Opted out of sender code {CODE_C} on 2026-11-25") and "LATE" in line
        for line in summary
    )
    assert any(line.startswith(f"NOT honoured yet on sender code {CODE_D}") for line in summary)


def test_a_resend_of_the_same_request_only_confirms_the_first_opt_out(tmp_path: Path) -> None:
    doc = phone_evidence(dispute(tmp_path), phone=PHONE, now=NOW)
    lines = [line for line in doc["summary"] if CODE_A in line]
    assert len(lines) == 1, "the later run's not_subscribed receipt of the same request adds no line"
    assert lines[0].startswith(f"Opted out of sender code {CODE_A} on 2026-11-25")


def test_timeline_per_sender_code_in_processed_order_with_ids_and_task(tmp_path: Path) -> None:
    doc = phone_evidence(list(reversed(dispute(tmp_path))), phone=PHONE, now=NOW)
    assert [p["sender_code"] for p in doc["sender_codes"]] == [CODE_A, CODE_C, CODE_D, CODE_B]
    timeline = doc["sender_codes"][0]["timeline"]
    assert [(e["status"], e["processed_at"]) for e in timeline] == [
        ("stopped", "2026-11-25T16:00:00.000000+00:00"),
        ("not_subscribed", "2026-11-30T09:00:00.000000+00:00"),
    ]
    first = timeline[0]
    assert first["whatcounts_ids"] == {"id": 17, "smsSubscriberId": 5, "smsSenderId": 2}
    assert first["requested_at"] == "2026-11-23T08:14:09.000000+00:00"
    assert (first["business_days_to_honour"], first["late"]) == (2, False)
    assert first["task"]["dag_id"] == "whatcounts_bulk_opt_out"
    assert first["task"]["try_number"] == 1
    assert (first["message_id"], first["reply_decision"]) == ("msg-1", "opt_out")
    assert timeline[1]["task"]["run_id"] == "manual__2026-11-30T09:00:00+00:00"


def test_the_reply_text_is_kept_as_it_was(tmp_path: Path) -> None:
    doc = phone_evidence(dispute(tmp_path), phone=PHONE, now=NOW)
    pair = next(p for p in doc["sender_codes"] if p["sender_code"] == CODE_C)
    assert pair["timeline"][0]["message"] == SCRIPT, "the document is data: escaping is the page's job"


def test_late_opt_outs_are_marked(tmp_path: Path) -> None:
    doc = phone_evidence(dispute(tmp_path), phone=PHONE, now=NOW)
    (late,) = [e for p in doc["sender_codes"] for e in p["timeline"] if e["late"]]
    assert (late["sender_code"], late["business_days_to_honour"]) == (CODE_C, 17)


def test_a_resend_after_a_try_was_cut_short_is_honoured_by_that_try(tmp_path: Path) -> None:
    doc = phone_evidence(dispute(tmp_path), phone=PHONE, now=NOW)
    pair = next(p for p in doc["sender_codes"] if p["sender_code"] == CODE_B)
    assert pair["state"] == "honoured"
    (entry,) = pair["timeline"]
    assert entry["label"] == "honoured (most likely by try 1; answer record lost)"
    assert entry["earlier_try_cut_short"] == 1
    assert "most likely honoured by try 1" in entry["meaning"]
    assert any("most likely honoured by try 1" in line for line in doc["summary"] if CODE_B in line)


def test_a_pair_still_failing_shows_the_business_days_left(tmp_path: Path) -> None:
    doc = phone_evidence(dispute(tmp_path), phone=PHONE, now=NOW)
    pair = next(p for p in doc["sender_codes"] if p["sender_code"] == CODE_D)
    # Requested Friday 20 Nov; by Tuesday 1 Dec 7 business days have passed: 3 left, until Sunday 6 Dec.
    assert (pair["state"], pair["business_days_left"], pair["honour_by"]) == ("open", 3, "2026-12-06")
    line = next(line for line in doc["summary"] if CODE_D in line)
    assert line.endswith("failed; 3 business days left (honour by 2026-12-06).")
    later = phone_evidence(dispute(tmp_path / "again"), phone=PHONE, now=datetime(2026, 12, 9, 12))
    line = next(line for line in later["summary"] if CODE_D in line)
    assert "the deadline (2026-12-06) passed 3 business days ago" in line  # Mon 7, Tue 8, Wed 9


def test_the_document_is_json_with_stable_keys(tmp_path: Path) -> None:
    doc = phone_evidence(dispute(tmp_path), phone=PHONE, now=NOW, integrity=INTACT)
    assert json.loads(json.dumps(doc)) == doc
    assert list(doc) == [
        "kind", "format_version", "phone", "generated_at", "honour_within_business_days", "receipts",
        "first_processed_at", "last_processed_at", "summary", "sender_codes", "integrity",
    ]  # fmt: skip
    assert list(doc["sender_codes"][0]) == [
        "sender_code", "state", "summary", "business_days_left", "honour_by", "timeline",
    ]  # fmt: skip
    assert doc["integrity"] == INTACT
    assert doc["sender_codes"][0]["timeline"][0]["whatcounts"] == WHATCOUNTS


def test_without_a_check_the_integrity_is_not_checked(tmp_path: Path) -> None:
    doc = phone_evidence(dispute(tmp_path), phone=PHONE, now=NOW)
    assert doc["integrity"] == {"status": "not_checked", "checked_tries": 0, "problems": []}


def test_receipts_from_before_the_reply_keys_still_make_a_document(tmp_path: Path) -> None:
    old = dispute_before_reply_keys(tmp_path)
    doc = phone_evidence(old, phone=PHONE, now=NOW)
    entry = doc["sender_codes"][3]["timeline"][0]
    assert (entry["label"], entry["message"]) == ("not subscribed", None)


def test_no_receipt_is_an_empty_document() -> None:
    doc = phone_evidence([], phone=PHONE, now=NOW)
    assert (doc["receipts"], doc["summary"], doc["sender_codes"]) == (0, [], [])
    assert doc["first_processed_at"] is None


def test_bad_input_is_refused_naming_the_problem(tmp_path: Path) -> None:
    receipts = dispute(tmp_path)
    with pytest.raises(
        ValueError, match=r"a receipt of phone \*{7}0100 was given for phone \*{7}0199"
    ) as err:
        phone_evidence(receipts, phone="12065550199", now=NOW)
    assert PHONE not in str(err.value), "full phones never go into an error (it may be logged)"
    with pytest.raises(ValueError, match="integrity status 'fine' is not one of"):
        phone_evidence(receipts, phone=PHONE, now=NOW, integrity={"status": "fine"})
    with pytest.raises(ValueError, match="phone must be"):
        phone_evidence(receipts, phone="", now=NOW)
    with pytest.raises(ValueError, match="honour_within_business_days must be an int >= 0"):
        phone_evidence(receipts, phone=PHONE, now=NOW, honour_within_business_days=-1)
    with pytest.raises(TypeError, match="now must be a datetime"):
        phone_evidence(receipts, phone=PHONE, now="2026-12-01")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="processed_at 'yesterday' is not an ISO-8601 time"):
        phone_evidence([{**receipts[0], "processed_at": "yesterday"}], phone=PHONE, now=NOW)
