"""The bulk record: its shape, counts per sender code, and masked log lines."""

from __future__ import annotations

from tests.helpers import SENDER
from whatcounts_provider.engine.record import BulkSummary
from whatcounts_provider.types import Row, StopOutcome


def outcome(
    given: object,
    status: str,
    phone: str | None,
    code: str | None = SENDER,
    *,
    row_code: object = SENDER,
    error: str | None = None,
    **kw,
) -> StopOutcome:
    number = len(TABLE) + 1
    row = Row(number, given, given, row_code)
    return StopOutcome(row, status, phone=phone, sender_code=code, error=error, **kw)  # type: ignore[arg-type]


TABLE: list[StopOutcome] = []
for _args, _kw in [
    (("2065959696", "stopped", "12065959696"), {"response": {}}),
    (("2065959697", "not_subscribed", "12065959697"), {}),
    (("bad", "invalid", None, None), {"error": "phone '***' is invalid"}),
    (("2065959698", "failed", "12065959698"), {"error": "HTTP 503"}),
    (("12065959696", "duplicate", "12065959696"), {}),
    (("2065959690", "already_done", "12065959690"), {}),
    (("2065959699", "stopped", "12065959699", "88555"), {"row_code": "88555", "response": {}}),
]:
    TABLE.append(outcome(*_args, **_kw))


def summed(form: str) -> BulkSummary:
    summary = BulkSummary(form=form, sender_code=SENDER if form == "phones" else None, receipts="file:///r")
    for item in TABLE:
        summary.add(item, late=item.index == 1)
    return summary


def test_the_phones_record_keeps_its_shape_and_counts_every_input():
    record = summed("phones").record(retries=7)
    assert record == {
        "sender_code": SENDER,
        "total": 7,
        "stopped": 2,
        "stopped_this_try": 2,
        "not_subscribed": ["12065959697"],
        "not_subscribed_after_cut_short": 0,
        "invalid": ["bad"],
        "failed": [{"phone": "12065959698", "error": "HTTP 503"}],
        "duplicates": 1,
        "by_sender_code": {
            "2065551212": {"stopped": 1, "not_subscribed": 1, "failed": 1},
            "88555": {"stopped": 1, "not_subscribed": 0, "failed": 0},
        },
        "already_done": 1,
        "late": 1,
        "not_opt_out": 0,
        "ambiguous": 0,
        "needs_review": [],
        "receipts": "file:///r",
        "retries": 7,
        "source": None,
        "error": None,
    }


def test_a_rows_record_names_each_pair_and_each_invalid_row():
    record = summed("rows").record(retries=0)
    assert record["sender_code"] is None
    assert record["not_subscribed"] == [{"phone": "12065959697", "sender_code": SENDER}]
    assert record["failed"] == [{"phone": "12065959698", "sender_code": SENDER, "error": "HTTP 503"}]
    assert record["invalid"] == [{"row": 3, "input": "bad", "error": "phone '***' is invalid"}]
    assert (record["total"], record["duplicates"], record["already_done"]) == (7, 1, 1)


def test_the_log_lines_mask_every_phone():
    report = "\n".join(summed("rows").log_lines())
    assert "12065959698" not in report
    assert "12065959697" not in report
    assert "*******9698" in report
    assert "7 inputs: 2 stopped, 1 not subscribed, 1 failed, 1 invalid, 1 duplicates" in report


def test_pairs_an_earlier_try_stopped_count_as_stopped_and_re_sends_after_a_kill_are_told_apart():
    summary = BulkSummary(form="rows", sender_code=None, receipts="file:///r")
    summary.earlier = {("12065959690", SENDER): "stopped"}
    summary.cut_short = 1
    for item in TABLE:
        summary.add(item, late=False)
    record = summary.record(retries=0)
    assert (record["stopped"], record["stopped_this_try"], record["already_done"]) == (3, 2, 1)
    assert record["by_sender_code"][SENDER]["stopped"] == 2
    assert record["not_subscribed_after_cut_short"] == 1
    assert "1 not subscribed when sent again after try 1 was cut short" in " ".join(summary.log_lines())
