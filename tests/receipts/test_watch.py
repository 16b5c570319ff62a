"""The deadline watch: which open opt-outs it lists, in what order, and how it fails a task.

Receipts are written with the real ``ReceiptWriter`` (identity and clock injected); ``now`` is
Wednesday 2026-11-25 16:00 UTC throughout.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.receipts.support import FakeUtcClock
from whatcounts_provider._compat import AirflowFailException
from whatcounts_provider.exceptions import WhatCountsDeadlineError, WhatCountsInputError
from whatcounts_provider.receipts import ReceiptWriter, TaskIdentity, task_instance_folder
from whatcounts_provider.receipts.watch import check_deadlines, deadline_risks

NOW = datetime(2026, 11, 25, 16, 0, tzinfo=timezone.utc)  # a Wednesday
SENDER = "2065551212"
NINE_DAYS_OLD, LATE, THREE_DAYS_OLD, HELD, UNDATED, HONOURED, REOPENED, HONOURED_FIRST, OTHER = (
    f"1206200000{n}" for n in range(1, 10)
)


def opt_out(phone: str, status: str, requested_at: str | None, **extra: Any) -> dict[str, Any]:
    """The fields of one receipt of ``phone`` on ``SENDER`` (``extra`` overrides or adds)."""
    fields = {"row": 1, "input": phone, "phone": phone, "sender_code": SENDER, "status": status}
    if requested_at is not None:
        fields["requested_at"] = requested_at
    if status == "failed":
        fields["error"] = "HTTP 503 after 5 attempts"
    return {**fields, **extra}


def write_receipts(
    root: Any,
    run_id: str,
    processed_at: datetime,
    receipts: list[dict[str, Any]],
    *,
    dag_id: str = "whatcounts_bulk_opt_out",
    task_id: str = "stop_sms",
    try_number: int = 1,
    compress: bool = False,
) -> None:
    """One try of one task instance, as the operators write it, processed at ``processed_at``."""
    identity = TaskIdentity(dag_id, run_id, task_id, -1, try_number)
    folder = task_instance_folder(root, identity)
    clock = FakeUtcClock(processed_at)
    with ReceiptWriter(folder, identity, clock=clock, background=False, compress=compress) as writer:
        for row, fields in enumerate(receipts, start=1):
            writer.add({**fields, "row": row})


def day(date: str) -> datetime:
    return datetime.fromisoformat(f"{date}T12:00:00+00:00")


def write_scenario(root: Any) -> None:
    """The pairs of the issue's example, spread over runs whose folder order is not time order."""
    write_receipts(
        root,
        "run_a",
        day("2026-11-10"),
        [
            opt_out(NINE_DAYS_OLD, "failed", "2026-11-12T10:00:00Z", error="HTTP 503"),
            opt_out(LATE, "failed", "2026-11-09T10:00:00Z"),
            opt_out(HONOURED, "failed", "2026-11-09T10:00:00Z"),
            # Honoured here, before the failure of the same request in run_z is read.
            opt_out(HONOURED_FIRST, "stopped", "2026-11-05T10:00:00Z"),
            opt_out(REOPENED, "stopped", "2026-10-30T10:00:00Z"),
            # Statuses that say nothing about a deadline.
            opt_out(OTHER, "not_opt_out", "2026-11-02T10:00:00Z", message="thanks"),
            opt_out(OTHER, "duplicate", "2026-11-02T10:00:00Z"),
            {"row": 1, "input": "call me", "status": "invalid", "error": "not a phone"},
        ],
    )
    write_receipts(
        root,
        "run_b",
        day("2026-11-20"),
        [
            opt_out(LATE, "failed", "2026-11-09T10:00:00Z", error="HTTP 500"),  # the same request again
            opt_out(THREE_DAYS_OLD, "failed", "2026-11-20T10:00:00Z"),
            opt_out(
                HELD, "needs_review", "2026-11-13T10:00:00Z", message="stop?", reply_decision="ambiguous"
            ),
            opt_out(UNDATED, "failed", None),
            # A new request after the stop of run_a: the pair is open again.
            opt_out(REOPENED, "failed", "2026-11-11T10:00:00Z"),
            # A reply that is not an opt-out does not close the failed one.
            opt_out(NINE_DAYS_OLD, "not_opt_out", "2026-11-19T10:00:00Z", message="thanks"),
            # Another sender code of the same phone, honoured: a pair of its own.
            opt_out(NINE_DAYS_OLD, "stopped", "2026-11-12T10:00:00Z", sender_code="55555"),
        ],
        try_number=2,
        compress=True,
    )
    write_receipts(root, "run_c", day("2026-11-23"), [opt_out(HONOURED, "stopped", "2026-11-09T10:00:00Z")])
    write_receipts(
        root,
        "run_z",
        day("2026-11-24"),
        [opt_out(HONOURED_FIRST, "failed", "2026-11-05T10:00:00Z")],
        dag_id="whatcounts_stop_sms_from_pipeline",
    )


def test_lists_the_open_pairs_near_or_past_the_deadline_most_urgent_first(location: str) -> None:
    write_scenario(location)

    risks = deadline_risks(location, within_business_days=2, now=NOW)

    assert [(r["phone"], r["business_days_left"], r["honour_by"]) for r in risks] == [
        (LATE, -2, "2026-11-23"),
        (REOPENED, 0, "2026-11-25"),  # today is the last day
        (NINE_DAYS_OLD, 1, "2026-11-26"),
        (HELD, 2, "2026-11-29"),  # Friday the 27th is the last business day: the weekend is on time
        (UNDATED, None, None),
    ]
    late = risks[0]
    assert late == {
        "phone": LATE,
        "sender_code": SENDER,
        "status": "failed",
        "error": "HTTP 500",  # the latest receipt's word
        "requested_at": "2026-11-09T10:00:00.000000+00:00",
        "honour_by": "2026-11-23",
        "business_days_left": -2,
        "open_requests": 1,  # the same request failed twice
        "processed_at": "2026-11-20T12:00:00.000000+00:00",
        "dag_id": "whatcounts_bulk_opt_out",
        "run_id": "run_b",
        "task_id": "stop_sms",
        "map_index": -1,
        "try_number": 2,
    }
    assert risks[3]["status"] == "needs_review"
    assert risks[4]["status"] == "failed"
    assert risks[4]["requested_at"] is None


def test_a_wider_window_lists_the_young_failure_and_zero_only_the_due_and_late(tmp_path: Any) -> None:
    write_scenario(tmp_path)

    wide = deadline_risks(tmp_path, within_business_days=7, now=NOW)
    narrow = deadline_risks(tmp_path, within_business_days=0, now=NOW)

    assert [(r["phone"], r["business_days_left"]) for r in wide][-2:] == [
        (THREE_DAYS_OLD, 7),
        (UNDATED, None),
    ]
    assert [r["phone"] for r in narrow] == [LATE, REOPENED, UNDATED]


def test_a_later_final_receipt_of_the_same_pair_closes_it_in_any_folder_order(tmp_path: Any) -> None:
    write_scenario(tmp_path)
    phones = {r["phone"] for r in deadline_risks(tmp_path, within_business_days=100, now=NOW)}
    assert HONOURED not in phones, "failed in run_a, stopped in run_c"
    assert HONOURED_FIRST not in phones, "stopped after the request (run_a), failed again later (run_z)"
    assert OTHER not in phones, "not_opt_out, duplicate and invalid receipts open nothing"
    assert THREE_DAYS_OLD in phones


def test_the_deadline_is_the_earliest_request_not_honoured(tmp_path: Any) -> None:
    write_receipts(tmp_path, "run_a", day("2026-11-06"), [opt_out(LATE, "failed", "2026-11-05T10:00:00Z")])
    write_receipts(
        tmp_path, "run_b", day("2026-11-24"), [opt_out(LATE, "needs_review", "2026-11-23T09:00:00Z")]
    )

    (risk,) = deadline_risks(tmp_path, now=NOW)

    assert (risk["requested_at"], risk["business_days_left"]) == ("2026-11-05T10:00:00.000000+00:00", -4)
    assert (risk["status"], risk["run_id"], risk["open_requests"]) == ("needs_review", "run_b", 2)


def test_pairs_without_requested_at_can_be_left_out_but_are_counted(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    write_scenario(tmp_path)
    with caplog.at_level(logging.INFO, logger="whatcounts_provider"):
        risks = deadline_risks(tmp_path, include_undated=False, now=NOW)
    assert UNDATED not in {r["phone"] for r in risks}
    assert "1 open pair(s) have no requested_at" in caplog.text
    assert "*******0005 on 2065551212" in caplog.text
    assert "17 receipts read, 6 open pair(s) (1 without requested_at); 4 due within 2" in caplog.text
    assert not any(phone in caplog.text for phone in (LATE, UNDATED, NINE_DAYS_OLD))


def test_nothing_open_is_an_empty_list(tmp_path: Any) -> None:
    write_receipts(tmp_path, "run_a", day("2026-11-02"), [opt_out(LATE, "stopped", "2026-10-01T00:00:00Z")])
    assert deadline_risks(tmp_path, now=NOW) == []
    assert check_deadlines(tmp_path, now=NOW) == []


def test_check_deadlines_fails_with_a_masked_summary_and_keeps_the_list(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    write_scenario(tmp_path)

    with pytest.raises(WhatCountsDeadlineError) as raised, caplog.at_level(logging.DEBUG):
        check_deadlines(tmp_path, now=NOW)

    message = str(raised.value)
    assert message.startswith(
        "5 opt-out(s) not honoured yet: 1 past the deadline, 3 due within 2 business day(s), "
        "1 without requested_at (deadline unknown); soonest honour_by 2026-11-23. "
        "*******0002 on 2065551212 (failed, honour by 2026-11-23, 2 business day(s) late); "
    )
    assert "*******0001 on 2065551212 (failed, honour by 2026-11-26, 1 business day(s) left)" in message
    assert "*******0005 on 2065551212 (failed, deadline unknown)" in message
    assert not any(phone in message for phone in (LATE, UNDATED, REOPENED, HELD, NINE_DAYS_OLD))
    assert raised.value.risks == deadline_risks(tmp_path, now=NOW)
    # The task log holds the alert too, whoever renders the exception.
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [message]
    assert not any(phone in caplog.text for phone in (LATE, UNDATED, REOPENED, HELD, NINE_DAYS_OLD))
    # No retry can change what the receipts say: the failure does not spend the task's retries.
    assert isinstance(raised.value, AirflowFailException)


def test_check_deadlines_without_fail_returns_the_list_and_warns_masked(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    write_scenario(tmp_path)
    with caplog.at_level(logging.DEBUG):
        risks = check_deadlines(tmp_path, fail=False, now=NOW)
    assert [r["phone"] for r in risks] == [LATE, REOPENED, NINE_DAYS_OLD, HELD, UNDATED]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("5 opt-out(s) not honoured yet")
    assert not any(phone in caplog.text for phone in (LATE, UNDATED, REOPENED, HELD, NINE_DAYS_OLD))


def test_the_message_names_ten_pairs_and_counts_the_rest(tmp_path: Any) -> None:
    many = [f"1206300{n:04d}" for n in range(12)]
    write_receipts(
        tmp_path, "run_a", day("2026-11-06"), [opt_out(p, "failed", "2026-11-05T10:00:00Z") for p in many]
    )
    with pytest.raises(WhatCountsDeadlineError) as raised:
        check_deadlines(tmp_path, now=NOW)
    message = str(raised.value)
    assert message.count("*******") == 10
    assert message.endswith(" and 2 more. Re-run them, or review the held replies, before the deadline")
    assert len(raised.value.risks) == 12


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"within_business_days": -1}, "within_business_days must be a whole number of business days >= 0"),
        ({"within_business_days": True}, "within_business_days must be a whole number"),
        ({"within_business_days": 1.5}, "within_business_days must be a whole number"),
        ({"honour_within_business_days": "ten"}, "honour_within_business_days must be a whole number"),
        ({"now": "2026-11-25"}, "now must be a datetime, got str"),
    ],
)
def test_bad_arguments_fail_before_anything_is_read(
    tmp_path: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(WhatCountsInputError, match=message):
        deadline_risks(tmp_path / "does-not-matter", **kwargs)


def test_rendered_digits_are_accepted(tmp_path: Any) -> None:
    write_scenario(tmp_path)
    risks = deadline_risks(tmp_path, within_business_days=" 0 ", honour_within_business_days="10", now=NOW)  # type: ignore[arg-type]
    assert [r["phone"] for r in risks] == [LATE, REOPENED, UNDATED]


@pytest.mark.parametrize("where", ["missing", "empty"])
def test_a_root_without_any_file_is_an_error_not_an_all_clear(tmp_path: Any, where: str) -> None:
    root = tmp_path / "receipts"
    if where == "empty":
        root.mkdir()
    with pytest.raises(WhatCountsInputError, match=f"receipts_path {root} holds no files: check the path"):
        deadline_risks(root, now=NOW)


def test_a_naive_now_means_utc(tmp_path: Any) -> None:
    write_scenario(tmp_path)
    naive = deadline_risks(tmp_path, now=NOW.replace(tzinfo=None))
    assert naive == deadline_risks(tmp_path, now=NOW)
