"""Bulk building blocks without a server: input coercion, the throttle, the bounded work window."""

from __future__ import annotations

import pytest

from whatcounts_provider.hooks import _bulk
from whatcounts_provider.hooks._bulk import StopOutcome
from whatcounts_provider.operators._bulk_report import BulkSummary, Progress, coerce_phones


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["2065959696", 2065959697], ["2065959696", 2065959697]),
        (("2065959696",), ["2065959696"]),
        ('["2065959696", "2065959697"]', ["2065959696", "2065959697"]),
        ("['2065959696', 2065959697]", ["2065959696", 2065959697]),
        ("  [2065959696]\n", [2065959696]),
        ("[]", []),
    ],
    ids=["list", "tuple", "json-text", "python-literal-text", "padded-text", "empty-list-text"],
)
def test_phones_accepts_lists_and_list_text(value, expected):
    assert coerce_phones(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "2065959696",
        "2065959696,2065959697",
        "[__import__('os').system('true')]",
        "{'a': 1}",
        "['unterminated'",
        {"phone": "2065959696"},
        None,
        12065959696,
    ],
    ids=[
        "single-phone-text",
        "comma-text",
        "code-in-text",
        "dict-text",
        "broken-text",
        "dict",
        "none",
        "int",
    ],
)
def test_phones_rejects_anything_else_with_a_hint(value):
    with pytest.raises(TypeError, match=r"phones.*(upstream\.output|render_template_as_native_obj)"):
        coerce_phones(value)


@pytest.mark.parametrize("workers", [0, 65, -1, 2.5, True, "8"])
def test_workers_must_be_a_sane_whole_number(workers):
    with pytest.raises(ValueError, match="max_workers"):
        _bulk.check_workers(workers)


# The pair sorting, the bounded window and cancellation are tested in tests/hooks/test_pairs.py.


# The throttle's tests (fake clock, exact slots) are in tests/hooks/test_throttle.py.


def test_summary_accounts_for_every_input():
    summary = BulkSummary("2065551212", total=6)
    for outcome in [
        StopOutcome("12065959696", "stopped", response={}),
        StopOutcome("12065959697", "not_subscribed"),
        StopOutcome("bad", "invalid", error="phone '***' is invalid"),
        StopOutcome("12065959698", "failed", error="HTTP 503"),
        StopOutcome("12065959699", "stopped", response={}),
    ]:
        summary.add(outcome)
    record = summary.record(retries=7)
    assert record == {
        "sender_code": "2065551212",
        "total": 6,
        "stopped": 2,
        "not_subscribed": ["12065959697"],
        "invalid": ["bad"],
        "failed": [{"phone": "12065959698", "error": "HTTP 503"}],
        "duplicates": 1,
        "retries": 7,
    }
    report = "\n".join(summary.log_lines())
    assert "12065959698" not in report
    assert "*******9698" in report


def test_progress_logs_rate_and_eta_at_most_every_interval(caplog):
    import logging

    now = [100.0]
    logger = logging.getLogger("test.progress")
    progress = Progress(total=1000, log=logger, every=10.0, clock=lambda: now[0])
    with caplog.at_level("INFO", logger="test.progress"):
        for done in range(1, 1001):
            now[0] += 1 / 32  # 32 phones a second (exact in binary): 31.25 s in all
            progress.tick(done)
        progress.finish(1000)
    lines = [r.getMessage() for r in caplog.records]
    # ticks at 10 s, 20 s and 30 s (phones 320, 640, 960), then finish(): never one line per phone
    assert lines == [
        "Progress: 320/1000 phones (32.0%), 32/s, elapsed 10.0 s, ETA 21 s",
        "Progress: 640/1000 phones (64.0%), 32/s, elapsed 20.0 s, ETA 11 s",
        "Progress: 960/1000 phones (96.0%), 32/s, elapsed 30.0 s, ETA 1 s",
        "Progress: 1000/1000 phones (100.0%), 32/s, elapsed 31.2 s, ETA 0 s",
    ]
    assert all("/s" in line and "ETA" in line for line in lines)
