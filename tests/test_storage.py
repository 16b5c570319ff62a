"""storage.Location: one type for source files and receipts folders, local or on object storage."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from whatcounts_provider.exceptions import WhatCountsInputError, WhatCountsSourceError
from whatcounts_provider.storage import Location, comparable, safe_uri

if TYPE_CHECKING:
    from pathlib import Path


def test_a_path_and_its_file_uri_are_the_same_location(tmp_path: Path) -> None:
    assert Location.of(str(tmp_path)) == Location.of(f"file://{tmp_path}") == Location.of(tmp_path)
    assert Location.of(str(tmp_path)).uri == f"file://{tmp_path}"


def test_a_source_uri_is_decoded_but_a_receipts_uri_reads_back_as_handed_out(tmp_path: Path) -> None:
    assert Location.of(f"file://{tmp_path}/a%20b.csv", decode=True).name == "a b.csv"
    assert Location.of(f"file://{tmp_path}/run_id=x%3Ay").name == "run_id=x%3Ay"


def test_credentials_never_show(s3_location: str) -> None:
    secret = "s3://key:hunter2@bucket/replies.csv?token=hunter2"
    assert safe_uri(secret) == "s3://key:***@bucket/replies.csv?***"
    assert comparable(secret) == comparable("s3://key:other@bucket/replies.csv?token=x")
    assert "hunter2" not in Location.of(secret).display


def test_the_namespace_and_name_split_for_lineage(tmp_path: Path, s3_location: str) -> None:
    local = Location.of(tmp_path / "r.csv")
    assert (local.namespace, local.dataset_name) == ("file", f"{tmp_path}/r.csv")
    remote = Location.of(f"{s3_location}/r.csv")
    bucket, key = s3_location.split("@", 1)[1].split("/", 1)
    assert (remote.namespace, remote.dataset_name) == (f"s3://{bucket}", f"{key}/r.csv")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "receipts_path is empty"),
        ("file://elsewhere/x", "names host 'elsewhere'"),
        (42, "must be a path"),
    ],
)
def test_bad_values_name_the_argument(value: object, message: str) -> None:
    with pytest.raises(WhatCountsInputError, match=message):
        Location.of(value, what="receipts_path")


def test_an_unknown_file_system_raises_the_callers_error() -> None:
    with pytest.raises(WhatCountsSourceError, match=r"source nosuchfs://b/x cannot be opened"):
        Location.of(
            "nosuchfs://b/x",
            what="source",
            unreachable=lambda message, uri: WhatCountsSourceError(message, uri=uri),
        )


def test_put_writes_whole_files_and_files_lists_them_in_order(tmp_path: Path) -> None:
    folder = Location.of(tmp_path / "receipts")
    folder.child("b").put("2.jsonl", b"two")
    folder.child("a").put("1.jsonl", b"one")
    folder.put("top.json", b"{}")
    assert list(folder.files()) == [((), "top.json"), (("a",), "1.jsonl"), (("b",), "2.jsonl")]
    assert folder.read_bytes(("a",), "1.jsonl") == b"one"
    assert sorted(p.name for p in (tmp_path / "receipts").rglob("*") if p.is_file()) == [
        "1.jsonl",
        "2.jsonl",
        "top.json",
    ]


def test_a_missing_folder_has_no_files(tmp_path: Path, s3_location: str) -> None:
    assert list(Location.of(tmp_path / "nothing").files()) == []
    assert list(Location.of(f"{s3_location}/nothing").files()) == []


def test_a_remote_listing_sees_what_was_written_after_it(s3_location: str) -> None:
    """Resume and crash tests poll a folder another process writes: no stale listing."""
    folder = Location.of(s3_location)
    folder.child("try").put("part-1.jsonl", b"1")
    assert [name for _, name in folder.files()] == ["part-1.jsonl"]
    Location.of(s3_location).child("try").put("part-2.jsonl", b"2")
    assert [name for _, name in folder.files()] == ["part-1.jsonl", "part-2.jsonl"]
    assert folder.read_bytes(("try",), "part-2.jsonl") == b"2"
