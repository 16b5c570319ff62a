"""storage.Location: one type for source files and receipts folders, local or on object storage."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from whatcounts_provider.exceptions import WhatCountsInputError, WhatCountsSourceError
from whatcounts_provider.storage import Location, comparable, safe_uri


def test_a_path_and_its_file_uri_are_the_same_location(tmp_path: Path) -> None:
    assert Location.of(str(tmp_path)) == Location.of(f"file://{tmp_path}") == Location.of(tmp_path)
    assert Location.of(str(tmp_path)).uri == f"file://{tmp_path}"


def test_a_file_uri_is_decoded_and_an_old_receipts_uri_still_reads_back(tmp_path: Path) -> None:
    assert Location.of(f"file://{tmp_path}/a%20b.csv", decode=True).name == "a b.csv"
    assert Location.of(f"file://{tmp_path}/run_id=x%3Ay").name == "run_id=x:y"
    # Receipts URIs handed out before layout 2 held a folder's "%3A" as it is: when only that
    # folder exists, the URI names it.
    (tmp_path / "run_id=x%3Ay").mkdir()
    assert Location.of(f"file://{tmp_path}/run_id=x%3Ay").name == "run_id=x%3Ay"
    assert Location.of(f"file://{tmp_path}/run_id=x%3Ay", decode=True).name == "run_id=x:y"


def test_the_uri_of_a_local_location_unquotes_to_its_path(tmp_path: Path) -> None:
    folder = Location.of(tmp_path / "50%off" / "run_id=a:b+c")
    assert folder.uri == f"file://{tmp_path}/50%25off/run_id=a:b+c"
    assert unquote(folder.uri) == f"file://{tmp_path}/50%off/run_id=a:b+c"
    assert Location.of(folder.uri) == folder


@pytest.mark.parametrize("name", ["receipts#2", "what?", "two words", "caf\u00e9", "a;b,c@d=e"])
def test_a_uri_parser_sees_the_whole_local_path(tmp_path: Path, name: str) -> None:
    """A '#' or '?' left as it is would start a fragment or a query: the path would end there."""
    folder = Location.of(tmp_path / name / "run_id=a:b+c")
    assert urlsplit(folder.uri).path.endswith("/run_id=a:b+c")
    assert unquote(urlsplit(folder.uri).path) == f"{tmp_path}/{name}/run_id=a:b+c"
    assert Location.of(folder.uri) == folder


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


# Airflow 3.x's ObjectStoragePath refuses an unknown scheme when built; 2.11's takes any scheme and
# fails on first use (where the inputs module raises the source's error: tests/inputs).


@pytest.fixture
def refusing_object_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    """ObjectStoragePath refuses an unknown scheme when it is built, as Airflow 3.2+ does (older
    releases refuse it on first use instead; the error path must hold on every lane)."""
    from whatcounts_provider import _compat

    def refuse(uri: str) -> None:
        raise ValueError(f"Unsupported filesystem: '{uri.split(':', 1)[0]}'")

    monkeypatch.setattr(_compat, "ObjectStoragePath", refuse, raising=False)


@pytest.fixture(params=["local", "s3"])
def empty_folder(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    """A folder that does not exist yet, on the local disk or on the loopback S3 server."""
    if request.param == "local":
        return Location.of(tmp_path / "folder")
    return Location.of(request.getfixturevalue("s3_location"))


def test_a_path_is_made_absolute_and_home_is_expanded(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert Location.of("r.csv") == Location.of(tmp_path / "r.csv")
    assert Location.of("~/r.csv").uri == f"file://{Path.home()}/r.csv"
    assert Location.of(f"file://localhost{tmp_path}/r.csv") == Location.of(tmp_path / "r.csv")


def test_a_location_and_an_object_storage_path_are_taken_as_they_are(
    tmp_path: Path, s3_location: str
) -> None:
    local = Location.of(tmp_path / "a b")
    assert Location.of(local) is local
    assert Location.of(local.object_storage_path()) == local
    remote = Location.of(s3_location)
    assert Location.of(remote.object_storage_path()) == remote
    assert (local.is_local, remote.is_local) == (True, False)


def test_a_child_has_no_shown_form_and_is_displayed_as_its_uri(tmp_path: Path) -> None:
    folder = Location.of(f"file://{tmp_path}")
    child = folder.child("a", "b.jsonl")
    assert child.display == child.uri == f"file://{tmp_path}/a/b.jsonl"
    assert child.name == "b.jsonl"


@pytest.mark.parametrize("bad", ["", "a/b", ".", ".."])
def test_a_child_name_is_one_path_segment(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="is not a folder or file name"):
        Location.of(tmp_path).child(bad)


def test_a_backend_message_is_scrubbed_of_the_written_uri() -> None:
    secret = "s3://key:hunter2@bucket/replies.csv"
    scrubbed = Location.of(secret).scrub(f"cannot read {secret}: denied")
    assert scrubbed == "cannot read s3://key:***@bucket/replies.csv: denied"


def test_a_local_file_uri_compares_as_its_path() -> None:
    assert comparable("file:///data/r.csv") == comparable("file://localhost/data/r.csv") == "/data/r.csv"
    assert comparable("/data/r.csv") == "/data/r.csv"
    assert safe_uri("/data/a:b.csv") == "/data/a:b.csv"


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


@pytest.mark.usefixtures("refusing_object_storage")
def test_an_unknown_file_system_raises_the_callers_error() -> None:
    with pytest.raises(WhatCountsSourceError, match=r"source nosuchfs://b/x cannot be opened"):
        Location.of(
            "nosuchfs://b/x",
            what="source",
            unreachable=lambda message, uri: WhatCountsSourceError(message, uri=uri),
        )


@pytest.mark.parametrize("bad", ["", "   ", "file://otherhost/x"])
def test_bad_locations_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="receipts_path"):
        Location.of(bad, what="receipts_path")


def test_a_location_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(TypeError, match="receipts_path must be"):
        Location.of(42, what="receipts_path")


@pytest.mark.usefixtures("refusing_object_storage")
def test_an_unknown_file_system_is_an_input_error_by_default() -> None:
    with pytest.raises(WhatCountsInputError, match=r"receipts_path nosuchfs://b/x cannot be used"):
        Location.of("nosuchfs://b/x", what="receipts_path")


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


def test_a_failed_put_leaves_no_temporary_file(tmp_path: Path) -> None:
    folder = Location.of(tmp_path)
    (tmp_path / "taken").mkdir()  # a folder where the file should go: the final rename fails
    with pytest.raises(IsADirectoryError):
        folder.put("taken", b"data")
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


def test_put_replaces_an_existing_file_whole(tmp_path: Path) -> None:
    folder = Location.of(tmp_path)
    folder.put("summary.json", b"old and longer")
    folder.put("summary.json", b"new")
    assert folder.child("summary.json").read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_files_are_listed_depth_first_in_name_order(empty_folder: Location) -> None:
    for rel, name in [(("c",), "x"), (("a", "b"), "y"), ((), "b.csv"), (("a",), "z"), ((), "a.csv")]:
        empty_folder.child(*rel).put(name, name.encode())
    assert list(empty_folder.files()) == [
        ((), "a.csv"),
        ((), "b.csv"),
        (("a",), "z"),
        (("a", "b"), "y"),
        (("c",), "x"),
    ]
    assert empty_folder.read_bytes(("a", "b"), "y") == b"y"
    assert empty_folder.child("a", "b", "y").read_bytes() == b"y"
    with empty_folder.child("c", "x").open() as handle:
        assert handle.read() == b"x"


def test_a_listing_is_streamed_one_folder_at_a_time(empty_folder: Location) -> None:
    """A folder of years of receipts is never listed whole: the first file comes before the
    last folder is read, so a file put there in between is still listed."""
    empty_folder.child("a").put("first", b"1")
    empty_folder.child("z").put("old", b"2")
    listing = empty_folder.files()
    assert next(listing) == (("a",), "first")
    empty_folder.child("z").put("new", b"3")
    assert list(listing) == [(("z",), "new"), (("z",), "old")]
