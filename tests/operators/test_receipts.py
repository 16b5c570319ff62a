"""Receipts and resume through the operators, against the emulator: every input gets a receipt
with the keys of docs/receipts.md; a later try of the task instance sends only what has no final
receipt."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.helpers import SENDER, make_context
from whatcounts_provider.exceptions import WhatCountsBulkError
from whatcounts_provider.operators.sms import BulkStopSmsSubscriberOperator, StopSmsSubscriberOperator
from whatcounts_provider.receipts import iter_receipts

pytestmark = pytest.mark.usefixtures("fast_retries")

# The receipt keys of docs/receipts.md: exactly these, other code reads them.
KEYS = {
    "row", "input", "phone", "sender_code", "requested_sender_code", "scope", "status", "error",
    "message", "message_id", "reply_decision", "reply_reason", "whatcounts", "requested_at", "processed_at",
    "business_days_to_honour", "attempts", "earlier_try_cut_short", "dag_id", "run_id", "task_id",
    "map_index", "try_number", "provider_version",
}  # fmt: skip
IDENTITY = {
    "dag_id": "opt_out",
    "run_id": "scheduled__2026-11-25T00:00:00+00:00",
    "task_id": "stop",
    "map_index": 4,
}
CODE_B = "22222"
LONG_AGO = "2020-01-06T09:00:00Z"  # a Monday, years before any test run: always late


def weekdays_after(start: date, end: date) -> int:
    """The deadline's count, written independently: Mon-Fri days in (start, end]."""
    return sum(1 for n in range(1, (end - start).days + 1) if (start + timedelta(days=n)).weekday() < 5)


def rows_mixed(recent: str) -> list[Any]:
    return [
        {"phone": "2065959696", "sender_code": SENDER, "requested_at": LONG_AGO},  # 1 stopped, late
        {"phone": "2065959696", "sender_code": CODE_B, "requested_at": recent},  # 2 stopped, on time
        {"phone": "2065959697", "sender_code": SENDER},  # 3 not subscribed
        {"phone": "2065959698", "sender_code": SENDER, "requested_at": LONG_AGO},  # 4 failed, late
        {"phone": "+1 206 595 9696", "sender_code": SENDER},  # 5 duplicate of 1
        {"phone": "nope", "sender_code": SENDER},  # 6 invalid phone
        {"phone": "2065959699", "sender_code": SENDER, "requested_at": "last tuesday"},  # 7 invalid date
    ]


EXPECTED_STATUS = {
    1: "stopped",
    2: "stopped",
    3: "not_subscribed",
    4: "failed",
    5: "duplicate",
    6: "invalid",
    7: "invalid",
}


@pytest.fixture
def failing_phone_emulator(whatcounts_conn_env, use_connection):
    """The emulator, with 2 retries (3 attempts) per request, and one phone that always gets 503."""
    use_connection(uri=whatcounts_conn_env.conn_uri(), max_retries=2)
    whatcounts_conn_env.subscribe(SENDER, ["12065959696", "12065959698"])
    whatcounts_conn_env.subscribe(CODE_B, ["12065959696"])
    whatcounts_conn_env.faults.update(failing_phones={"12065959698"})
    return whatcounts_conn_env


def run_try(receipts: str, rows: list[Any], try_number: int) -> tuple[dict[str, Any], Exception | None]:
    context = make_context(try_number=try_number, **IDENTITY)
    op = BulkStopSmsSubscriberOperator(task_id="stop", rows=rows, receipts_path=receipts, max_workers=3)
    try:
        return op.execute(context), None
    except WhatCountsBulkError as exc:
        return context["ti"].pushed["return_value"], exc


def by_try(receipts: str) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for receipt in iter_receipts(receipts):
        out.setdefault(receipt["try_number"], []).append(receipt)
    return out


def test_a_mixed_run_receipts_every_input(failing_phone_emulator, tmp_path: Path, log_text) -> None:
    recent = datetime.now(timezone.utc).isoformat()
    receipts = str(tmp_path / "receipts")

    record, error = run_try(receipts, rows_mixed(recent), try_number=1)

    assert type(error) is WhatCountsBulkError
    assert record["late"] == 2, "row 1 honoured years late, row 4 failing past the deadline"
    assert record["receipts"] == (
        f"file://{receipts}/dag_id=opt_out/run_id=scheduled__2026-11-25T00:00:00+00:00/task_id=stop/map_index=4"
    ), "the task instance's folder, as a URI"
    assert Path(unquote(urlsplit(record["receipts"]).path)).is_dir(), "the URI decodes to the folder"
    found = sorted(iter_receipts(record["receipts"]), key=lambda r: r["row"])
    assert [r["row"] for r in found] == [1, 2, 3, 4, 5, 6, 7], "one receipt per input, none dropped"
    for receipt in found:
        assert set(receipt) == KEYS
        assert receipt["status"] == EXPECTED_STATUS[receipt["row"]]
        assert {k: receipt[k] for k in IDENTITY} == IDENTITY
        assert receipt["try_number"] == 1
        assert receipt["input"] == rows_mixed(recent)[receipt["row"] - 1]
        processed = datetime.fromisoformat(receipt["processed_at"].replace("Z", "+00:00"))
        assert processed.utcoffset() == timedelta(0)
    r1, r2, r3, r4, _, r6, r7 = found
    assert r1["whatcounts"] == failing_phone_emulator.state.stopped[SENDER]["12065959696"], (
        "the API's record, as sent"
    )
    assert r2["whatcounts"] == failing_phone_emulator.state.stopped[CODE_B]["12065959696"]
    assert (r3["whatcounts"], r4["whatcounts"], r6["whatcounts"]) == (None, None, None)
    assert (r1["phone"], r1["sender_code"], r2["sender_code"]) == ("12065959696", SENDER, CODE_B)
    assert (r1["attempts"], r3["attempts"]) == (1, 1)
    assert r4["attempts"] == 3, "1 attempt + 2 retries, all 503"
    assert r4["error"]
    assert r6["error"]
    assert r7["error"]
    assert "last tuesday" in r7["error"]
    assert r7["phone"] is None
    assert r7["requested_at"] is None, "the unusable value stays in input only"
    # Deadline: counted from the request's UTC day to the processing day.
    processed_day = datetime.fromisoformat(r1["processed_at"].replace("Z", "+00:00")).date()
    assert r1["requested_at"].startswith("2020-01-06T09:00:00")
    assert r1["business_days_to_honour"] == weekdays_after(date(2020, 1, 6), processed_day)
    r2_requested = datetime.fromisoformat(r2["requested_at"].replace("Z", "+00:00")).date()
    r2_processed = datetime.fromisoformat(r2["processed_at"].replace("Z", "+00:00")).date()
    assert r2_requested == datetime.fromisoformat(recent).date()
    assert r2["business_days_to_honour"] == weekdays_after(r2_requested, r2_processed)
    assert r3["requested_at"] is None
    assert r3["business_days_to_honour"] is None
    # The log warns about late pairs with masked examples, and never shows a receipt's content.
    # (urllib3's own DEBUG access line shows the URL path, so the phone: a documented
    # third-party fact, see tests/security/test_logs.py; every other line is checked.)
    text = "\n".join(line for line in log_text().splitlines() if "connectionpool" not in line)
    assert "2 pair(s) were honoured, or are still failing, more than 10 business days" in text
    assert "*******9696" in text
    for phone in ("12065959696", "2065959696", "12065959698", "2065959698", "12065959697"):
        assert phone not in text
    assert '"whatcounts"' not in text
    assert "smsSubscriberId" not in text


def test_a_retry_sends_only_pairs_without_a_final_receipt(failing_phone_emulator, tmp_path: Path) -> None:
    receipts = str(tmp_path / "receipts")
    rows = rows_mixed(datetime.now(timezone.utc).isoformat())
    run_try(receipts, rows, try_number=1)
    first_posts = Counter(failing_phone_emulator.state.posts)
    failing_phone_emulator.faults.update(failing_phones=set())

    record, error = run_try(receipts, rows, try_number=2)

    assert isinstance(error, WhatCountsBulkError)
    assert record["failed"] == [], "only invalid inputs are left"
    assert record["already_done"] == 3, "rows 1, 2 and 3 have final receipts from try 1"
    sent_again = Counter(failing_phone_emulator.state.posts) - first_posts
    assert sent_again == Counter({(SENDER, "12065959698"): 1}), "only the failed pair is sent again"
    tries = by_try(receipts)
    second = sorted((r["row"], r["status"]) for r in tries[2])
    assert second == [(4, "stopped"), (5, "duplicate"), (6, "invalid"), (7, "invalid")]
    finals = Counter(
        (r["phone"], r["sender_code"])
        for t in tries.values()
        for r in t
        if r["status"] in ("stopped", "not_subscribed")
    )
    assert finals == Counter(
        {
            ("12065959696", SENDER): 1,
            ("12065959696", CODE_B): 1,
            ("12065959697", SENDER): 1,
            ("12065959698", SENDER): 1,
        }
    ), "across tries, exactly one final receipt per distinct valid pair"

    # A third try has nothing left to send.
    before = sum(failing_phone_emulator.state.posts.values())
    record, _ = run_try(receipts, rows, try_number=3)
    assert record["already_done"] == 4
    assert sum(failing_phone_emulator.state.posts.values()) == before


def test_receipts_on_s3(failing_phone_emulator, s3_location: str) -> None:
    rows = rows_mixed(datetime.now(timezone.utc).isoformat())
    record, _ = run_try(s3_location, rows, try_number=1)
    assert record["receipts"].startswith("s3://")
    assert sorted(r["row"] for r in iter_receipts(s3_location)) == [1, 2, 3, 4, 5, 6, 7]
    failing_phone_emulator.faults.update(failing_phones=set())

    record, _ = run_try(s3_location, rows, try_number=2)

    assert record["already_done"] == 3
    assert failing_phone_emulator.state.post_count(SENDER, "12065959698") == 3 + 1


def test_the_single_operator_writes_a_receipt_and_a_retry_does_not_resend(
    whatcounts_conn_env, tmp_path
) -> None:
    failing_phone_emulator = whatcounts_conn_env
    failing_phone_emulator.subscribe(SENDER, ["12065959696"])
    receipts = str(tmp_path / "receipts")

    def run(try_number: int) -> dict[str, Any]:
        op = StopSmsSubscriberOperator(
            task_id="stop", phone="+1 206 595 9696", sender_code=SENDER, receipts_path=receipts,
            requested_at=LONG_AGO,
        )  # fmt: skip
        return op.execute(make_context(try_number=try_number, **IDENTITY))

    first = run(1)
    second = run(2)

    assert first["status"] == "stopped"
    assert failing_phone_emulator.state.post_count(SENDER, "12065959696") == 1, "the retry did not send again"
    assert (second["status"], second["response"]) == ("stopped", first["response"])
    assert second["receipts"] == first["receipts"]
    (receipt,) = iter_receipts(receipts)
    assert set(receipt) == KEYS
    assert (receipt["status"], receipt["phone"], receipt["input"], receipt["try_number"]) == (
        "stopped", "12065959696", "+1 206 595 9696", 1,
    )  # fmt: skip
    assert receipt["whatcounts"] == failing_phone_emulator.state.stopped[SENDER]["12065959696"]
    assert receipt["business_days_to_honour"] > 10
