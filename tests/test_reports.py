"""merge_stop_reports: one report for a scaled-out run, and a failure whenever anything is missing."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import pytest

from whatcounts_provider.exceptions import (
    WhatCountsBulkError,
    WhatCountsIncompleteRunError,
    WhatCountsInputError,
)
from whatcounts_provider.reports import merge_stop_reports

try:
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.execution_time.context import set_current_context
except ImportError:  # Airflow 2.11
    from airflow.io.path import ObjectStoragePath  # type: ignore[no-redef]
    from airflow.models.taskinstance import set_current_context  # type: ignore[no-redef]

SOURCES = [f"s3://aws_default@replies/2026-11-25/chunk-{i:04d}.csv" for i in range(3)]


def chunk(
    source: str | None,
    *,
    total: int = 100,
    stopped: int = 90,
    not_subscribed: list[Any] | None = None,
    invalid: list[Any] | None = None,
    failed: list[Any] | None = None,
    duplicates: int = 0,
    error: str | None = None,
    sender_code: str | None = None,
    by_sender_code: dict[str, dict[str, int]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A bulk record as docs/inputs.md defines it, plus the chunk keys ``source`` and ``error``."""
    return {
        "sender_code": sender_code,
        "total": total,
        "stopped": stopped,
        "not_subscribed": not_subscribed if not_subscribed is not None else [],
        "invalid": invalid if invalid is not None else [],
        "failed": failed if failed is not None else [],
        "duplicates": duplicates,
        "retries": 1,
        "by_sender_code": by_sender_code or {},
        "receipts": f"file:///receipts/{source}" if source else None,
        "already_done": 2,
        "late": 1,
        "source": source,
        "error": error,
        **extra,
    }


def ok_chunks() -> list[dict[str, Any]]:
    return [
        chunk(
            SOURCES[0],
            total=100,
            stopped=97,
            duplicates=1,
            not_subscribed=[{"phone": "12062000001", "sender_code": "11111"}],
            by_sender_code={
                "11111": {"stopped": 60, "not_subscribed": 1, "failed": 0},
                "22222": {"stopped": 37},
            },
        ),
        chunk(
            SOURCES[1],
            total=50,
            stopped=48,
            duplicates=0,
            not_subscribed=[
                {"phone": "12062000002", "sender_code": "22222"},
                {"phone": "12062000003", "sender_code": "22222", "source": "kept"},
            ],
            by_sender_code={"22222": {"stopped": 48, "not_subscribed": 2, "failed": 0}},
        ),
        chunk(SOURCES[2], total=0, stopped=0, by_sender_code={}),
    ]


class Pusher:
    def __init__(self) -> None:
        self.pushed: list[tuple[str, Any]] = []

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed.append((key, json.loads(json.dumps(value))))  # XCom needs JSON


@pytest.mark.parametrize("expected", [3, SOURCES, tuple(SOURCES), [{"source": s} for s in SOURCES]])
def test_all_chunks_reported_gives_exact_totals(expected: Any) -> None:
    pusher = Pusher()
    report = merge_stop_reports(reversed(ok_chunks()), expected=expected, push_to=pusher)
    assert report == {
        "total": 150,
        "stopped": 145,
        "stopped_this_try": 145,  # records without the key (older versions): their stopped
        "not_subscribed_after_cut_short": 0,
        "not_subscribed": [
            {"phone": "12062000002", "sender_code": "22222", "source": SOURCES[1]},
            {"phone": "12062000003", "sender_code": "22222", "source": "kept"},
            {"phone": "12062000001", "sender_code": "11111", "source": SOURCES[0]},
        ],
        "invalid": [],
        "failed": [],
        "duplicates": 1,
        "by_sender_code": {
            "22222": {"stopped": 85, "not_subscribed": 2, "failed": 0},
            "11111": {"stopped": 60, "not_subscribed": 1, "failed": 0},
        },
        "already_done": 6,
        "late": 3,
        "not_opt_out": 0,
        "ambiguous": 0,
        "needs_review": [],
        "retries": 3,
        "sender_code": None,
        "receipts": [f"file:///receipts/{s}" for s in reversed(SOURCES)],
        "chunks_expected": 3,
        "chunks_reported": 3,
        "chunks_missing": 0,
        "missing_chunks": [],
        "errors": [],
    }
    assert pusher.pushed == []  # on success the task's own return value is the XCom
    json.dumps(report)


def test_phones_chunks_keep_the_record_format_of_today() -> None:
    records = [
        {"sender_code": "11111", "total": 3, "stopped": 2, "not_subscribed": ["12062000001"], "invalid": [],
         "failed": [], "duplicates": 0, "retries": 0},
        {"sender_code": "11111", "total": 2, "stopped": 2, "not_subscribed": [], "invalid": [], "failed": [],
         "duplicates": 0, "retries": 4},
    ]  # fmt: skip
    report = merge_stop_reports(records, expected=2, push_to=None)
    assert (report["total"], report["stopped"], report["not_subscribed"]) == (5, 4, ["12062000001"])
    assert (report["sender_code"], report["retries"], report["already_done"], report["late"]) == (
        "11111",
        4,
        0,
        0,
    )


def merge_error(reports: Any, expected: Any, **kwargs: Any) -> WhatCountsIncompleteRunError:
    with pytest.raises(WhatCountsIncompleteRunError) as error:
        merge_stop_reports(reports, expected=expected, **kwargs)
    assert isinstance(error.value, WhatCountsBulkError)
    json.dumps(error.value.summary)
    return error.value


@pytest.mark.parametrize(
    ("reports", "expected", "missing", "message"),
    [
        # Airflow 3: a chunk that died before pushing is simply absent from the mapped output.
        (lambda c: [c[0], c[2]], SOURCES, [SOURCES[1]], f"1 of 3 chunks did not report: {SOURCES[1]}"),
        (lambda c: [c[2], c[0]], [ObjectStoragePath(s) for s in SOURCES], [SOURCES[1]], SOURCES[1]),
        (lambda c: [], SOURCES, SOURCES, f"3 of 3 chunks did not report: {', '.join(SOURCES)}"),
        # Airflow 2.11: the output keeps its slot, None.
        (lambda c: [c[0], None, c[2]], 3, ["map_index 1"], "1 of 3 chunks did not report: map_index 1"),
        (lambda c: [None, None, c[2]], SOURCES, SOURCES[:2], f"2 of 3 chunks did not report: {SOURCES[0]}"),
        # Records without source (phones chunks): the 2.11 slot or a map_index names them...
        (
            lambda c: [{**c[0], "source": None}, None, {**c[2], "source": None}],
            SOURCES,
            [SOURCES[1]],
            f"1 of 3 chunks did not report: {SOURCES[1]}",
        ),
        (
            lambda c: [{**c[2], "source": None, "map_index": 2}, {**c[0], "source": None, "map_index": 0}],
            3,
            ["map_index 1"],
            "map_index 1",
        ),
        # ... else only the count is known, and said.
        (
            lambda c: [{**c[0], "source": None}, {**c[2], "source": None}],
            3,
            [],
            "1 of 3 chunks did not report (unnamed: their records carry no source or map_index)",
        ),
    ],
)
def test_a_missing_chunk_fails_the_merge_naming_it(
    reports: Any, expected: Any, missing: Any, message: str
) -> None:
    pusher = Pusher()
    error = merge_error(reports(ok_chunks()), expected, push_to=pusher)
    assert message in str(error)
    assert error.summary["missing_chunks"] == missing
    assert (
        error.summary["chunks_missing"] == error.summary["chunks_expected"] - error.summary["chunks_reported"]
    )
    assert error.summary["chunks_missing"] >= 1
    assert pusher.pushed == [("return_value", error.summary)]


def test_locations_match_whatever_form_the_records_give() -> None:
    expected = [
        "/data/a.csv",
        "file:///data/b.csv",
        "s3://conn:secret@bucket/c.csv",
        ObjectStoragePath("file:///data/d.csv"),
    ]
    records = [chunk("file:///data/a.csv"), chunk("/data/b.csv"), chunk("s3://conn:***@bucket/c.csv")]
    error = merge_error(records, expected, push_to=None)
    assert error.summary["missing_chunks"] == ["/data/d.csv"]
    assert "secret" not in str(error)


def test_the_same_location_mapped_twice_must_report_twice() -> None:
    error = merge_error([chunk(SOURCES[0])], [SOURCES[0], SOURCES[0]], push_to=None)
    assert error.summary["missing_chunks"] == [SOURCES[0]]


def test_failures_and_invalid_inputs_fail_the_merge_with_the_merged_lists() -> None:
    records = ok_chunks()
    records[0]["failed"] = [
        {"phone": "12062000010", "sender_code": "11111", "error": "HTTP 503 after 5 tries"}
    ]
    records[2]["invalid"] = [{"row": 7, "input": {"phone": "12"}, "error": "phone '**12' is invalid"}]
    records[2]["failed"] = [{"phone": "12062000011", "sender_code": "22222", "error": "timeout"}]
    error = merge_error(records, SOURCES)
    assert "2 phone(s) failed; 1 input(s) were invalid" in str(error)
    assert error.summary["failed"] == [
        {
            "phone": "12062000010",
            "sender_code": "11111",
            "error": "HTTP 503 after 5 tries",
            "source": SOURCES[0],
        },
        {"phone": "12062000011", "sender_code": "22222", "error": "timeout", "source": SOURCES[2]},
    ]
    assert error.summary["invalid"] == [
        {"row": 7, "input": {"phone": "12"}, "error": "phone '**12' is invalid", "source": SOURCES[2]}
    ]
    assert error.summary["chunks_missing"] == 0


def test_replies_are_summed_and_held_ones_fail_the_merge_naming_their_chunk() -> None:
    records = ok_chunks()
    records[0].update(not_opt_out=4, ambiguous=2)
    records[1].update(
        not_opt_out=1, ambiguous=1, needs_review=[{"row": 3, "phone": "12062000012", "sender_code": "11111"}]
    )
    error = merge_error(records, SOURCES)
    assert "1 ambiguous reply(ies) await review" in str(error)
    assert (error.summary["not_opt_out"], error.summary["ambiguous"]) == (5, 3)
    assert error.summary["needs_review"] == [
        {"row": 3, "phone": "12062000012", "sender_code": "11111", "source": SOURCES[1]}
    ]


def test_a_chunk_that_reported_an_abort_fails_the_merge() -> None:
    records = ok_chunks()
    records[1] = chunk(
        SOURCES[1], total=0, stopped=0, error="WhatCountsAuthError: WhatCounts rejected the realm"
    )
    error = merge_error(records, 3)
    assert f"1 chunk(s) aborted: {SOURCES[1]}: WhatCountsAuthError: WhatCounts rejected the realm" in str(
        error
    )
    assert error.summary["errors"] == [
        {"chunk": SOURCES[1], "error": "WhatCountsAuthError: WhatCounts rejected the realm"}
    ]
    assert error.summary["chunks_reported"] == 3


@pytest.mark.parametrize(
    ("bad", "text"),
    [
        ("a string", "pushed a str, not a bulk record"),
        (
            {"source": SOURCES[1], "stopped": 3},
            "pushed a record without total, not_subscribed, invalid, failed",
        ),
    ],
)
def test_a_record_that_is_not_a_bulk_record_fails_the_merge(bad: Any, text: str) -> None:
    records: list[Any] = ok_chunks()
    records[1] = bad
    error = merge_error(records, SOURCES)
    assert text in str(error)
    assert error.summary["chunks_reported"] == 2
    assert error.summary["missing_chunks"] == [SOURCES[1]]


def test_more_chunks_than_expected_or_unmapped_sources_fail_the_merge() -> None:
    error = merge_error(ok_chunks(), 2)
    assert "3 chunks reported but 2 were expected: pass expected= the list" in str(error)
    error = merge_error(ok_chunks(), [*SOURCES[:2], "s3://aws_default@replies/other.csv"])
    assert f"chunks reported sources that were not mapped: {SOURCES[2]}" in str(error)
    assert error.summary["missing_chunks"] == ["s3://aws_default@replies/other.csv"]


@pytest.mark.parametrize("expected", ["3", b"3", {"a": 1}, True, -1, 3.0, None])
def test_expected_must_be_a_count_or_what_was_mapped(expected: Any) -> None:
    with pytest.raises(WhatCountsInputError, match="expected must be"):
        merge_stop_reports(ok_chunks(), expected=expected)


class LazyRecords(Sequence[Any]):
    """Stands in for a mapped task's lazy XCom output: every index or slice read is one request."""

    def __init__(self, records: list[Any]) -> None:
        self._records = records
        self.requests: list[Any] = []

    def __len__(self) -> int:
        self.requests.append("count")
        return len(self._records)

    def __getitem__(self, key: Any) -> Any:
        self.requests.append(key)
        return self._records[key]  # past the end: IndexError, which Airflow 3 logs as an error


def test_a_lazy_xcom_output_is_read_in_one_request_without_probing_past_its_end() -> None:
    reports = LazyRecords(ok_chunks())
    report = merge_stop_reports(reports, expected=SOURCES, push_to=None)
    assert report["chunks_reported"] == 3
    assert reports.requests == [slice(None, None, None)], "one slice; no index past the end"


def test_nothing_mapped_and_nothing_reported_is_a_complete_empty_run() -> None:
    report = merge_stop_reports([], expected=[], push_to=None)
    assert (report["total"], report["chunks_expected"], report["chunks_reported"]) == (0, 0, 0)


class StubTaskInstance:
    def __init__(self) -> None:
        self.pushed: list[tuple[str, Any]] = []

    def xcom_push(self, key: str, value: Any, **kwargs: Any) -> None:
        self.pushed.append((key, value))


def test_inside_a_task_the_report_is_pushed_before_raising() -> None:
    ti = StubTaskInstance()
    with set_current_context({"ti": ti}):  # type: ignore[arg-type]
        error = merge_error([ok_chunks()[0]], SOURCES)
    assert ti.pushed == [("return_value", error.summary)]


def test_outside_a_task_or_with_push_to_none_nothing_is_pushed() -> None:
    ti = StubTaskInstance()
    merge_error([], SOURCES)  # "current", but no running task: nothing to push to, still raises
    with set_current_context({"ti": ti}):  # type: ignore[arg-type]
        merge_error([], SOURCES, push_to=None)
    assert ti.pushed == []


def test_logs_show_counts_and_masked_phones_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="whatcounts_provider.reports")
    records = ok_chunks()
    records[0]["failed"] = [{"phone": "12062000010", "sender_code": "11111", "error": "HTTP 503"}]
    records[0]["invalid"] = ["12062000020x"]
    merge_error(records, SOURCES, push_to=None)
    text = caplog.text
    assert "3 of 3 chunks reported: 150 inputs, 145 stopped, 3 not subscribed, 1 invalid, 1 failed" in text
    assert "failed *******0010: HTTP 503" in text
    for phone in ("12062000010", "12062000020", "12062000001", "12062000002", "12062000003"):
        assert phone not in text
