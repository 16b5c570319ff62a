"""find_receipts: one phone's receipts across runs and tries, reading only the parts that hold it."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.receipts.support import START, FakeUtcClock
from whatcounts_provider.exceptions import InvalidPhoneNumberError
from whatcounts_provider.receipts import ReceiptWriter, TaskIdentity, find_receipts, task_instance_folder
from whatcounts_provider.receipts.find import ReceiptsFolder, index_missing, receipt_folders
from whatcounts_provider.receipts.index import INDEX_NAME
from whatcounts_provider.storage import Location

if TYPE_CHECKING:
    from pathlib import Path

SENDER, OTHER = "2065551212", "22222"
PHONE = "12062000007"


def write_run(root: Any, run: int, *, per_part: int = 10, count: int = 50, code: str = SENDER) -> None:
    identity = TaskIdentity("opt_out", f"manual__2026-11-2{run}T16:00:00+00:00", "stop", -1, 1)
    clock = FakeUtcClock(START + timedelta(days=run))
    with ReceiptWriter(
        task_instance_folder(root, identity), identity, clock=clock, background=False, max_receipts=per_part
    ) as writer:
        for row in range(1, count + 1):
            phone = f"1206{2_000_000 + row}"
            writer.add({"row": row, "input": phone, "phone": phone, "sender_code": code, "status": "stopped"})


def test_every_receipt_of_a_phone_across_runs_in_time_order(location: str) -> None:
    write_run(location, 3)
    write_run(location, 1, code=OTHER)
    write_run(location, 2)

    found = list(find_receipts(location, "(206) 200-0007"))

    assert [(r["run_id"][8:18], r["sender_code"]) for r in found] == [
        ("2026-11-21", OTHER),
        ("2026-11-22", SENDER),
        ("2026-11-23", SENDER),
    ]
    assert {r["phone"] for r in found} == {PHONE}
    assert [r["run_id"] for r in find_receipts(location, "+1 206-200-0007", OTHER)] == [found[0]["run_id"]]
    assert list(find_receipts(location, "2062009999")) == []


def test_the_index_means_only_the_part_holding_the_phone_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_run(tmp_path, 1, per_part=10, count=100)  # 10 parts
    reads = count_part_reads(monkeypatch)

    assert len(list(find_receipts(tmp_path, PHONE))) == 1
    assert len(reads) == 1


def test_without_an_index_every_part_is_read_and_the_index_command_adds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_run(tmp_path, 1, per_part=10, count=100)
    (index,) = tmp_path.rglob(INDEX_NAME)
    index.unlink()  # as a folder written before the index, or by a try that was killed
    reads = count_part_reads(monkeypatch)

    assert len(list(find_receipts(tmp_path, PHONE))) == 1
    assert len(reads) == 10

    assert [parts for _, parts in index_missing(tmp_path)] == [10]
    assert list(index_missing(tmp_path)) == [], "a second run indexes nothing"
    reads.clear()
    assert len(list(find_receipts(tmp_path, PHONE))) == 1
    assert len(reads) == 1


def test_a_part_the_index_does_not_list_is_read_whole(tmp_path: Path) -> None:
    write_run(tmp_path, 1, count=20)
    (folder,) = list(receipt_folders(tmp_path))
    later = folder.root.read_bytes(folder.rel, folder.parts[0]).replace(b"12062000001", b"12062000777")
    folder.location.put("part-999-later.jsonl", later)

    assert [r["row"] for r in find_receipts(tmp_path, "12062000777")] == [1]


def test_an_unreadable_index_is_skipped_with_a_warning_and_its_folder_scanned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_run(tmp_path, 1, count=20)
    (index,) = tmp_path.rglob(INDEX_NAME)
    index.write_bytes(b"garbage")

    assert len(list(find_receipts(tmp_path, PHONE))) == 1
    assert "is not a phone index" in caplog.text
    assert PHONE not in caplog.text


def test_an_unreadable_phone_fails_before_anything_is_read(tmp_path: Path) -> None:
    with pytest.raises(InvalidPhoneNumberError):
        find_receipts(tmp_path, "call me")


def test_a_folder_knows_its_task_instance(tmp_path: Path) -> None:
    write_run(tmp_path, 1, count=1)
    (folder,) = list(receipt_folders(tmp_path))
    assert isinstance(folder, ReceiptsFolder)
    assert folder.task_instance == Location.of(tmp_path).child(*folder.rel[:-1])


def count_part_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    real = ReceiptsFolder.read_part

    def read_part(self: ReceiptsFolder, name: str, skipped: Any = None) -> Any:
        reads.append(name)
        return real(self, name, skipped)

    monkeypatch.setattr(ReceiptsFolder, "read_part", read_part)
    return reads
