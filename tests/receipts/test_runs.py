"""Which earlier tries a new try may resume from: only those of its own DAG run."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from whatcounts_provider.receipts.runs import MARKER_NAME, RunStamp, lineage_of, marker_bytes, read_markers
from whatcounts_provider.storage import Location

DUE = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
STARTED = datetime(2026, 12, 1, 9, 0, 5, tzinfo=timezone.utc)
RUN = RunStamp(
    run_after=DUE.isoformat(), logical_date=DUE.isoformat(), dag_version="v1", started=STARTED.isoformat()
)


def test_the_stamp_reads_3x_and_2_11_contexts():
    dag_run_3 = SimpleNamespace(run_after=DUE, logical_date=DUE, start_date=STARTED, clear_number=2)
    stamp = RunStamp.of(dag_run_3, SimpleNamespace(dag_version_id="0193-uuid"))
    assert stamp == RunStamp(DUE.isoformat(), DUE.isoformat(), None, "0193-uuid", STARTED.isoformat(), 2)
    dag_run_2 = SimpleNamespace(logical_date=DUE, start_date=STARTED, id=41)  # 2.11: a row id, no clears
    assert RunStamp.of(dag_run_2) == RunStamp(None, DUE.isoformat(), "41", None, STARTED.isoformat(), 0)
    assert RunStamp.of(None) == RunStamp()


def test_a_clear_number_that_is_not_a_number_counts_as_never_cleared():
    """A context stand-in (a mock, an older DagRun) may carry anything there."""
    dag_run = SimpleNamespace(logical_date=DUE, start_date=STARTED, clear_number=None)
    assert RunStamp.of(dag_run).clear_number == 0


@pytest.mark.parametrize(
    ("earlier", "same"),
    [
        (RUN, True),  # a retry: same start date and clear number
        (replace(RUN, started="2026-11-30T00:00:00+00:00"), False),  # same dates, another start: not a retry
        (replace(RUN, clear_number=-1, started="2026-11-30T00:00:00+00:00"), True),  # before a clear
        (replace(RUN, clear_number=1), False),  # cleared more often than this try's run
        (replace(RUN, logical_date="2026-11-30T09:00:00+00:00"), False),
        (replace(RUN, run_after="2026-11-30T09:00:00+00:00"), False),  # another run under the same id
        (replace(RUN, dag_version="v0"), False),
        (replace(RUN, dag_run_row="7"), False),
    ],
    ids=[
        "retry",
        "restarted",
        "cleared",
        "cleared-later",
        "other-logical-date",
        "other-run",
        "other-version",
        "other-row",
    ],
)
def test_same_run_as(earlier: RunStamp, same: bool):
    assert RUN.same_run_as(earlier) is same


def write_marker(
    folder: Location, name: str, try_number: int, run: RunStamp, started: str, lineage: str
) -> None:
    folder.child(name).put(MARKER_NAME, marker_bytes(try_number, run, started, lineage))


def test_a_retry_inherits_the_latest_try_of_its_run_and_trusts_its_whole_lineage(tmp_path):
    folder = Location.of(tmp_path)
    other_run = replace(RUN, run_after="2026-11-01T09:00:00+00:00")
    write_marker(folder, "try=001-a", 1, other_run, "2026-11-01T09:00:00Z", "old")
    write_marker(folder, "try=001-b", 1, RUN, "2026-12-01T09:00:06Z", "mine")
    write_marker(folder, "try=002-c", 2, RUN, "2026-12-01T09:10:00Z", "mine")

    lineage = lineage_of(folder, 3, RUN)

    assert (lineage.token, lineage.trusted) == ("mine", frozenset({"try=001-b", "try=002-c"}))
    assert lineage_of(folder, 1, RUN).trusted == frozenset()  # try 1 never inherits
    fresh = lineage_of(folder, 2, replace(RUN, run_after="2027-01-01T00:00:00+00:00"))
    assert (fresh.trusted, fresh.token not in ("mine", "old")) == (frozenset(), True)
    assert lineage.previous == "try=002-c"


def test_every_try_follows_the_latest_started_try_in_the_chain_of_any_lineage(tmp_path):
    folder = Location.of(tmp_path)
    write_marker(folder, "try=001-a", 1, RUN, "2026-12-01T09:00:06Z", "first")
    write_marker(folder, "try=002-b", 2, RUN, "2026-12-01T09:20:00Z", "first")
    other = replace(RUN, dag_version="v9")  # a new DAG version: nothing earlier can be trusted

    lineage = lineage_of(folder, 3, other)

    assert (lineage.trusted, lineage.previous) == (frozenset(), "try=002-b")
    # A new DAG run under a reused run id starts at try 1: it trusts nothing, and still follows.
    assert lineage_of(folder, 1, replace(RUN, run_after="2027-01-01T00:00:00+00:00")).previous == "try=002-b"
    assert lineage_of(Location.of(tmp_path / "empty"), 1, RUN).previous is None


def test_unreadable_markers_are_never_trusted(tmp_path):
    folder = Location.of(tmp_path)
    folder.child("try=001-x").put(MARKER_NAME, b"{not json")
    folder.child("try=001-y").put(MARKER_NAME, b'{"try_number": 1}')
    write_marker(folder, "try=001-z", 1, RUN, "2026-12-01T09:00:06Z", "mine")
    assert [marker.folder for marker in read_markers(folder)] == ["try=001-z"]


def test_the_latest_started_candidate_decides_and_other_lineages_are_not_trusted(tmp_path):
    folder = Location.of(tmp_path)
    write_marker(folder, "try=001-a", 1, RUN, "2026-12-01T09:00:06Z", "first")
    write_marker(folder, "try=002-b", 2, RUN, "2026-12-01T09:20:00Z", "second")
    write_marker(folder, "try=003-c", 3, RUN, "2026-12-01T09:30:00Z", "third")  # not earlier than try 3

    lineage = lineage_of(folder, 3, RUN)

    assert (lineage.token, lineage.trusted) == ("second", frozenset({"try=002-b"}))


def test_only_markers_directly_in_a_try_folder_are_read(tmp_path):
    folder = Location.of(tmp_path)
    folder.put(MARKER_NAME, marker_bytes(1, RUN, "2026-12-01T09:00:06Z", "top"))
    folder.child("try=001-a", "nested").put(MARKER_NAME, marker_bytes(1, RUN, "2026-12-01T09:00:06Z", "deep"))
    folder.child("try=001-b").put("part-1.jsonl", b"{}")
    assert list(read_markers(folder)) == []


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2]",
        b"null",
        json.dumps({"try_number": "one", "started_at": "x", "lineage": "l", "run": asdict(RUN)}).encode(),
        json.dumps({"try_number": 1, "started_at": "x", "lineage": "l", "run": {"colour": "red"}}).encode(),
        json.dumps({"try_number": 1, "started_at": "x", "lineage": "l", "run": "v1"}).encode(),
        b"\xff\xfe",
    ],
    ids=["list", "null", "bad-try-number", "unknown-run-field", "run-not-an-object", "not-utf8"],
)
def test_markers_of_another_shape_are_skipped(tmp_path, body: bytes):
    folder = Location.of(tmp_path)
    folder.child("try=001-x").put(MARKER_NAME, body)
    assert list(read_markers(folder)) == []
    assert lineage_of(folder, 2, RUN).trusted == frozenset()


def test_a_marker_with_a_mistyped_clear_number_is_skipped_not_a_crash(tmp_path):
    folder = Location.of(tmp_path)
    body = {"try_number": 1, "started_at": "x", "lineage": "l", "run": {**asdict(RUN), "clear_number": "0"}}
    folder.child("try=001-x").put(MARKER_NAME, json.dumps(body).encode())
    assert lineage_of(folder, 2, RUN).trusted == frozenset()
