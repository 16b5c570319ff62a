"""The chain of tries: each summary links the try before it in its lineage."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from tests.receipts.support import IDENTITY, FakeUtcClock, stop_fields
from whatcounts_provider.receipts import ReceiptWriter, task_instance_folder
from whatcounts_provider.receipts.chain import cut_short, link_to, try_files, try_number_of

if TYPE_CHECKING:
    from pathlib import Path


def write_try(root: Path, try_number: int, *, finish: bool = True) -> str:
    identity = IDENTITY.__class__(IDENTITY.dag_id, IDENTITY.run_id, IDENTITY.task_id, 3, try_number)
    writer = ReceiptWriter(
        task_instance_folder(root, identity), identity, clock=FakeUtcClock(), background=False
    )
    writer.add(stop_fields(try_number))
    writer.flush()
    if finish:
        writer.close()
    return writer.attempt_name


def test_a_finished_try_is_linked_by_its_summary_digest(tmp_path: Path) -> None:
    name = write_try(tmp_path, 1)
    folder = task_instance_folder(tmp_path, IDENTITY)
    summary = folder.read_bytes((name,), "summary.json")
    assert link_to(folder, name, try_files(folder)) == {
        "try": name,
        "summary_sha256": hashlib.sha256(summary).hexdigest(),
    }
    assert link_to(folder, None, try_files(folder)) is None


def test_a_killed_try_is_covered_by_the_digests_of_the_parts_it_left(tmp_path: Path) -> None:
    name = write_try(tmp_path, 1, finish=False)
    folder = task_instance_folder(tmp_path, IDENTITY)
    files = try_files(folder)
    (part,) = [n for n in files[name] if n.startswith("part-")]
    link = link_to(folder, name, files)
    assert link == {
        "try": name,
        "summary_sha256": None,
        "part_sha256": {part: hashlib.sha256(folder.read_bytes((name,), part)).hexdigest()},
    }
    assert cut_short(frozenset({name}), files) == 1


def test_only_tries_without_a_summary_count_as_cut_short(tmp_path: Path) -> None:
    finished, killed = write_try(tmp_path, 1), write_try(tmp_path, 2, finish=False)
    files = try_files(task_instance_folder(tmp_path, IDENTITY))
    assert cut_short(frozenset({finished}), files) is None
    assert cut_short(frozenset({finished, killed}), files) == 2
    assert try_number_of(killed) == 2
    assert try_number_of("not-a-try") is None
