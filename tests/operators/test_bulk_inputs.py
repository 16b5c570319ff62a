"""BulkStopSmsSubscriberOperator with ``rows`` and ``source`` against the emulator: exact records,
many sender codes in one task, errors before any request, and what an aborted run pushes."""

from __future__ import annotations

import gzip
import json
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import SENDER, make_context, phones
from whatcounts_provider._compat import AirflowFailException
from whatcounts_provider.exceptions import (
    WhatCountsAuthError,
    WhatCountsBulkError,
    WhatCountsInputError,
    WhatCountsInvalidInputsError,
    WhatCountsSourceError,
)
from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator

try:
    from airflow.sdk import ObjectStoragePath
except ImportError:  # Airflow 2.11
    from airflow.io.path import ObjectStoragePath  # type: ignore[no-redef]

if TYPE_CHECKING:
    from pathlib import Path

    from whatcounts_provider.testing.emulator import WhatCountsEmulator

pytestmark = pytest.mark.usefixtures("fast_retries")

CODE_A, CODE_B, CODE_C = "11111", "22222", "33333"


def bulk(**kwargs: Any) -> BulkStopSmsSubscriberOperator:
    return BulkStopSmsSubscriberOperator(task_id="bulk", **kwargs)


def record_of(
    op: BulkStopSmsSubscriberOperator, context: dict[str, Any]
) -> tuple[dict[str, Any], Exception | None]:
    """Run ``op``; return the record (returned, or pushed before the raise) and the error raised."""
    try:
        return op.execute(context), None
    except Exception as exc:  # the caller asserts the type
        return context["ti"].pushed["return_value"], exc


# The same inputs as rows (native / JSON), a CSV with renamed columns and JSON lines.
ROWS: list[Any] = [
    {"phone": "+1 (206) 595-9696", "sender_code": CODE_A},  # 1 stopped on A
    {"phone": "2065959696", "sender_code": CODE_B},  # 2 the same phone on B: a second stop
    {"phone": "206-595-9696", "sender_code": CODE_A},  # 3 duplicate of row 1's pair
    {"phone": "2065959697"},  # 4 no sender_code: the operator's (SENDER)
    {"phone": "2065959698", "sender_code": CODE_C},  # 5 not subscribed on C
    {"phone": "not a phone", "sender_code": CODE_A},  # 6 invalid phone
    {"phone": "2065959699", "sender_code": "12/34"},  # 7 invalid sender code (a URL path)
]


def subscribe(emulator: WhatCountsEmulator) -> None:
    emulator.subscribe(CODE_A, ["12065959696"])
    emulator.subscribe(CODE_B, ["12065959696"])
    emulator.subscribe(SENDER, ["12065959697"])


def check_record(record: dict[str, Any], emulator: WhatCountsEmulator, *, source: str | None) -> None:
    invalid = record.pop("invalid")
    assert record == {
        "sender_code": SENDER,
        "total": 7,
        "stopped": 3,
        "stopped_this_try": 3,
        "not_subscribed_after_cut_short": 0,
        "not_subscribed": [{"phone": "12065959698", "sender_code": CODE_C}],
        "failed": [],
        "duplicates": 1,
        "retries": 0,
        "by_sender_code": {
            CODE_A: {"stopped": 1, "not_subscribed": 0, "failed": 0},
            CODE_B: {"stopped": 1, "not_subscribed": 0, "failed": 0},
            SENDER: {"stopped": 1, "not_subscribed": 0, "failed": 0},
            CODE_C: {"stopped": 0, "not_subscribed": 1, "failed": 0},
        },
        "already_done": 0,
        "late": 0,
        "not_opt_out": 0,
        "ambiguous": 0,
        "needs_review": [],
        "receipts": None,
        "source": source,
        "error": None,
    }
    assert [(item["row"], item["input"]) for item in invalid] == [
        (6, ROWS[5] if source is None else invalid[0]["input"]),
        (7, ROWS[6] if source is None else invalid[1]["input"]),
    ]
    assert "not a phone" in json.dumps(invalid[0]["input"])
    assert "phone" in invalid[0]["error"]
    assert "sender_code '12/34' may contain only ASCII letters and digits" in invalid[1]["error"]
    # Four distinct valid pairs, each sent once: the same phone under two codes is two stops.
    assert dict(emulator.state.posts) == {
        (CODE_A, "12065959696"): 1,
        (CODE_B, "12065959696"): 1,
        (SENDER, "12065959697"): 1,
        (CODE_C, "12065959698"): 1,
    }
    assert emulator.state.is_stopped(CODE_A, "12065959696")
    assert emulator.state.is_stopped(CODE_B, "12065959696")


@pytest.mark.parametrize("given", ["native", "json"])
def test_rows_give_the_exact_record_and_fail_without_a_retry(whatcounts_conn_env, given: str) -> None:
    subscribe(whatcounts_conn_env)
    context = make_context()
    op = bulk(rows=ROWS if given == "native" else json.dumps(ROWS), sender_code=SENDER)

    record, error = record_of(op, context)

    # Only inputs were invalid: a retry cannot fix them, so none is spent.
    assert isinstance(error, WhatCountsInvalidInputsError)
    assert isinstance(error, AirflowFailException)
    assert error.summary == context["ti"].pushed["return_value"]
    check_record(record, whatcounts_conn_env, source=None)


def test_a_row_without_sender_code_and_no_operator_code_is_invalid(whatcounts_conn_env) -> None:
    whatcounts_conn_env.subscribe(CODE_A, ["12065959696"])
    context = make_context()
    rows = [{"phone": "2065959696", "sender_code": CODE_A}, {"phone": "2065959697"}, "2065959698", 42]

    record, error = record_of(bulk(rows=rows), context)

    assert isinstance(error, WhatCountsInvalidInputsError)
    assert record["sender_code"] is None
    assert record["stopped"] == 1
    assert [(item["row"], item["input"]) for item in record["invalid"]] == [
        (2, {"phone": "2065959697"}),
        (3, "2065959698"),
        (4, 42),
    ]
    assert "sender_code" in record["invalid"][0]["error"]
    assert all(item["error"] for item in record["invalid"])
    assert dict(whatcounts_conn_env.state.posts) == {(CODE_A, "12065959696"): 1}


CSV_TEXT = (
    "Mobile,Name,Code\n"
    "+1 (206) 595-9696,Ann,11111\n"
    "2065959696,Ann,22222\n"
    "206-595-9696,Ann,11111\n"
    "2065959697,Bob,\n"
    "2065959698,Cy,33333\n"
    "not a phone,Dee,11111\n"
    "2065959699,Eve,12/34\n"
)
COLUMNS = {"phone": "Mobile", "sender_code": "Code"}


def jsonl_text() -> str:
    return "".join(json.dumps(row) + "\n" for row in ROWS)


@pytest.mark.parametrize(
    ("name", "columns"),
    [
        ("replies.csv", COLUMNS),
        ("replies.csv.gz", COLUMNS),
        ("replies.jsonl", None),
        ("replies.ndjson.gz", None),
    ],
)
@pytest.mark.parametrize("location", ["path", "file_uri", "ObjectStoragePath"])
def test_source_gives_the_exact_record(
    whatcounts_conn_env, tmp_path: Path, name: str, columns: Any, location: str
) -> None:
    text = CSV_TEXT if ".csv" in name else jsonl_text()
    data = text.encode()
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    if location == "ObjectStoragePath":
        source: Any = ObjectStoragePath(f"file://{path}")
    else:
        source = str(path) if location == "path" else path.as_uri()
    subscribe(whatcounts_conn_env)
    context = make_context()

    record, error = record_of(bulk(source=source, columns=columns, sender_code=SENDER), context)

    assert isinstance(error, WhatCountsInvalidInputsError)
    assert record["source"] is not None
    assert record["source"].endswith(name)
    check_record(record, whatcounts_conn_env, source=record["source"])


def test_s3_source(whatcounts_conn_env, s3_location: str) -> None:
    uri = f"{s3_location}/replies.csv.gz"
    ObjectStoragePath(uri).write_bytes(gzip.compress(CSV_TEXT.encode()))
    subscribe(whatcounts_conn_env)
    context = make_context()

    record, error = record_of(bulk(source=uri, columns=COLUMNS, sender_code=SENDER), context)

    assert isinstance(error, WhatCountsInvalidInputsError)
    assert record["source"] == uri
    check_record(record, whatcounts_conn_env, source=uri)


def test_many_sender_codes_share_one_rate_cap(whatcounts_conn_env) -> None:
    emulator = whatcounts_conn_env
    codes = [str(50000 + n) for n in range(10)]
    batch = phones(6)
    for code in codes:
        emulator.subscribe(code, batch)
    rows = [{"phone": phone, "sender_code": code} for code in codes for phone in batch]
    rate = 40.0

    record = bulk(rows=rows, max_workers=8, max_requests_per_second=rate).execute(make_context())

    assert record["stopped"] == 60
    assert record["by_sender_code"] == {
        code: {"stopped": 6, "not_subscribed": 0, "failed": 0} for code in codes
    }
    assert all(emulator.state.is_stopped(code, phone) for code in codes for phone in batch)
    # One cap over all codes: 60 requests at 40/s take at least ~1.5 s in total (a per-code cap
    # would let them through in a fraction of that). A slow machine only makes it longer.
    times = sorted(r.timestamp for r in emulator.state.requests if r.method == "POST")
    assert len(times) == 60
    assert times[-1] - times[0] >= (60 - 1 - rate) / rate


# --- errors before any request ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "one of"),
        ({"phones": ["2065959696"], "rows": [{"phone": "2065959696"}], "sender_code": SENDER}, "one of"),
        ({"rows": [], "source": "a.csv"}, "one of"),
    ],
)
def test_exactly_one_input_form(whatcounts_conn_env, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(WhatCountsInputError, match=message):
        bulk(**kwargs)
    assert whatcounts_conn_env.state.requests_total == 0


def _bad_source(tmp_path: Path, case: str) -> tuple[Any, dict[str, Any], list[str]]:
    if case == "missing file":
        return str(tmp_path / "nope.csv"), {}, ["nope.csv", "does not exist"]
    if case == "unknown extension":
        path = tmp_path / "replies.xlsx"
        path.write_text("phone\n2065959696\n")
        return str(path), {}, ["replies.xlsx"]
    path = tmp_path / "replies.csv"
    path.write_text("phone,Code\n2065959696,11111\n")
    return str(path), {"columns": {"phone": "Mobile"}}, ["replies.csv", "'Mobile'"]


@pytest.mark.parametrize("case", ["missing file", "unknown extension", "missing column"])
def test_an_unusable_source_fails_before_any_request_without_a_retry(
    whatcounts_conn_env, tmp_path: Path, case: str
) -> None:
    source, kwargs, named = _bad_source(tmp_path, case)
    context = make_context()

    with pytest.raises(WhatCountsSourceError) as excinfo:
        bulk(source=source, sender_code=SENDER, **kwargs).execute(context)

    for part in named:
        assert part in str(excinfo.value)
    assert isinstance(excinfo.value, AirflowFailException), "no retry can fix a missing file or column"
    assert whatcounts_conn_env.state.requests_total == 0, "nothing was sent"
    record = context["ti"].pushed["return_value"]
    assert record["error"] is not None
    assert named[0] in record["error"]
    assert (record["total"], record["stopped"], record["failed"]) == (0, 0, [])
    assert record["source"].endswith(named[0])


# --- abort semantics --------------------------------------------------------------------------


def test_a_401_mid_run_pushes_the_record_and_fails_without_a_retry(whatcounts_conn_env) -> None:
    emulator = whatcounts_conn_env
    batch = phones(200)
    emulator.subscribe(SENDER, batch)
    emulator.faults.update(latency=0.01)
    context = make_context()

    def rotate_password() -> None:
        # The password is rotated while the run is under way.
        deadline = time.monotonic() + 60
        while sum(emulator.state.posts.values()) < 20 and time.monotonic() < deadline:
            time.sleep(0.005)
        emulator.state.password = "rotated"

    rotator = threading.Thread(target=rotate_password)
    rotator.start()
    with pytest.raises(WhatCountsAuthError) as excinfo:
        bulk(rows=[{"phone": p} for p in batch], sender_code=SENDER, max_workers=4).execute(context)
    rotator.join()

    assert isinstance(excinfo.value, AirflowFailException), "rejected credentials spend no retry"
    record = context["ti"].pushed["return_value"]
    assert record["error"].startswith("WhatCountsAuthError")
    # 20 POSTs had reached the emulator before the password changed; their answers may not all
    # have been counted (a loaded machine), so "some, not all" is what holds.
    assert 0 < record["stopped"] < 200
    assert record["by_sender_code"][SENDER]["stopped"] == record["stopped"]
    # A rejected answer ends the run without waiting for the other workers' requests in flight:
    # up to max_workers of them may still stop a phone after the record was made (docs/reliability.md).
    in_emulator = len(emulator.state.snapshot()["stopped"].get(SENDER, []))
    assert record["stopped"] <= in_emulator <= record["stopped"] + 4


def test_failed_pairs_raise_a_retryable_error(whatcounts_conn_env) -> None:
    emulator = whatcounts_conn_env
    emulator.subscribe(CODE_A, ["12065959696"])
    emulator.subscribe(CODE_B, ["12065959697"])
    emulator.faults.update(failing_senders={CODE_B})
    context = make_context()
    rows = [
        {"phone": "2065959696", "sender_code": CODE_A},
        {"phone": "2065959697", "sender_code": CODE_B},
        {"phone": "bad", "sender_code": CODE_A},
    ]

    with pytest.raises(WhatCountsBulkError) as excinfo:
        bulk(rows=rows, max_workers=2).execute(context)

    assert type(excinfo.value) is WhatCountsBulkError, "a failed pair may pass on a retry"
    assert not isinstance(excinfo.value, AirflowFailException)
    record = context["ti"].pushed["return_value"]
    assert [(item["phone"], item["sender_code"]) for item in record["failed"]] == [("12065959697", CODE_B)]
    assert record["by_sender_code"][CODE_B] == {"stopped": 0, "not_subscribed": 0, "failed": 1}
    assert [item["row"] for item in record["invalid"]] == [3]
