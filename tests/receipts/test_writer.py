"""ReceiptWriter: the receipt line, part files, flushing by count and by time, summaries."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest

from tests.receipts.support import IDENTITY, SENDER, FakeUtcClock, part_files, stop_fields
from whatcounts_provider import __version__
from whatcounts_provider.deadline import parse_requested_at
from whatcounts_provider.exceptions import ReceiptsError
from whatcounts_provider.receipts import (
    RECEIPT_KEYS,
    SUMMARY_NAME,
    ReceiptWriter,
    is_part_name,
    iter_receipts,
    receipt_is_late,
    task_instance_folder,
)
from whatcounts_provider.receipts.index import INDEX_NAME, PhoneIndex
from whatcounts_provider.receipts.runs import MARKER_NAME
from whatcounts_provider.receipts.writer import DEFAULT_MAX_INTERVAL, DEFAULT_MAX_RECEIPTS
from whatcounts_provider.types import Row, StopOutcome

if TYPE_CHECKING:
    from whatcounts_provider.storage import Location


def test_round_trip_every_status(location: str) -> None:
    folder = task_instance_folder(location, IDENTITY)
    clock = FakeUtcClock()
    record = {"total": 5, "stopped": 1}
    api_record = {"id": 7, "smsSubscriberId": 9, "phone": "12062000001"}
    with ReceiptWriter(folder, IDENTITY, clock=clock, background=False) as writer:
        writer.add(stop_fields(1, whatcounts=api_record, requested_at="2026-11-20T09:00:00-05:00"))
        writer.add(stop_fields(2, status="not_subscribed", requested_at=1763654400))
        writer.add({"row": 3, "input": {"phone": True}, "status": "invalid", "error": "not a phone"})
        writer.add(stop_fields(4, status="failed", error="HTTP 503", attempts=5))
        writer.add({**stop_fields(1), "row": 5, "status": "duplicate"})
        writer.close(record)
    assert writer.folder == folder
    assert writer.attempt_folder.uri.startswith(f"{folder.uri}/try=002-20261125T160000000000Z-")

    receipts = list(iter_receipts(folder.uri))
    assert [r["row"] for r in receipts] == [1, 2, 3, 4, 5]
    assert [r["status"] for r in receipts] == ["stopped", "not_subscribed", "invalid", "failed", "duplicate"]
    first = receipts[0]
    assert first["whatcounts"] == api_record
    assert first["requested_at"] == "2026-11-20T14:00:00.000000+00:00"
    assert first["processed_at"] == "2026-11-25T16:00:00.000000+00:00"
    assert first["business_days_to_honour"] == 3  # Fri 20 -> Mon, Tue, Wed 25
    assert receipts[1]["requested_at"] == "2025-11-20T16:00:00.000000+00:00"
    assert receipts[2]["input"] == {"phone": True}
    assert receipts[2]["phone"] is None
    assert receipts[2]["requested_at"] is None
    assert receipts[2]["business_days_to_honour"] is None
    assert receipts[3]["error"] == "HTTP 503"
    assert receipts[3]["attempts"] == 5
    for receipt in receipts:
        assert (receipt["dag_id"], receipt["run_id"], receipt["task_id"]) == (
            "opt_out",
            IDENTITY.run_id,
            "stop",
        )
        assert (receipt["map_index"], receipt["try_number"]) == (3, 2)
        assert receipt["provider_version"] == __version__
    # The same receipts read from the whole receipts_path (a run's or DAG's folder works alike).
    assert list(iter_receipts(location)) == receipts

    summaries = [(rel, name) for rel, name in folder.files() if name == SUMMARY_NAME]
    assert len(summaries) == 1
    summary = json.loads(folder.read_bytes(*summaries[0]))
    assert summary["record"] == record
    assert summary["receipts"] == 5
    assert summary["by_status"] == {
        "duplicate": 1,
        "failed": 1,
        "invalid": 1,
        "not_subscribed": 1,
        "stopped": 1,
    }
    assert summary["try_number"] == 2
    assert summary["error"] is None
    assert summary["parts"] == part_files(folder)


def test_receipt_line_has_exactly_the_contract_keys(tmp_path: Any) -> None:
    folder = task_instance_folder(tmp_path, IDENTITY)
    with ReceiptWriter(folder, IDENTITY, background=False) as writer:
        writer.add(stop_fields(1))
    (part,) = [p for p in tmp_path.rglob("part-*.jsonl")]
    line = json.loads(part.read_text().splitlines()[0])
    assert list(line) == list(RECEIPT_KEYS)
    assert set(RECEIPT_KEYS) == {
        "row", "input", "phone", "sender_code", "requested_sender_code", "scope", "status", "error",
        "message", "message_id", "reply_decision", "reply_reason", "whatcounts", "requested_at",
        "processed_at", "business_days_to_honour", "attempts", "earlier_try_cut_short", "dag_id",
        "run_id", "task_id", "map_index", "try_number", "provider_version",
    }  # fmt: skip
    processed = datetime.fromisoformat(line["processed_at"])
    assert processed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"row": 1, "input": "x", "status": "already_done"}, "already_done"),
        ({"row": 1, "input": "x", "status": "stopped", "extra": 1}, "unknown receipt fields"),
        ({"input": "x", "status": "stopped"}, "'row'"),
        ({"row": 1, "input": "x", "status": "stopped", "requested_at": "yesterday"}, "'yesterday'"),
    ],
)
def test_bad_fields_are_refused_before_anything_is_written(
    tmp_path: Any, fields: dict[str, Any], message: str
) -> None:
    folder = task_instance_folder(tmp_path, IDENTITY)
    writer = ReceiptWriter(folder, IDENTITY, background=False)
    with pytest.raises(ValueError, match=message):
        writer.add(fields)
    writer.flush()
    assert part_files(folder) == []


def test_gzip_parts_round_trip(location: str) -> None:
    folder = task_instance_folder(location, IDENTITY)
    with ReceiptWriter(folder, IDENTITY, compress=True, max_receipts=3, background=False) as writer:
        for row in range(1, 8):
            writer.add(stop_fields(row))
    parts = part_files(folder)
    assert len(parts) == 3
    assert all(name.endswith(".jsonl.gz") for name in parts)
    rel = next(rel for rel, name in folder.files() if name == parts[0])
    lines = gzip.decompress(folder.read_bytes(rel, parts[0])).decode().splitlines()
    assert [json.loads(line)["row"] for line in lines] == [1, 2, 3]
    assert [r["row"] for r in iter_receipts(folder.uri)] == list(range(1, 8))


def test_flush_by_count_writes_whole_batches_and_the_rest_at_close(tmp_path: Any) -> None:
    folder = task_instance_folder(tmp_path, IDENTITY)
    writer = ReceiptWriter(folder, IDENTITY, clock=FakeUtcClock(), background=False)
    batch = DEFAULT_MAX_RECEIPTS
    for row in range(1, batch):
        writer.add(stop_fields(row))
    assert part_files(folder) == []  # one short of a batch buffered, and no time passed
    writer.add(stop_fields(batch))
    assert len(part_files(folder)) == 1  # the batch's last receipt flushes, without waiting
    for row in range(batch + 1, batch + batch // 4 + 1):
        writer.add(stop_fields(row))
    assert len(part_files(folder)) == 1
    writer.close()
    parts = part_files(folder)
    assert len(parts) == 2
    assert parts == sorted(parts)
    rows = [r["row"] for r in iter_receipts(folder.uri)]
    assert rows == list(range(1, batch + batch // 4 + 1))


def test_flush_by_time_is_decided_by_the_clock(tmp_path: Any) -> None:
    clock = FakeUtcClock()
    interval = DEFAULT_MAX_INTERVAL
    folder = task_instance_folder(tmp_path, IDENTITY)
    writer = ReceiptWriter(folder, IDENTITY, clock=clock, background=False)
    assert writer.flush_due() is False  # nothing buffered
    writer.add(stop_fields(1))
    clock.advance(interval * 0.6)
    writer.add(stop_fields(2))
    clock.advance(interval * 0.3)
    assert writer.flush_due() is False  # the oldest has waited 90 % of the interval
    assert part_files(folder) == []
    clock.advance(interval * 0.1)
    assert writer.flush_due() is True  # the whole interval: both receipts go, in one part
    assert len(part_files(folder)) == 1
    assert [r["row"] for r in iter_receipts(folder.uri)] == [1, 2]
    clock.advance(60)
    assert writer.flush_due() is False  # an empty buffer writes no empty part
    writer.add(stop_fields(3))
    clock.advance(interval * 0.8)
    assert writer.flush_due() is False  # the clock restarts with the first new receipt
    writer.close()
    assert len(part_files(folder)) == 2


def test_background_thread_flushes_when_no_receipt_arrives(tmp_path: Any) -> None:
    """The timer thread runs for real; the test steps it (``ticker``) and the fake clock, so
    the outcome does not depend on how fast the machine is."""
    clock = FakeUtcClock()
    ticks = threading.Semaphore(0)
    done = threading.Event()
    calls: list[float] = []

    def ticker(interval: float) -> None:
        calls.append(interval)
        done.set()
        ticks.acquire(timeout=30)

    def step() -> None:
        """Let the thread finish one check and start waiting again."""
        done.clear()
        ticks.release()
        assert done.wait(30), "the flush thread did not come back"

    folder = task_instance_folder(tmp_path, IDENTITY)
    writer = ReceiptWriter(folder, IDENTITY, clock=clock, ticker=ticker).start()
    assert done.wait(30)
    writer.add(stop_fields(1))
    for _ in range(3):
        step()
    assert part_files(folder) == []  # checked three times, but no time has passed
    clock.advance(DEFAULT_MAX_INTERVAL)
    step()  # no add() in between: only the thread can have written this part
    assert len(part_files(folder)) == 1
    assert all(interval <= DEFAULT_MAX_INTERVAL / 20 for interval in calls)  # 20 checks an interval
    ticks.release()
    writer.close()
    assert len(part_files(folder)) == 1


def test_part_names_are_unique_when_a_try_number_repeats(location: str) -> None:
    """``airflow tasks test`` runs the same try number again: nothing may be overwritten."""
    folder = task_instance_folder(location, IDENTITY)
    clock = FakeUtcClock()  # even the same clock reading
    for run in range(3):
        with ReceiptWriter(folder, IDENTITY, clock=clock, max_receipts=2, background=False) as writer:
            for row in range(1, 4):
                writer.add(stop_fields(row, attempts=run))
    files = list(folder.files())
    parts = [name for _, name in files if is_part_name(name)]
    assert len(parts) == 6
    assert len(set(parts)) == 6
    assert all(name.startswith("part-002-") for name in parts)  # the try number is in the name
    assert sum(1 for _, name in files if name == SUMMARY_NAME) == 3
    assert len({rel for rel, _ in files}) == 3  # one try=... folder per run
    assert sorted(r["attempts"] for r in iter_receipts(folder.uri)) == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_a_failing_try_still_flushes_and_writes_its_summary(tmp_path: Any) -> None:
    folder = task_instance_folder(tmp_path, IDENTITY)

    def task() -> None:
        with ReceiptWriter(folder, IDENTITY, background=False) as writer:
            writer.add(stop_fields(1))
            raise RuntimeError("the task died")

    with pytest.raises(RuntimeError, match="the task died"):
        task()
    assert [r["row"] for r in iter_receipts(folder.uri)] == [1]
    (summary,) = tmp_path.rglob(SUMMARY_NAME)
    assert json.loads(summary.read_text())["error"] == "RuntimeError"


def test_local_writes_leave_no_temporary_files(tmp_path: Any) -> None:
    folder = task_instance_folder(tmp_path, IDENTITY)
    with ReceiptWriter(folder, IDENTITY, max_receipts=1, background=False) as writer:
        for row in range(1, 4):
            writer.add(stop_fields(row))
    names = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert len(names) == 6
    assert names[-3:] == [INDEX_NAME, SUMMARY_NAME, MARKER_NAME]
    assert not [name for name in names if name.startswith(".")]


def test_hook_outcomes_become_receipts(tmp_path: Any) -> None:
    """The hook's outcomes map onto receipt lines (the row's ``requested_at`` included); ``already_done``
    pairs get no receipt at all."""

    api = {"id": 1, "phone": "12062000000"}
    requested = "2026-11-24T10:00:00Z"
    outcomes = [
        StopOutcome(
            Row(1, "2062000000", "2062000000", SENDER, parse_requested_at(requested)),
            "stopped",
            phone="12062000000",
            sender_code=SENDER,
            response=api,
            attempts=2,
        ),
        StopOutcome(
            Row(2, {"phone": "x"}, "x", None, parse_requested_at(requested), error="bad phone"),
            "invalid",
            error="bad phone",
        ),
        StopOutcome(
            Row(3, "2062000001", "2062000001", SENDER, parse_requested_at(requested)),
            "already_done",
            phone="12062000001",
            sender_code=SENDER,
        ),
    ]
    folder = task_instance_folder(tmp_path, IDENTITY)
    with ReceiptWriter(folder, IDENTITY, clock=FakeUtcClock(), background=False) as writer:
        written = [writer.add_outcome(o) for o in outcomes]
    assert written[2] is None
    receipts = list(iter_receipts(tmp_path))
    assert [(r["row"], r["status"]) for r in receipts] == [(1, "stopped"), (2, "invalid")]
    assert receipts[0]["whatcounts"] == api
    assert receipts[0]["attempts"] == 2
    assert receipts[0]["business_days_to_honour"] == 1
    assert receipts[1]["input"] == {"phone": "x"}
    assert receipts[1]["error"] == "bad phone"
    assert writer.counts == {"stopped": 1, "invalid": 1}


@pytest.mark.parametrize(
    ("status", "processed", "late"),
    [
        ("stopped", datetime(2026, 12, 7, 9, tzinfo=timezone.utc), False),
        ("stopped", datetime(2026, 12, 8, 9, tzinfo=timezone.utc), True),
        ("failed", datetime(2026, 12, 8, 9, tzinfo=timezone.utc), True),
        ("invalid", datetime(2026, 12, 8, 9, tzinfo=timezone.utc), False),
    ],
)
def test_receipt_is_late_reads_the_written_line(
    tmp_path: Any, status: str, processed: datetime, late: bool
) -> None:
    writer = ReceiptWriter(
        task_instance_folder(tmp_path, IDENTITY), IDENTITY, clock=FakeUtcClock(processed), background=False
    )
    receipt = writer.add(stop_fields(1, status=status, requested_at="2026-11-23T09:00:00Z"))
    assert receipt_is_late(receipt) is late
    assert receipt_is_late({**receipt, "requested_at": None}) is False
    writer.close()


def test_a_failed_write_is_retried_under_the_same_name(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = task_instance_folder(tmp_path, IDENTITY)
    writer = ReceiptWriter(folder, IDENTITY, max_receipts=2, background=False).start()
    real_put = type(writer.folder).put
    attempts: list[str] = []

    def flaky_put(self: Location, name: str, data: bytes) -> None:
        attempts.append(name)
        if len(attempts) == 1:
            raise OSError("the disk is full")
        real_put(self, name, data)

    monkeypatch.setattr(type(writer.folder), "put", flaky_put)
    writer.add(stop_fields(1))
    with pytest.raises(ReceiptsError, match="the disk is full"):
        writer.add(stop_fields(2))
    writer.add(stop_fields(3))
    writer.close()
    assert attempts[0] == attempts[1]  # the same part name: a retry can only write the same file
    assert writer.parts[0] == attempts[0]
    assert [r["row"] for r in iter_receipts(tmp_path)] == [1, 2, 3]


def test_the_summary_records_digests_the_index_the_layout_and_the_previous_try(tmp_path: Any) -> None:
    folder = task_instance_folder(tmp_path, IDENTITY)
    link = {"try": "try=001-20261125T160000000000Z-00000000", "summary_sha256": "ab" * 32}
    with ReceiptWriter(folder, IDENTITY, background=False, max_receipts=2, previous=link) as writer:
        for row in range(1, 6):
            writer.add(stop_fields(row))
    attempt = folder.child(writer.attempt_name)
    summary = json.loads(attempt.read_bytes((), SUMMARY_NAME))
    assert summary["layout"] == 2
    assert summary["previous"] == link
    assert sorted(summary["part_sha256"]) == summary["parts"]
    assert len(summary["parts"]) == 3
    for name, digest in summary["part_sha256"].items():
        assert hashlib.sha256(attempt.read_bytes((), name)).hexdigest() == digest
    index = attempt.read_bytes((), INDEX_NAME)
    assert summary["index"] == {"name": INDEX_NAME, "sha256": hashlib.sha256(index).hexdigest()}
    assert PhoneIndex.parse(index, INDEX_NAME).parts_holding(stop_fields(5)["phone"]) == [summary["parts"][2]]


def test_after_a_cut_short_try_only_not_subscribed_receipts_name_it(tmp_path: Any) -> None:
    folder = task_instance_folder(tmp_path, IDENTITY)
    with ReceiptWriter(folder, IDENTITY, background=False, cut_short=1) as writer:
        for status in ("stopped", "not_subscribed"):
            row = Row(1, "2062000001", "2062000001", SENDER)
            writer.add_outcome(StopOutcome(row, status, phone="12062000001", sender_code=SENDER))  # type: ignore[arg-type]
    lines = [
        json.loads(line)
        for line in folder.child(writer.attempt_name).read_bytes((), writer.parts[0]).splitlines()
    ]
    assert [(line["status"], line["earlier_try_cut_short"]) for line in lines] == [
        ("stopped", None),
        ("not_subscribed", 1),
    ]
