"""Reading receipts back: torn lines, foreign files, whole runs, and the resume pair set."""

from __future__ import annotations

import gzip
import json
import logging
from typing import Any

import pytest

from tests.receipts.support import IDENTITY, SENDER, FakeUtcClock, stop_fields
from whatcounts_provider.receipts import (
    ReceiptWriter,
    TaskIdentity,
    completed_pairs,
    iter_receipts,
    task_instance_folder,
)


def write(location: Any, identity: TaskIdentity, fields: list[dict[str, Any]], **kwargs: Any) -> None:
    folder = task_instance_folder(location, identity)
    with ReceiptWriter(folder, identity, background=False, clock=FakeUtcClock(), **kwargs) as writer:
        for item in fields:
            writer.add(item)


def test_a_torn_last_line_in_a_local_part_is_skipped(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path, IDENTITY, [stop_fields(1), stop_fields(2)])
    (part,) = tmp_path.rglob("part-*.jsonl")
    whole = part.read_bytes()
    part.write_bytes(whole + whole.splitlines(keepends=True)[0][:25])  # a copy cut mid-line
    with caplog.at_level(logging.WARNING):
        rows = [r["row"] for r in iter_receipts(tmp_path)]
    assert rows == [1, 2]
    assert f"torn last line 3 of receipts part file://{part}" in caplog.text
    assert "1206" not in caplog.text  # the log names the file, never a phone


def test_a_bad_line_before_the_end_is_an_error_naming_the_file(tmp_path: Any) -> None:
    write(tmp_path, IDENTITY, [stop_fields(1), stop_fields(2)])
    (part,) = tmp_path.rglob("part-*.jsonl")
    lines = part.read_bytes().splitlines(keepends=True)
    part.write_bytes(b"{not json\n" + lines[1])
    with pytest.raises(ValueError, match=rf"{part.name}: line 1 is not JSON"):
        list(iter_receipts(tmp_path))


def test_a_truncated_gzip_part_yields_its_whole_lines(tmp_path: Any) -> None:
    write(tmp_path, IDENTITY, [stop_fields(row) for row in range(1, 201)], compress=True)
    (part,) = tmp_path.rglob("part-*.jsonl.gz")
    data = part.read_bytes()
    part.write_bytes(data[: len(data) * 3 // 4])
    rows = [r["row"] for r in iter_receipts(tmp_path)]
    assert 0 < len(rows) < 200
    assert rows == list(range(1, len(rows) + 1))


def test_only_part_files_are_read(tmp_path: Any) -> None:
    write(tmp_path, IDENTITY, [stop_fields(1)])
    folder = next(tmp_path.rglob("part-*.jsonl")).parent
    (folder / ".part-000-x.jsonl.1a2b.tmp").write_text('{"row": 99}\n{"ro')  # a write cut by a kill
    (folder / "notes.jsonl").write_text('{"row": 98}\n')
    (folder / "part-readme.txt").write_text("not receipts")
    assert [r["row"] for r in iter_receipts(tmp_path)] == [1]


def test_a_missing_folder_has_no_receipts(tmp_path: Any) -> None:
    assert list(iter_receipts(tmp_path / "never-written")) == []
    assert completed_pairs(task_instance_folder(tmp_path, IDENTITY)) == set()


def test_a_run_folder_holds_every_task_instance(location: str) -> None:
    identities = [
        TaskIdentity("opt_out", "scheduled__2026-11-25T00:00:00+00:00", "chunk", index, 1)
        for index in range(3)
    ]
    other_run = TaskIdentity("opt_out", "manual__2026-11-26T00:00:00+00:00", "chunk", 0, 1)
    for number, identity in enumerate([*identities, other_run]):
        write(location, identity, [stop_fields(number)])
    run_folder = task_instance_folder(location, identities[0]).uri.rsplit("/", 2)[0]
    receipts = list(iter_receipts(run_folder))
    assert sorted(r["map_index"] for r in receipts) == [0, 1, 2]
    assert {r["run_id"] for r in receipts} == {identities[0].run_id}
    dag_folder = run_folder.rsplit("/", 1)[0]
    assert len(list(iter_receipts(dag_folder))) == 4


def test_completed_pairs_span_every_try(location: str) -> None:
    def pair(row: int) -> tuple[str, str]:
        return (f"1206{2_000_000 + row}", SENDER)

    first = TaskIdentity(IDENTITY.dag_id, IDENTITY.run_id, IDENTITY.task_id, IDENTITY.map_index, 1)
    second = TaskIdentity(IDENTITY.dag_id, IDENTITY.run_id, IDENTITY.task_id, IDENTITY.map_index, 2)
    write(
        location,
        first,
        [
            stop_fields(1),
            stop_fields(2, status="failed", error="HTTP 503"),
            stop_fields(3, status="not_subscribed"),
            {"row": 4, "input": "abc", "status": "invalid", "error": "not a phone"},
            {**stop_fields(1), "row": 5, "status": "duplicate"},
            stop_fields(6, status="failed", error="timeout"),
        ],
    )
    folder = task_instance_folder(location, second)
    assert completed_pairs(folder) == {pair(1), pair(3)}
    write(location, second, [stop_fields(2, status="not_subscribed"), stop_fields(6, status="failed")])
    assert completed_pairs(folder) == {pair(1), pair(2), pair(3)}
    # Same pair under another sender code is another pair; another task instance is another folder.
    other_code = {**stop_fields(7), "sender_code": "55555"}
    write(location, second, [other_code, stop_fields(1, status="failed")])
    assert completed_pairs(folder) == {pair(1), pair(2), pair(3), (pair(7)[0], "55555")}
    sibling = TaskIdentity(IDENTITY.dag_id, IDENTITY.run_id, IDENTITY.task_id, IDENTITY.map_index + 1, 1)
    assert completed_pairs(task_instance_folder(location, sibling)) == set()


def test_receipts_are_plain_json_lines(tmp_path: Any) -> None:
    """An auditor needs no provider code: every part is JSON Lines (gzip optional)."""
    write(tmp_path, IDENTITY, [stop_fields(1)], compress=True)
    (part,) = tmp_path.rglob("part-*.jsonl.gz")
    (line,) = gzip.decompress(part.read_bytes()).decode().splitlines()
    assert json.loads(line)["phone"] == "12062000001"
