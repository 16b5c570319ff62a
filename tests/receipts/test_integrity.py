"""verify: parts, indexes and the chain of tries as their tries wrote them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.receipts.support import FakeUtcClock
from whatcounts_provider.receipts import ReceiptWriter, TaskIdentity, task_instance_folder
from whatcounts_provider.receipts.chain import link_to, try_files
from whatcounts_provider.receipts.integrity import verify_receipts

if TYPE_CHECKING:
    from pathlib import Path

SENDER = "2065551212"


def write_try(root: Path, try_number: int, *, previous: str | None = None, finish: bool = True) -> Path:
    identity = TaskIdentity("opt_out", "manual__2026-11-25T16:00:00+00:00", "stop", -1, try_number)
    folder = task_instance_folder(root, identity)
    link = link_to(folder, previous, try_files(folder))
    writer = ReceiptWriter(
        folder, identity, clock=FakeUtcClock(), background=False, max_receipts=5, previous=link
    )
    for row in range(1, 13):
        phone = f"1206{2_000_000 + row}"
        writer.add({"row": row, "input": phone, "phone": phone, "sender_code": SENDER, "status": "stopped"})
    writer.flush()
    if finish:
        writer.close()
    (attempt,) = root.rglob(writer.attempt_name)
    return attempt


def kinds(root: Path) -> list[str]:
    result = verify_receipts(root)
    return sorted(finding.kind for finding in result.problems)


def test_untouched_receipts_are_intact(tmp_path: Path) -> None:
    first = write_try(tmp_path, 1)
    write_try(tmp_path, 2, previous=first.name)
    result = verify_receipts(tmp_path)
    assert (result.ok, result.tries, result.parts, result.notes) == (True, 2, 6, [])


def test_a_modified_part_is_found(tmp_path: Path) -> None:
    attempt = write_try(tmp_path, 1)
    part = sorted(attempt.glob("part-*"))[0]
    part.write_text(part.read_text().replace('"stopped"', '"failed"'))
    result = verify_receipts(tmp_path)
    assert kinds(tmp_path) == ["modified"]
    assert result.problems[0].where.endswith(part.name)


def test_a_missing_part_and_a_part_added_afterwards_are_found(tmp_path: Path) -> None:
    attempt = write_try(tmp_path, 1)
    parts = sorted(attempt.glob("part-*"))
    parts[0].rename(attempt / "part-001-added-later.jsonl")
    assert kinds(tmp_path) == ["added", "missing"]


def test_a_part_put_outside_any_try_folder_is_found_added(tmp_path: Path) -> None:
    """find reads every part under the root, so verify must account for every part too."""
    attempt = write_try(tmp_path, 1)
    planted = attempt.parent / "part-999-planted.jsonl"
    planted.write_text((sorted(attempt.glob("part-*"))[0]).read_text())
    result = verify_receipts(tmp_path)
    assert [(f.kind, f.where.rsplit("/", 1)[-1]) for f in result.problems] == [("added", planted.name)]
    assert result.parts == 4


def test_a_modified_or_missing_index_is_found(tmp_path: Path) -> None:
    attempt = write_try(tmp_path, 1)
    (attempt / "phones.idx").write_bytes((attempt / "phones.idx").read_bytes() + b"x")
    assert kinds(tmp_path) == ["modified"]
    (attempt / "phones.idx").unlink()
    assert kinds(tmp_path) == ["missing"]


def test_a_changed_or_deleted_earlier_summary_breaks_the_chain(tmp_path: Path) -> None:
    first = write_try(tmp_path, 1)
    write_try(tmp_path, 2, previous=first.name)
    summary = first / "summary.json"
    body = json.loads(summary.read_text())
    body["by_status"] = {"stopped": 0}
    summary.write_text(json.dumps(body))
    assert kinds(tmp_path) == ["broken_chain"]
    summary.unlink()
    assert kinds(tmp_path) == ["broken_chain"]


def test_a_deleted_earlier_try_breaks_the_chain(tmp_path: Path) -> None:
    first = write_try(tmp_path, 1)
    write_try(tmp_path, 2, previous=first.name)
    for path in first.iterdir():
        path.unlink()
    first.rmdir()
    result = verify_receipts(tmp_path)
    assert [f.kind for f in result.problems] == ["broken_chain"]
    assert first.name in result.problems[0].detail


def test_a_killed_try_is_noted_until_the_next_try_covers_it(tmp_path: Path) -> None:
    killed = write_try(tmp_path, 1, finish=False)
    result = verify_receipts(tmp_path)
    assert (result.ok, [n.kind for n in result.notes]) == (True, ["unfinished"])

    write_try(tmp_path, 2, previous=killed.name)
    assert verify_receipts(tmp_path).notes == []
    part = sorted(killed.glob("part-*"))[0]
    part.write_bytes(part.read_bytes().replace(b"stopped", b"failed!"))
    result = verify_receipts(tmp_path)
    assert [f.kind for f in result.problems] == ["modified"]
    assert "the next try's link" in result.problems[0].detail


def test_one_try_folder_can_be_verified_on_its_own(tmp_path: Path) -> None:
    first = write_try(tmp_path, 1)
    second = write_try(tmp_path, 2, previous=first.name)
    result = verify_receipts(second)
    assert (result.ok, result.tries) == (True, 1)
